-- Signpost storage schema, PostgreSQL flavour.
-- Keep column names and meanings identical to migrations/sqlite/0001_init.sql.
-- Times are BIGINT milliseconds since the Unix epoch (UTC); flags are INTEGER
-- 0/1; JSON is stored as TEXT (so the audit hash covers the exact bytes).

CREATE TABLE posts (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    platform      TEXT   NOT NULL,
    external_id   TEXT   NOT NULL,
    org           TEXT   NOT NULL,
    account       TEXT   NOT NULL,
    kind          TEXT   NOT NULL,
    author_id     TEXT   NOT NULL,
    author_handle TEXT   NOT NULL,
    text          TEXT   NOT NULL,
    url           TEXT,
    created_at    BIGINT NOT NULL,
    received_at   BIGINT NOT NULL,
    raw           TEXT,
    UNIQUE (platform, external_id)
);
CREATE INDEX posts_author_created ON posts (platform, author_id, created_at);
CREATE INDEX posts_org_received ON posts (org, received_at);

CREATE TABLE classifications (
    post_id       BIGINT  PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    categories    TEXT    NOT NULL,
    rules         TEXT    NOT NULL,
    severity      TEXT    NOT NULL,
    flagged       INTEGER NOT NULL CHECK (flagged IN (0, 1)),
    classified_at BIGINT  NOT NULL
);

CREATE TABLE relays (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    post_id       BIGINT NOT NULL UNIQUE REFERENCES posts (id) ON DELETE CASCADE,
    org           TEXT   NOT NULL,
    channel_id    TEXT,
    message_id    TEXT,
    state         TEXT   NOT NULL CHECK (state IN ('pending', 'open', 'actioned', 'dismissed')),
    state_by_id   TEXT,
    state_by_name TEXT,
    state_at      BIGINT,
    state_reason  TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX relays_org_state ON relays (org, state);

CREATE TABLE authors (
    platform   TEXT    NOT NULL,
    author_id  TEXT    NOT NULL,
    handle     TEXT    NOT NULL,
    strikes    BIGINT  NOT NULL DEFAULT 0,
    blocked    INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1)),
    blocked_at BIGINT,
    first_seen BIGINT  NOT NULL,
    last_seen  BIGINT  NOT NULL,
    PRIMARY KEY (platform, author_id)
);

-- The audit log. Append-only: ids are assigned by the appender (previous id
-- + 1) under a table lock, and every row's hash chains to the previous row's.
-- post_id deliberately has no foreign key: the audit outlives purged posts.
CREATE TABLE actions (
    id         BIGINT PRIMARY KEY,
    at         BIGINT NOT NULL,
    org        TEXT   NOT NULL,
    post_id    BIGINT,
    actor_id   TEXT   NOT NULL,
    actor_name TEXT   NOT NULL,
    action     TEXT   NOT NULL,
    reason     TEXT,
    outcome    TEXT   NOT NULL,
    detail     TEXT,
    prev_hash  TEXT   NOT NULL,
    hash       TEXT   NOT NULL
);
CREATE INDEX actions_post ON actions (post_id, id);
CREATE INDEX actions_at ON actions (at, id);

CREATE FUNCTION signpost_actions_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log is append-only';
END
$$;

CREATE TRIGGER actions_append_only
BEFORE UPDATE OR DELETE ON actions
FOR EACH ROW EXECUTE FUNCTION signpost_actions_append_only();

CREATE TRIGGER actions_no_truncate
BEFORE TRUNCATE ON actions
FOR EACH STATEMENT EXECUTE FUNCTION signpost_actions_append_only();

CREATE TABLE auto_replies (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    post_id   BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    org       TEXT   NOT NULL,
    platform  TEXT   NOT NULL,
    author_id TEXT   NOT NULL,
    template  TEXT   NOT NULL,
    text      TEXT   NOT NULL,
    status    TEXT   NOT NULL CHECK (status IN ('sent', 'suppressed', 'queued')),
    reason    TEXT,
    at        BIGINT NOT NULL
);
CREATE INDEX auto_replies_author ON auto_replies (platform, author_id, status, at);
CREATE INDEX auto_replies_post ON auto_replies (post_id);

CREATE TABLE hours_overrides (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org        TEXT   NOT NULL,
    kind       TEXT   NOT NULL CHECK (kind IN ('open', 'closed')),
    starts_at  BIGINT NOT NULL,
    ends_at    BIGINT NOT NULL,
    actor_id   TEXT   NOT NULL,
    actor_name TEXT   NOT NULL,
    reason     TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX hours_overrides_org_ends ON hours_overrides (org, ends_at);
CREATE INDEX hours_overrides_org_starts ON hours_overrides (org, starts_at);

CREATE TABLE jobs (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         TEXT   NOT NULL,
    org          TEXT   NOT NULL,
    payload      TEXT   NOT NULL,
    dedupe_key   TEXT   UNIQUE,
    status       TEXT   NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'dead')),
    attempts     BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL CHECK (max_attempts >= 1),
    run_after    BIGINT NOT NULL,
    locked_until BIGINT,
    last_error   TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
-- Claimable jobs, scanned in id (FIFO) order.
CREATE INDEX jobs_waiting ON jobs (id) WHERE status IN ('queued', 'failed');
-- Leases to expire.
CREATE INDEX jobs_running ON jobs (locked_until) WHERE status = 'running';
CREATE INDEX jobs_kind_status ON jobs (kind, status);
