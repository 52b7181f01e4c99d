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
-- `rollup_recount` recounts everything from the raw tables: the backfill
-- below, and Store::rollup_drift (which tests use to prove the triggers).
CREATE TABLE rollups (
    org      TEXT    NOT NULL,
    kind     TEXT    NOT NULL,
    hour     INTEGER NOT NULL,
    platform TEXT    NOT NULL,
    k1       TEXT    NOT NULL,
    k2       TEXT    NOT NULL,
    k3       TEXT    NOT NULL,
    k4       TEXT    NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (org, kind, hour, platform, k1, k2, k3, k4)
) WITHOUT ROWID;

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

-- Every change below adds +1 for a row's new key and -1 for its old one.
-- ("WHERE true" keeps SQLite from reading ON CONFLICT as a join clause.)

CREATE TRIGGER rollups_posts_insert AFTER INSERT ON posts
BEGIN
    INSERT INTO rollups (org, kind, hour, platform, k1, k2, k3, k4, n)
    VALUES (NEW.org, 'inbound', NEW.received_at / 3600000, NEW.platform, '', '', '', '', 1)
    ON CONFLICT (org, kind, hour, platform, k1, k2, k3, k4) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER rollups_classifications_insert AFTER INSERT ON classifications
BEGIN
    INSERT INTO rollups (org, kind, hour, platform, k1, k2, k3, k4, n)
    SELECT p.org, 'flagged', p.received_at / 3600000, p.platform, NEW.categories, '', '', '', 1
      FROM posts p WHERE p.id = NEW.post_id AND NEW.categories <> '[]'
    ON CONFLICT (org, kind, hour, platform, k1, k2, k3, k4) DO UPDATE SET n = n + excluded.n;
    -- A relay recorded before its classification (not an order Signpost
    -- writes in, but the counts must not depend on it).
    INSERT INTO rollups (org, kind, hour, platform, k1, k2, k3, k4, n)
    SELECT p.org, 'rule_state', p.received_at / 3600000, p.platform, NEW.rules, r.state, '', '', 1
      FROM relays r JOIN posts p ON p.id = r.post_id WHERE r.post_id = NEW.post_id
    ON CONFLICT (org, kind, hour, platform, k1, k2, k3, k4) DO UPDATE SET n = n + excluded.n;
    INSERT INTO rollups (org, kind, hour, platform, k1, k2, k3, k4, n)
    SELECT r.org, 'actioned', r.state_at / 3600000, p.platform, NEW.categories, '', '', '', 1
      FROM relays r JOIN posts p ON p.id = r.post_id
     WHERE r.post_id = NEW.post_id AND r.state = 'actioned' AND r.state_at IS NOT NULL
    ON CONFLICT (org, kind, hour, platform, k1, k2, k3, k4) DO UPDATE SET n = n + excluded.n;
END;

-- Reclassification (the writers upsert classifications).
CREATE TRIGGER rollups_classifications_update AFTER UPDATE OF post_id, categories, rules
ON classifications
BEGIN
    INSERT INTO rollups (org, kind, hour, platform, k1, k2, k3, k4, n)
    SELECT p.org, 'flagged', p.received_at / 3600000, p.platform, OLD.categories, '', '', '', -1
      FROM posts p WHERE p.id = OLD.post_id AND OLD.categories <> '[]'
    ON CONFLICT (org, kind, hour, platform, k1, k2, k3, k4) DO UPDATE SET n = n + excluded.n;
    INSERT INTO rollups (org, kind, hour, platform, k1, k2, k3, k4, n)
    SELECT p.org, 'flagged', p.received_at / 3600000, p.platform, NEW.categories, '', '', '', 1
      FROM posts p WHERE p.id = NEW.post_id AND NEW.categories <> '[]'
    ON CONFLICT (org, kind, hour, platform, k1, k2, k3, k4) DO UPDATE SET n = n + excluded.n;
    INSERT INTO rollups (org, kind, hour, platform, k1, k2, k3, k4, n)
    SELECT p.org, 'rule_state', p.received_at / 3600000, p.platform, OLD.rules, r.state, '', '', -1
      FROM relays r JOIN posts p ON p.id = r.post_id WHERE r.post_id = OLD.post_id
    ON CONFLICT (org, kind, hour, platform, k1, k2, k3, k4) DO UPDATE SET n = n + excluded.n;
    INSERT INTO rollups (org, kind, hour, platform, k1, k2, k3, k4, n)
    SELECT p.org, 'rule_state', p.received_at / 3600000, p.platform, NEW.rules, r.state, '', '', 1
      FROM relays r JOIN posts p ON p.id = r.post_id WHERE r.post_id = NEW.post_id
    ON CONFLICT (org, kind, hour, platform, k1, k2, k3, k4) DO UPDATE SET n = n + excluded.n;
    INSERT INTO rollups (org, kind, hour, platform, k1, k2, k3, k4, n)
    SELECT r.org, 'actioned', r.state_at / 3600000, p.platform, OLD.categories, '', '', '', -1
      FROM relays r JOIN posts p ON p.id = r.post_id
     WHERE r.post_id = OLD.post_id AND r.state = 'actioned' AND r.state_at IS NOT NULL
    ON CONFLICT (org, kind, hour, platform, k1, k2, k3, k4) DO UPDATE SET n = n + excluded.n;
    INSERT INTO rollups (org, kind, hour, platform, k1, k2, k3, k4, n)
    SELECT r.org, 'actioned', r.state_at / 3600000, p.platform, NEW.categories, '', '', '', 1
      FROM relays r JOIN posts p ON p.id = r.post_id
     WHERE r.post_id = NEW.post_id AND r.state = 'actioned' AND r.state_at IS NOT NULL
    ON CONFLICT (org, kind, hour, platform, k1, k2, k3, k4) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER rollups_relays_insert AFTER INSERT ON relays
