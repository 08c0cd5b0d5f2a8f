-- Utilisation history for the console's charts (GET /v1/stats/history, api/stats/sample-utilisation.ts): one sample
-- per minute, written by the reconciler run that first gets to it, kept 8 days. Aggregated per (partition, account),
-- so a chart reads at most minutes × partitions × accounts rows, never the jobs.
--
-- utilisation_minutes: the minutes sampled (a minute without a row is a gap, not zeros), with each partition's CPUs
-- then (of its nodes not DOWN, as GET /v1/dashboard counts them): capacity is the cluster's, not an account's.
CREATE TABLE utilisation_minutes (
  minute     timestamptz PRIMARY KEY,
  cpus_total jsonb       NOT NULL,
  sampled_at timestamptz NOT NULL DEFAULT now()
);

-- One row per partition and account with anything to count in the minute. pending, running and cpus_allocated are
-- read when the minute is sampled (within about two minutes after its end); finished_* count the jobs whose end_time
-- falls in the minute, and wait_seconds holds (sorted) the waits of those whose start_time does: exact, so a median
-- over any set of minutes is the true one.
CREATE TABLE utilisation_samples (
  minute                timestamptz NOT NULL REFERENCES utilisation_minutes (minute) ON DELETE CASCADE,
  partition             text        NOT NULL,
  account               text        NOT NULL,
  pending               integer     NOT NULL,
  running               integer     NOT NULL,
  cpus_allocated        integer     NOT NULL,
  finished_completed    integer     NOT NULL,
  finished_failed       integer     NOT NULL,
  finished_cancelled    integer     NOT NULL,
  finished_timeout      integer     NOT NULL,
  finished_out_of_memory integer    NOT NULL,
  finished_node_fail    integer     NOT NULL,
  wait_seconds          integer[]   NOT NULL,
  PRIMARY KEY (minute, partition, account)
);

-- The jobs started in a minute, found without a scan (end_time has jobs_ended since 0016).
CREATE INDEX jobs_started ON jobs (start_time) WHERE start_time IS NOT NULL;
