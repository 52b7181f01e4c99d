-- Hourly rollups behind /stats and `signpost stats`.
--
-- A 30-day report over a busy trust reads tens of thousands of posts,
-- relays, replies and audit rows; the same figures grouped by hour are a few
-- thousand rows. `rollups` holds those counts and triggers keep them in step
-- with the tables they summarise, inside the writing transaction, so no code
-- path can forget them. Reports read whole hours from here and only the
-- partial hours at a window's edges from the raw tables
-- (see src/store/reports.rs).
--
-- Kinds and their keys (hour = floor(ms / 3600000) of the time in brackets):
--   inbound    posts                               [received_at]
--   flagged    posts with categories; k1 categories [received_at]
--   actioned   relays in state 'actioned'; k1 the post's categories [state_at]
--   rule_state relays; k1 the post's rules, k2 relay state [post received_at]
--   reply      auto_replies; k1 template, k2 status, k3 reason or '' [at]
--   action     people's audit rows; k1 action, k2 actor_id,
--              k3 '1' if the outcome failed else '0', k4 actor_name [at]
-- `platform` is the post's platform ('' for audit rows about no post).
--
-- PostgreSQL keeps them with statement-level triggers over transition
-- tables, so a batch insert costs one grouped upsert, not one per row; rows
-- are upserted in key order so concurrent writers lock them in one order.
--
-- `rollup_recount` recounts everything from the raw tables: the backfill
-- below, and Store::rollup_drift (which tests use to prove the triggers).
CREATE TABLE rollups (
    org      TEXT   NOT NULL,
    kind     TEXT   NOT NULL,
    hour     BIGINT NOT NULL,
    platform TEXT   NOT NULL,
    k1       TEXT   NOT NULL,
    k2       TEXT   NOT NULL,
    k3       TEXT   NOT NULL,
    k4       TEXT   NOT NULL,
    n        BIGINT NOT NULL,
    PRIMARY KEY (org, kind, hour, platform, k1, k2, k3, k4)
);

CREATE VIEW rollup_recount AS
SELECT org, 'inbound' AS kind, received_at / 3600000 AS hour, platform,
       '' AS k1, '' AS k2, '' AS k3, '' AS k4, COUNT(*) AS n
  FROM posts
 GROUP BY org, received_at / 3600000, platform
UNION ALL
SELECT p.org, 'flagged', p.received_at / 3600000, p.platform, c.categories, '', '', '', COUNT(*)
  FROM posts p JOIN classifications c ON c.post_id = p.id
 WHERE c.categories <> '[]'
 GROUP BY p.org, p.received_at / 3600000, p.platform, c.categories
UNION ALL
SELECT r.org, 'actioned', r.state_at / 3600000, p.platform, c.categories, '', '', '', COUNT(*)
  FROM relays r JOIN posts p ON p.id = r.post_id JOIN classifications c ON c.post_id = r.post_id
 WHERE r.state = 'actioned' AND r.state_at IS NOT NULL
 GROUP BY r.org, r.state_at / 3600000, p.platform, c.categories
UNION ALL
SELECT p.org, 'rule_state', p.received_at / 3600000, p.platform, c.rules, r.state, '', '', COUNT(*)
  FROM relays r JOIN posts p ON p.id = r.post_id JOIN classifications c ON c.post_id = r.post_id
 GROUP BY p.org, p.received_at / 3600000, p.platform, c.rules, r.state
UNION ALL
SELECT org, 'reply', at / 3600000, platform, template, status, COALESCE(reason, ''), '', COUNT(*)
  FROM auto_replies
 GROUP BY org, at / 3600000, platform, template, status, COALESCE(reason, '')
UNION ALL
SELECT a.org, 'action', a.at / 3600000, COALESCE(p.platform, ''), a.action, a.actor_id,
       CASE WHEN a.outcome LIKE 'failed%' THEN '1' ELSE '0' END, a.actor_name, COUNT(*)
  FROM actions a LEFT JOIN posts p ON p.id = a.post_id
 WHERE a.actor_id <> 'signpost'
 GROUP BY a.org, a.at / 3600000, COALESCE(p.platform, ''), a.action, a.actor_id,
          CASE WHEN a.outcome LIKE 'failed%' THEN '1' ELSE '0' END, a.actor_name;