BEGIN
    INSERT INTO rollups (org, kind, hour, platform, k1, k2, k3, k4, n)
    SELECT p.org, 'rule_state', p.received_at / 3600000, p.platform, c.rules, NEW.state, '', '', 1
      FROM posts p JOIN classifications c ON c.post_id = p.id WHERE p.id = NEW.post_id
    ON CONFLICT (org, kind, hour, platform, k1, k2, k3, k4) DO UPDATE SET n = n + excluded.n;
    INSERT INTO rollups (org, kind, hour, platform, k1, k2, k3, k4, n)
    SELECT NEW.org, 'actioned', NEW.state_at / 3600000, p.platform, c.categories, '', '', '', 1
      FROM posts p JOIN classifications c ON c.post_id = p.id
     WHERE p.id = NEW.post_id AND NEW.state = 'actioned' AND NEW.state_at IS NOT NULL
    ON CONFLICT (org, kind, hour, platform, k1, k2, k3, k4) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER rollups_relays_update AFTER UPDATE OF post_id, org, state, state_at ON relays
BEGIN
    INSERT INTO rollups (org, kind, hour, platform, k1, k2, k3, k4, n)
    SELECT p.org, 'rule_state', p.received_at / 3600000, p.platform, c.rules, OLD.state, '', '', -1
      FROM posts p JOIN classifications c ON c.post_id = p.id WHERE p.id = OLD.post_id
    ON CONFLICT (org, kind, hour, platform, k1, k2, k3, k4) DO UPDATE SET n = n + excluded.n;
    INSERT INTO rollups (org, kind, hour, platform, k1, k2, k3, k4, n)
    SELECT p.org, 'rule_state', p.received_at / 3600000, p.platform, c.rules, NEW.state, '', '', 1
      FROM posts p JOIN classifications c ON c.post_id = p.id WHERE p.id = NEW.post_id
    ON CONFLICT (org, kind, hour, platform, k1, k2, k3, k4) DO UPDATE SET n = n + excluded.n;
    INSERT INTO rollups (org, kind, hour, platform, k1, k2, k3, k4, n)
    SELECT OLD.org, 'actioned', OLD.state_at / 3600000, p.platform, c.categories, '', '', '', -1
      FROM posts p JOIN classifications c ON c.post_id = p.id
     WHERE p.id = OLD.post_id AND OLD.state = 'actioned' AND OLD.state_at IS NOT NULL
    ON CONFLICT (org, kind, hour, platform, k1, k2, k3, k4) DO UPDATE SET n = n + excluded.n;
    INSERT INTO rollups (org, kind, hour, platform, k1, k2, k3, k4, n)
    SELECT NEW.org, 'actioned', NEW.state_at / 3600000, p.platform, c.categories, '', '', '', 1
      FROM posts p JOIN classifications c ON c.post_id = p.id
     WHERE p.id = NEW.post_id AND NEW.state = 'actioned' AND NEW.state_at IS NOT NULL
    ON CONFLICT (org, kind, hour, platform, k1, k2, k3, k4) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER rollups_auto_replies_insert AFTER INSERT ON auto_replies
BEGIN
    INSERT INTO rollups (org, kind, hour, platform, k1, k2, k3, k4, n)
    VALUES (NEW.org, 'reply', NEW.at / 3600000, NEW.platform, NEW.template, NEW.status,
            COALESCE(NEW.reason, ''), '', 1)
    ON CONFLICT (org, kind, hour, platform, k1, k2, k3, k4) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER rollups_auto_replies_update
AFTER UPDATE OF org, platform, template, status, reason, at ON auto_replies
BEGIN
    INSERT INTO rollups (org, kind, hour, platform, k1, k2, k3, k4, n)
    VALUES (OLD.org, 'reply', OLD.at / 3600000, OLD.platform, OLD.template, OLD.status,
            COALESCE(OLD.reason, ''), '', -1)
    ON CONFLICT (org, kind, hour, platform, k1, k2, k3, k4) DO UPDATE SET n = n + excluded.n;
    INSERT INTO rollups (org, kind, hour, platform, k1, k2, k3, k4, n)
    VALUES (NEW.org, 'reply', NEW.at / 3600000, NEW.platform, NEW.template, NEW.status,
            COALESCE(NEW.reason, ''), '', 1)
    ON CONFLICT (org, kind, hour, platform, k1, k2, k3, k4) DO UPDATE SET n = n + excluded.n;
END;

-- The audit log is append-only (see 0001), so inserts are all there is.
CREATE TRIGGER rollups_actions_insert AFTER INSERT ON actions
WHEN NEW.actor_id <> 'signpost'
BEGIN
    INSERT INTO rollups (org, kind, hour, platform, k1, k2, k3, k4, n)
    VALUES (NEW.org, 'action', NEW.at / 3600000,
            COALESCE((SELECT platform FROM posts WHERE id = NEW.post_id), ''),
            NEW.action, NEW.actor_id,
            CASE WHEN NEW.outcome LIKE 'failed%' THEN '1' ELSE '0' END, NEW.actor_name, 1)
    ON CONFLICT (org, kind, hour, platform, k1, k2, k3, k4) DO UPDATE SET n = n + excluded.n;
END;
