-- The handover digest counts an org's automatic replies over a window
-- (posts and relays already have (org, received_at) and (org, state)).
CREATE INDEX auto_replies_org_at ON auto_replies (org, at);
