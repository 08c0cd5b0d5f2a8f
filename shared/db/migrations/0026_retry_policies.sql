-- Issue 20 (retries that know why a run ended): a job's retry policy, every field filled in
-- (shared/job/retry-policy.ts): {"on": [...classes], "exit_codes": [...], "max_attempts": n, "backoff_seconds": n,
-- "oom_memory_factor": x}. NULL: the job is never retried automatically (requeue false).
ALTER TABLE jobs ADD COLUMN retry_policy jsonb;

-- Jobs from before that asked for requeue (node loss only, as they were): the default policy, which retries node-side
-- failures. The others keep NULL, as they would not have been requeued.
UPDATE jobs SET retry_policy = '{"on": ["node_fail", "node_launch_failed"], "exit_codes": [], "max_attempts": 6, "backoff_seconds": 0, "oom_memory_factor": 1}'::jsonb
  WHERE requeue;
