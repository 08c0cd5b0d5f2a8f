-- Issue 21, item 4 (per-job accounting): what each run (one attempt of a job) used, as its node measured it when it
-- ended (shared/protocol/run-usage.ts), written by the API with the run's finished event: a retried job has a row per
-- attempt that ran, as sacct keeps one per step. Units in the names: milliseconds and bytes. A source says where each
-- was read ('cgroup' or 'rusage'); memory's is null where no max RSS was known. Rows go with their job.
CREATE TABLE run_usage (
  job_id         bigint      NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  attempt        integer     NOT NULL,
  node_name      text        NOT NULL,
  cpu_user_ms    bigint      NOT NULL,
  cpu_system_ms  bigint      NOT NULL,
  max_rss_bytes  bigint,
  wall_ms        bigint      NOT NULL,
  cpu_source     text        NOT NULL,
  memory_source  text,
  recorded_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job_id, attempt)
);
