-- This database's cluster id (issue 13, item 4): made once, here, at its first migration to this version, so a
-- database upgraded from an older one gets one too. Every key of the log store holds it (shared/logs/log-store.ts):
-- two deployments sharing a directory or a bucket never read or overwrite each other's output. One row, for good.
CREATE TABLE cluster_identity (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  cluster_id uuid NOT NULL DEFAULT gen_random_uuid(),
  created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO cluster_identity DEFAULT VALUES;

-- The jobs stored before this migration shipped their output under the old keys (`jobs/{id}/...`, no cluster id):
-- the API reads those there when the cluster's keys hold nothing. Every job stored from now on says false, and is
-- read under the cluster's keys only: never another cluster's old output. (A column added with a constant default
-- sets the rows already there without rewriting the table; the second statement changes only the default.)
ALTER TABLE jobs ADD COLUMN legacy_log_keys boolean NOT NULL DEFAULT true;
ALTER TABLE jobs ALTER COLUMN legacy_log_keys SET DEFAULT false;