INSERT INTO rollups (org, kind, hour, platform, k1, k2, k3, k4, n)
SELECT org, kind, hour, platform, k1, k2, k3, k4, n FROM rollup_recount;

-- Every change adds +1 for a row's new key and -1 for its old one.

CREATE FUNCTION signpost_rollups_posts_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rollups AS t (org, kind, hour, platform, k1, k2, k3, k4, n)
    SELECT org, kind, hour, platform, k1, k2, k3, k4, SUM(n)
      FROM (
        SELECT org, 'inbound' AS kind, received_at / 3600000 AS hour, platform,
               '' AS k1, '' AS k2, '' AS k3, '' AS k4, 1 AS n
          FROM new_rows
      ) d
     GROUP BY org, kind, hour, platform, k1, k2, k3, k4
    HAVING SUM(n) <> 0
     ORDER BY org, kind, hour, platform, k1, k2, k3, k4
    ON CONFLICT (org, kind, hour, platform, k1, k2, k3, k4) DO UPDATE SET n = t.n + EXCLUDED.n;
    RETURN NULL;
END
$$;
CREATE TRIGGER rollups_posts_insert AFTER INSERT ON posts
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION signpost_rollups_posts_insert();

-- A relay recorded before its classification is counted too (not an order
-- Signpost writes in, but the counts must not depend on it).
CREATE FUNCTION signpost_rollups_classifications_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rollups AS t (org, kind, hour, platform, k1, k2, k3, k4, n)
    SELECT org, kind, hour, platform, k1, k2, k3, k4, SUM(n)
      FROM (
        SELECT p.org, 'flagged' AS kind, p.received_at / 3600000 AS hour, p.platform,
               x.categories AS k1, '' AS k2, '' AS k3, '' AS k4, 1 AS n
          FROM new_rows x JOIN posts p ON p.id = x.post_id
         WHERE x.categories <> '[]'
        UNION ALL
        SELECT p.org, 'rule_state', p.received_at / 3600000, p.platform, x.rules, r.state, '', '', 1
          FROM new_rows x JOIN relays r ON r.post_id = x.post_id JOIN posts p ON p.id = x.post_id
        UNION ALL
        SELECT r.org, 'actioned', r.state_at / 3600000, p.platform, x.categories, '', '', '', 1
          FROM new_rows x JOIN relays r ON r.post_id = x.post_id JOIN posts p ON p.id = x.post_id
         WHERE r.state = 'actioned' AND r.state_at IS NOT NULL
      ) d
     GROUP BY org, kind, hour, platform, k1, k2, k3, k4
    HAVING SUM(n) <> 0
     ORDER BY org, kind, hour, platform, k1, k2, k3, k4
    ON CONFLICT (org, kind, hour, platform, k1, k2, k3, k4) DO UPDATE SET n = t.n + EXCLUDED.n;
    RETURN NULL;
END
$$;
CREATE TRIGGER rollups_classifications_insert AFTER INSERT ON classifications
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION signpost_rollups_classifications_insert();

