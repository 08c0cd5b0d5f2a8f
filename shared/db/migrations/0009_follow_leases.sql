-- Open follow streams, counted per holder (a token) across every API process, for the hosts whose queue is Postgres
-- (issue 12, item 7; api/follows/postgres-follow-leases.ts). A stream renews its lease while it is open; a row whose
-- lease lapsed belongs to a process that crashed, and counts no more.
CREATE TABLE follow_leases (
  lease_id   text        PRIMARY KEY,
  holder     text        NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX follow_leases_holder ON follow_leases (holder, expires_at);
CREATE INDEX follow_leases_expiry ON follow_leases (expires_at);
