-- Cheaper raw reads for /stats (see src/store/reports.rs).
--
-- In-window timing needs every relay of the window with its post's arrival
-- time. Each relay now carries that time itself (`received_at`, filled by
-- the trigger below, so writers need not know), and one covering index
-- answers the read without joining posts to relays for each of them.
ALTER TABLE relays ADD COLUMN received_at BIGINT;
UPDATE relays r SET received_at = p.received_at FROM posts p WHERE p.id = r.post_id;
CREATE INDEX relays_org_received ON relays (org, received_at, state, state_at);

CREATE FUNCTION signpost_relays_received_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.received_at IS NULL THEN
        SELECT p.received_at INTO NEW.received_at FROM posts p WHERE p.id = NEW.post_id;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER relays_received_at BEFORE INSERT ON relays
FOR EACH ROW EXECUTE FUNCTION signpost_relays_received_at();

-- Repeat offenders group a window's posts by author: cover those columns
-- so the read never visits the posts table. It serves every read the
-- narrower (org, received_at) index did.
CREATE INDEX posts_org_received_author ON posts (org, received_at, platform, author_id, author_handle);
DROP INDEX posts_org_received;
