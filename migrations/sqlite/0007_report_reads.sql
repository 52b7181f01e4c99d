-- Cheaper raw reads for /stats (see src/store/reports.rs).
--
-- In-window timing needs every relay of the window with its post's arrival
-- time. Each relay now carries that time itself (`received_at`, filled by
-- the trigger below, so writers need not know), and one covering index
-- answers the read without joining posts to relays for each of them.
ALTER TABLE relays ADD COLUMN received_at INTEGER;
UPDATE relays SET received_at = (SELECT received_at FROM posts WHERE posts.id = relays.post_id);
CREATE INDEX relays_org_received ON relays (org, received_at, state, state_at);

CREATE TRIGGER relays_received_at AFTER INSERT ON relays
WHEN NEW.received_at IS NULL
BEGIN
    UPDATE relays SET received_at = (SELECT received_at FROM posts WHERE id = NEW.post_id)
     WHERE id = NEW.id;
END;

-- Repeat offenders group a window's posts by author: cover those columns
-- so the read never visits the posts table. It serves every read the
-- narrower (org, received_at) index did.
CREATE INDEX posts_org_received_author ON posts (org, received_at, platform, author_id, author_handle);
DROP INDEX posts_org_received;
