-- Indexes for the supervisors' reports (/stats, /audit, /history, /export).
-- People's actions, by org and time: the audit log is mostly the system's
-- own rows (classify, relay.queued, auto_reply), so a partial index keeps
-- "who did what" cheap on a large log. The predicate must match
-- store::reports::HUMAN literally.
CREATE INDEX actions_org_human ON actions (org, at) WHERE actor_id <> 'signpost';
CREATE INDEX auto_replies_org_at ON auto_replies (org, at);
CREATE INDEX relays_org_state_at ON relays (org, state_at);
CREATE INDEX posts_url ON posts (url);
CREATE INDEX authors_handle ON authors (handle);
