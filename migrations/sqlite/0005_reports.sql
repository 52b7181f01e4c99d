-- Indexes for the supervisors' reports (/stats, /audit, /history, /export).
-- People's actions, by org and time: the audit log is mostly the system's
-- own rows (classify, relay.queued, auto_reply), so a partial index keeps
-- "who did what" cheap on a large log, and covers the columns /stats
-- groups by. The predicate must match store::reports::HUMAN literally.
CREATE INDEX actions_org_human ON actions (org, at, action, actor_id, actor_name, outcome)
    WHERE actor_id <> 'signpost';
-- Covers /stats's grouping of automatic replies.
CREATE INDEX auto_replies_org_at ON auto_replies (org, at, platform, template, status, reason);
CREATE INDEX relays_org_state_at ON relays (org, state_at);
CREATE INDEX posts_url ON posts (url);
CREATE INDEX authors_handle ON authors (handle);
