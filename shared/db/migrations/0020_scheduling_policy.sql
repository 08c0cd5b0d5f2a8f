-- Scheduling policy (issue 19): configured partitions, accounts with limits and fair-share shares, decayed usage,
-- computed priority with nice, and the time limit on queue refs that backfill needs.

-- Slurm's PartitionName lines as rows: State, AllowAccounts, DefaultTime, MaxTime, MaxCPUsPerNode-like per-job sizes,
-- PriorityTier, Default=YES. NULL limits mean none (Slurm's UNLIMITED); NULL allow_accounts means ALL.
CREATE TABLE partitions (
  name                  text PRIMARY KEY,
  state                 text NOT NULL DEFAULT 'UP' CHECK (state IN ('UP', 'DOWN', 'DRAIN', 'INACTIVE')),
  allow_accounts        text[],
  default_time_seconds  integer CHECK (default_time_seconds > 0),
  max_time_seconds      integer CHECK (max_time_seconds > 0),
  max_cpus_per_job      integer CHECK (max_cpus_per_job > 0),
  max_memory_mb_per_job integer CHECK (max_memory_mb_per_job > 0),
  priority_tier         integer NOT NULL DEFAULT 1 CHECK (priority_tier >= 0),
  is_default            boolean NOT NULL DEFAULT false,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX partitions_one_default ON partitions (is_default) WHERE is_default;

-- Today's partitions become configured ones, without limits, so an upgrade refuses nothing it accepted: `default`
-- (the default partition), every partition a node serves or was granted, and every one a job was submitted to.
INSERT INTO partitions (name, is_default) VALUES ('default', true);
INSERT INTO partitions (name)
SELECT DISTINCT p FROM (
  SELECT unnest(partitions) FROM nodes
  UNION SELECT unnest(partitions) FROM api_tokens WHERE partitions IS NOT NULL
  UNION SELECT partition FROM jobs
) AS seen (p)
ON CONFLICT (name) DO NOTHING;

-- Slurm's association limits per account: GrpTRES=cpu (running CPUs), GrpJobs (running jobs), GrpSubmitJobs-like
-- pending jobs, a submit rate, stored output, and fair-share shares. NULL: no limit. An account without a row has no
-- limits and 1 share.
CREATE TABLE accounts (
  name                    text PRIMARY KEY,
  max_running_cpus        integer CHECK (max_running_cpus >= 0),
  max_running_jobs        integer CHECK (max_running_jobs >= 0),
  max_pending_jobs        integer CHECK (max_pending_jobs >= 0),
  max_submits_per_minute  integer CHECK (max_submits_per_minute >= 0),
  max_stored_output_bytes bigint CHECK (max_stored_output_bytes >= 0),
  fairshare_shares        integer NOT NULL DEFAULT 1 CHECK (fairshare_shares > 0),
  created_at              timestamptz NOT NULL DEFAULT now(),
  updated_at              timestamptz NOT NULL DEFAULT now()
);
INSERT INTO accounts (name)
SELECT DISTINCT a FROM (
  SELECT account FROM jobs UNION SELECT account FROM api_tokens WHERE account IS NOT NULL UNION SELECT 'default'
) AS seen (a)
ON CONFLICT (name) DO NOTHING;

-- Each account's CPU-seconds, decayed with the configured half-life (Slurm's PriorityDecayHalfLife) each time the
-- priority is recomputed; the decayed usage as of `decayed_at`.
CREATE TABLE account_usage (
  account           text PRIMARY KEY,
  usage_cpu_seconds double precision NOT NULL DEFAULT 0,
  decayed_at        timestamptz NOT NULL DEFAULT now(),
  -- Slurm's classic fair-share factor 2^(-usage share / shares share), as of the last recompute: a new job's
  -- priority is computed with it at submit, before the next recompute.
  fairshare_factor  double precision NOT NULL DEFAULT 1
);

-- One row: how far job run time has been charged to account_usage (runs are charged for [charged_until, now) at each
-- recompute, so a run is charged once however many reconcilers run), and when the priority was last recomputed.
CREATE TABLE scheduler_clock (
  singleton             boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  charged_until         timestamptz NOT NULL DEFAULT now(),
  priority_computed_at  timestamptz
);
INSERT INTO scheduler_clock DEFAULT VALUES;

-- A job's nice (sbatch --nice: subtracted from its priority; users may only raise it, lowering their priority), and
-- an admin's absolute priority (scontrol update Priority=): while set, the recompute leaves the job's priority at it.
-- `priority` stays the value the queue orders by. Jobs submitted with a priority before this keep it as an admin's.
ALTER TABLE jobs ADD COLUMN nice integer NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN admin_priority integer;
UPDATE jobs SET admin_priority = priority WHERE priority <> 0 AND state = 'PENDING';
-- Bytes of output the job's runs stored (the daemon's finished report); NULL: not reported (older daemons).
ALTER TABLE jobs ADD COLUMN output_bytes bigint;

-- Counting an account's pending and running jobs, and its submits in the last minute, at submit and confirm.
CREATE INDEX jobs_account_active ON jobs (account, state) WHERE state IN ('PENDING', 'RUNNING');
CREATE INDEX jobs_account_submitted ON jobs (account, submit_time);

-- Backfill needs each queued job's time limit (NULL: UNLIMITED, never backfilled).
ALTER TABLE queue_refs ADD COLUMN time_limit_seconds integer;
UPDATE queue_refs r SET time_limit_seconds = j.time_limit_seconds FROM jobs j WHERE j.id = r.job_id;

-- The partitions whose refs no claim takes (DOWN or INACTIVE), for the Postgres queue; the Redis queue keeps the same
-- set under its prefix. Both are rebuilt from `partitions` by the reconciler.
CREATE TABLE queue_paused (partition text PRIMARY KEY);