-- Reclassification (the writers upsert classifications).
CREATE FUNCTION signpost_rollups_classifications_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rollups AS t (org, kind, hour, platform, k1, k2, k3, k4, n)
    SELECT org, kind, hour, platform, k1, k2, k3, k4, SUM(n)
      FROM (
        SELECT p.org, 'flagged' AS kind, p.received_at / 3600000 AS hour, p.platform,
               x.categories AS k1, '' AS k2, '' AS k3, '' AS k4, -1 AS n
          FROM old_rows x JOIN posts p ON p.id = x.post_id
         WHERE x.categories <> '[]'
        UNION ALL
        SELECT p.org, 'flagged', p.received_at / 3600000, p.platform, x.categories, '', '', '', 1
          FROM new_rows x JOIN posts p ON p.id = x.post_id
         WHERE x.categories <> '[]'
        UNION ALL
        SELECT p.org, 'rule_state', p.received_at / 3600000, p.platform, x.rules, r.state, '', '', -1
          FROM old_rows x JOIN relays r ON r.post_id = x.post_id JOIN posts p ON p.id = x.post_id
        UNION ALL
        SELECT p.org, 'rule_state', p.received_at / 3600000, p.platform, x.rules, r.state, '', '', 1
          FROM new_rows x JOIN relays r ON r.post_id = x.post_id JOIN posts p ON p.id = x.post_id
        UNION ALL
        SELECT r.org, 'actioned', r.state_at / 3600000, p.platform, x.categories, '', '', '', -1
          FROM old_rows x JOIN relays r ON r.post_id = x.post_id JOIN posts p ON p.id = x.post_id
         WHERE r.state = 'actioned' AND r.state_at IS NOT NULL
        UNION ALL
        SELECT r.org, 'actioned', r.state_at / 3600000, p.platform, x.categories, '', '', '', 1
          FROM new_rows x JOIN relays r ON r.post_id = x.post_id JOIN posts p ON p.id = x.post_id
         WHERE r.state = 'actioned' AND r.state_at IS NOT NULL
      ) d
     GROUP BY org, kind, hour, platform, k1, k2, k3, k4
    HAVING SUM(n) <> 0
     ORDER BY org, kind, hour, platform, k1, k2, k3, k4
    ON CONFLICT (org, kind, hour, platform, k1, k2, k3, k4) DO UPDATE SET n = t.n + EXCLUDED.n;
    RETURN NULL;
END
$$;
CREATE TRIGGER rollups_classifications_update AFTER UPDATE ON classifications
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION signpost_rollups_classifications_update();

CREATE FUNCTION signpost_rollups_relays_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rollups AS t (org, kind, hour, platform, k1, k2, k3, k4, n)
    SELECT org, kind, hour, platform, k1, k2, k3, k4, SUM(n)
      FROM (
        SELECT p.org, 'rule_state' AS kind, p.received_at / 3600000 AS hour, p.platform,
               c.rules AS k1, x.state AS k2, '' AS k3, '' AS k4, 1 AS n
          FROM new_rows x JOIN posts p ON p.id = x.post_id JOIN classifications c ON c.post_id = x.post_id
        UNION ALL
        SELECT x.org, 'actioned', x.state_at / 3600000, p.platform, c.categories, '', '', '', 1
          FROM new_rows x JOIN posts p ON p.id = x.post_id JOIN classifications c ON c.post_id = x.post_id
         WHERE x.state = 'actioned' AND x.state_at IS NOT NULL
      ) d
     GROUP BY org, kind, hour, platform, k1, k2, k3, k4
    HAVING SUM(n) <> 0
     ORDER BY org, kind, hour, platform, k1, k2, k3, k4
    ON CONFLICT (org, kind, hour, platform, k1, k2, k3, k4) DO UPDATE SET n = t.n + EXCLUDED.n;
    RETURN NULL;
END
$$;
CREATE TRIGGER rollups_relays_insert AFTER INSERT ON relays
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION signpost_rollups_relays_insert();

CREATE FUNCTION signpost_rollups_relays_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rollups AS t (org, kind, hour, platform, k1, k2, k3, k4, n)
    SELECT org, kind, hour, platform, k1, k2, k3, k4, SUM(n)
      FROM (
        SELECT p.org, 'rule_state' AS kind, p.received_at / 3600000 AS hour, p.platform,
               c.rules AS k1, x.state AS k2, '' AS k3, '' AS k4, -1 AS n
          FROM old_rows x JOIN posts p ON p.id = x.post_id JOIN classifications c ON c.post_id = x.post_id
        UNION ALL
        SELECT p.org, 'rule_state', p.received_at / 3600000, p.platform,
               c.rules, x.state, '', '', 1
          FROM new_rows x JOIN posts p ON p.id = x.post_id JOIN classifications c ON c.post_id = x.post_id
        UNION ALL
        SELECT x.org, 'actioned', x.state_at / 3600000, p.platform, c.categories, '', '', '', -1
          FROM old_rows x JOIN posts p ON p.id = x.post_id JOIN classifications c ON c.post_id = x.post_id
         WHERE x.state = 'actioned' AND x.state_at IS NOT NULL
        UNION ALL
        SELECT x.org, 'actioned', x.state_at / 3600000, p.platform, c.categories, '', '', '', 1
          FROM new_rows x JOIN posts p ON p.id = x.post_id JOIN classifications c ON c.post_id = x.post_id
         WHERE x.state = 'actioned' AND x.state_at IS NOT NULL
      ) d
     GROUP BY org, kind, hour, platform, k1, k2, k3, k4
    HAVING SUM(n) <> 0
     ORDER BY org, kind, hour, platform, k1, k2, k3, k4
    ON CONFLICT (org, kind, hour, platform, k1, k2, k3, k4) DO UPDATE SET n = t.n + EXCLUDED.n;
    RETURN NULL;
