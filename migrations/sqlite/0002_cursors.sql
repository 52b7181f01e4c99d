-- Per-source resume points for inbound pollers (e.g. the last Mastodon
-- notification id seen), written in the same transaction as the posts they
-- cover so a restart neither misses nor repeats anything.
CREATE TABLE cursors (
    source     TEXT    PRIMARY KEY,
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);
