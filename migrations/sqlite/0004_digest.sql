-- The handover digest lists an org's relays still needing action, oldest
-- first: (org, state) finds them, created_at orders them without a sort.
-- (Its per-window counts use posts (org, received_at) from 0001 and
-- auto_replies (org, at) from 0005.)
CREATE INDEX relays_org_state_created ON relays (org, state, created_at);