END
$$;
CREATE TRIGGER rollups_relays_update AFTER UPDATE ON relays
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION signpost_rollups_relays_update();

CREATE FUNCTION signpost_rollups_auto_replies_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rollups AS t (org, kind, hour, platform, k1, k2, k3, k4, n)
    SELECT org, kind, hour, platform, k1, k2, k3, k4, SUM(n)
      FROM (
        SELECT org, 'reply' AS kind, at / 3600000 AS hour, platform, template AS k1, status AS k2,
               COALESCE(reason, '') AS k3, '' AS k4, 1 AS n
          FROM new_rows
      ) d
     GROUP BY org, kind, hour, platform, k1, k2, k3, k4
    HAVING SUM(n) <> 0
     ORDER BY org, kind, hour, platform, k1, k2, k3, k4
    ON CONFLICT (org, kind, hour, platform, k1, k2, k3, k4) DO UPDATE SET n = t.n + EXCLUDED.n;
    RETURN NULL;
END
$$;
CREATE TRIGGER rollups_auto_replies_insert AFTER INSERT ON auto_replies
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION signpost_rollups_auto_replies_insert();

CREATE FUNCTION signpost_rollups_auto_replies_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rollups AS t (org, kind, hour, platform, k1, k2, k3, k4, n)
    SELECT org, kind, hour, platform, k1, k2, k3, k4, SUM(n)
      FROM (
        SELECT org, 'reply' AS kind, at / 3600000 AS hour, platform, template AS k1, status AS k2,
               COALESCE(reason, '') AS k3, '' AS k4, -1 AS n
          FROM old_rows
        UNION ALL
        SELECT org, 'reply', at / 3600000, platform, template, status,
               COALESCE(reason, ''), '', 1
          FROM new_rows
      ) d
     GROUP BY org, kind, hour, platform, k1, k2, k3, k4
    HAVING SUM(n) <> 0
     ORDER BY org, kind, hour, platform, k1, k2, k3, k4
    ON CONFLICT (org, kind, hour, platform, k1, k2, k3, k4) DO UPDATE SET n = t.n + EXCLUDED.n;
    RETURN NULL;
END
$$;
CREATE TRIGGER rollups_auto_replies_update AFTER UPDATE ON auto_replies
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION signpost_rollups_auto_replies_update();

-- The audit log is append-only (see 0001), so inserts are all there is.
CREATE FUNCTION signpost_rollups_actions_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rollups AS t (org, kind, hour, platform, k1, k2, k3, k4, n)
    SELECT org, kind, hour, platform, k1, k2, k3, k4, SUM(n)
      FROM (
        SELECT a.org, 'action' AS kind, a.at / 3600000 AS hour, COALESCE(p.platform, '') AS platform,
               a.action AS k1, a.actor_id AS k2,
               CASE WHEN a.outcome LIKE 'failed%' THEN '1' ELSE '0' END AS k3,
               a.actor_name AS k4, 1 AS n
          FROM new_rows a LEFT JOIN posts p ON p.id = a.post_id
         WHERE a.actor_id <> 'signpost'
      ) d
     GROUP BY org, kind, hour, platform, k1, k2, k3, k4
    HAVING SUM(n) <> 0
     ORDER BY org, kind, hour, platform, k1, k2, k3, k4
    ON CONFLICT (org, kind, hour, platform, k1, k2, k3, k4) DO UPDATE SET n = t.n + EXCLUDED.n;
    RETURN NULL;
END
$$;
CREATE TRIGGER rollups_actions_insert AFTER INSERT ON actions
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION signpost_rollups_actions_insert();
