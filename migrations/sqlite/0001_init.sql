-- Signpost storage schema, SQLite flavour.
-- Keep column names and meanings identical to migrations/postgres/0001_init.sql.
-- Times are INTEGER milliseconds since the Unix epoch (UTC); flags are 0/1;
-- JSON is stored as TEXT.

CREATE TABLE posts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    platform      TEXT    NOT NULL,
    external_id   TEXT    NOT NULL,
    org           TEXT    NOT NULL,
    account       TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    author_id     TEXT    NOT NULL,
    author_handle TEXT    NOT NULL,
    text          TEXT    NOT NULL,
    url           TEXT,
    created_at    INTEGER NOT NULL,
    received_at   INTEGER NOT NULL,
    raw           TEXT,
    UNIQUE (platform, external_id)
);
CREATE INDEX posts_author_created ON posts (platform, author_id, created_at);
CREATE INDEX posts_org_received ON posts (org, received_at);

CREATE TABLE classifications (
    post_id       INTEGER PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    categories    TEXT    NOT NULL,
    rules         TEXT    NOT NULL,
    severity      TEXT    NOT NULL,
    flagged       INTEGER NOT NULL CHECK (flagged IN (0, 1)),
    classified_at INTEGER NOT NULL
);

CREATE TABLE relays (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    post_id       INTEGER NOT NULL UNIQUE REFERENCES posts (id) ON DELETE CASCADE,
    org           TEXT    NOT NULL,
    channel_id    TEXT,
    message_id    TEXT,
    state         TEXT    NOT NULL CHECK (state IN ('pending', 'open', 'actioned', 'dismissed')),
    state_by_id   TEXT,
    state_by_name TEXT,
    state_at      INTEGER,
    state_reason  TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX relays_org_state ON relays (org, state);

CREATE TABLE authors (
    platform   TEXT    NOT NULL,
    author_id  TEXT    NOT NULL,
    handle     TEXT    NOT NULL,
    strikes    INTEGER NOT NULL DEFAULT 0,
    blocked    INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1)),
    blocked_at INTEGER,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    PRIMARY KEY (platform, author_id)
);

-- The audit log. Append-only: ids are assigned by the appender (previous id
-- + 1) under a write lock, and every row's hash chains to the previous row's.
-- post_id deliberately has no foreign key: the audit outlives purged posts.
CREATE TABLE actions (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    org        TEXT    NOT NULL,
    post_id    INTEGER,
    actor_id   TEXT    NOT NULL,
    actor_name TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    reason     TEXT,
    outcome    TEXT    NOT NULL,
    detail     TEXT,
    prev_hash  TEXT    NOT NULL,
    hash       TEXT    NOT NULL
);
CREATE INDEX actions_post ON actions (post_id, id);
CREATE INDEX actions_at ON actions (at, id);

CREATE TRIGGER actions_no_update BEFORE UPDATE ON actions
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
END;

CREATE TRIGGER actions_no_delete BEFORE DELETE ON actions
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
END;

CREATE TABLE auto_replies (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    post_id   INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    org       TEXT    NOT NULL,
    platform  TEXT    NOT NULL,
    author_id TEXT    NOT NULL,
    template  TEXT    NOT NULL,
    text      TEXT    NOT NULL,
    status    TEXT    NOT NULL CHECK (status IN ('sent', 'suppressed', 'queued')),
    reason    TEXT,
    at        INTEGER NOT NULL
);
CREATE INDEX auto_replies_author ON auto_replies (platform, author_id, status, at);
CREATE INDEX auto_replies_post ON auto_replies (post_id);

CREATE TABLE hours_overrides (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    org        TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('open', 'closed')),
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL,
    actor_id   TEXT    NOT NULL,
    actor_name TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX hours_overrides_org_ends ON hours_overrides (org, ends_at);
CREATE INDEX hours_overrides_org_starts ON hours_overrides (org, starts_at);

CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT    NOT NULL,
    org          TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    dedupe_key   TEXT    UNIQUE,
    status       TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'dead')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
    run_after    INTEGER NOT NULL,
    locked_until INTEGER,
    last_error   TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
-- Claimable jobs, scanned in id (FIFO) order.
CREATE INDEX jobs_waiting ON jobs (id) WHERE status IN ('queued', 'failed');
-- Leases to expire.
CREATE INDEX jobs_running ON jobs (locked_until) WHERE status = 'running';
CREATE INDEX jobs_kind_status ON jobs (kind, status);
