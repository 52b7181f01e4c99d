-- Evidence snapshots and per-action claims, PostgreSQL flavour.
-- Keep column names and meanings identical to migrations/sqlite/0003_evidence.sql.

-- An evidence snapshot taken before a hide, delete, block or police
-- escalation. `pack` is the canonical JSON text exactly as hashed; `sha256`
-- is the lowercase hex SHA-256 of its UTF-8 bytes. Snapshots are never
-- updated or deleted (trigger below); post_id has no foreign key so the
-- evidence outlives a purged post.
CREATE TABLE evidence (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    post_id     BIGINT NOT NULL,
    org         TEXT   NOT NULL,
    action      TEXT   NOT NULL,
    actor_id    TEXT   NOT NULL,
    actor_name  TEXT   NOT NULL,
    reason      TEXT,
    captured_at BIGINT NOT NULL,
    pack        TEXT   NOT NULL,
    sha256      TEXT   NOT NULL
);
CREATE INDEX evidence_post ON evidence (post_id, id);

CREATE FUNCTION evidence_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'evidence is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER evidence_no_change BEFORE UPDATE OR DELETE ON evidence
FOR EACH ROW EXECUTE FUNCTION evidence_append_only();

-- One row per (post, action) a team member started: the compare-and-set that
-- makes repeated or concurrent clicks act exactly once. `running` while the
-- platform call is in flight, `done` after success, `failed` after a failure
-- (which a later click may claim again).
CREATE TABLE action_claims (
    post_id    BIGINT NOT NULL,
    action     TEXT   NOT NULL,
    state      TEXT   NOT NULL CHECK (state IN ('running', 'done', 'failed')),
    actor_id   TEXT   NOT NULL,
    actor_name TEXT   NOT NULL,
    reason     TEXT,
    at         BIGINT NOT NULL,
    PRIMARY KEY (post_id, action)
);
