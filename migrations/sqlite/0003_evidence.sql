-- Evidence snapshots and per-action claims, SQLite flavour.
-- Keep column names and meanings identical to migrations/postgres/0003_evidence.sql.

-- An evidence snapshot taken before a hide, delete, block or police
-- escalation. `pack` is the canonical JSON text exactly as hashed; `sha256`
-- is the lowercase hex SHA-256 of its UTF-8 bytes. Snapshots are never
-- updated or deleted (triggers below); post_id has no foreign key so the
-- evidence outlives a purged post.
CREATE TABLE evidence (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    post_id     INTEGER NOT NULL,
    org         TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    actor_id    TEXT    NOT NULL,
    actor_name  TEXT    NOT NULL,
    reason      TEXT,
    captured_at INTEGER NOT NULL,
    pack        TEXT    NOT NULL,
    sha256      TEXT    NOT NULL
);
CREATE INDEX evidence_post ON evidence (post_id, id);

CREATE TRIGGER evidence_no_update BEFORE UPDATE ON evidence
BEGIN
    SELECT RAISE(ABORT, 'evidence is append-only');
END;

CREATE TRIGGER evidence_no_delete BEFORE DELETE ON evidence
BEGIN
    SELECT RAISE(ABORT, 'evidence is append-only');
END;

-- One row per (post, action) a team member started: the compare-and-set that
-- makes repeated or concurrent clicks act exactly once. `running` while the
-- platform call is in flight, `done` after success, `failed` after a failure
-- (which a later click may claim again).
CREATE TABLE action_claims (
    post_id    INTEGER NOT NULL,
    action     TEXT    NOT NULL,
    state      TEXT    NOT NULL CHECK (state IN ('running', 'done', 'failed')),
    actor_id   TEXT    NOT NULL,
    actor_name TEXT    NOT NULL,
    reason     TEXT,
    at         INTEGER NOT NULL,
    PRIMARY KEY (post_id, action)
);
