-- Retention (issue 16, item 1; api/jobs/purge-jobs.ts). The reconciler deletes finished jobs' stored output after
-- CONDUCTOR_OUTPUT_RETENTION_DAYS and their rows (events and idempotency keys cascading) after
-- CONDUCTOR_JOB_RETENTION_DAYS, oldest first, a batch per run.
-- `output_purged_at`: when the job's stored output was deleted; its log endpoints answer 410 output_expired since.
ALTER TABLE jobs ADD COLUMN output_purged_at timestamptz;
-- Each pass reads its batch from the front of one of these: O(batch), however many jobs are kept. Only finished jobs
-- have an end time; the output pass's index leaves out the jobs it has done, which stay long after.
CREATE INDEX jobs_ended ON jobs (end_time) WHERE end_time IS NOT NULL;
CREATE INDEX jobs_output_kept ON jobs (end_time) WHERE end_time IS NOT NULL AND output_purged_at IS NULL;
-- A job's delete looks up its keys: without this, each is a scan of the day's keys.
CREATE INDEX idempotency_keys_job_id ON idempotency_keys (job_id);
