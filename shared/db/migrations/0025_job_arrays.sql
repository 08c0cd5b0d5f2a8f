-- Issue 20, item 3 (job arrays). Every task of an array carries the array's indexes (canonical, as
-- shared/job/array-spec.ts formats them: "0-999", "1,3,5-9") for SLURM_ARRAY_TASK_COUNT/MIN/MAX/STEP, and its %N cap
-- (null: none) for the confirm and the release of capped tasks (api/jobs/array-task-limit.ts). Null for other jobs.
ALTER TABLE jobs ADD COLUMN array_indexes text;
ALTER TABLE jobs ADD COLUMN array_task_limit integer;
-- What the cap counts under its array's lock, at every confirm and release of a capped task: its tasks that run or
-- wait in the queue, found without reading the ones that ended or that the cap holds.
CREATE INDEX jobs_array_active ON jobs (array_job_id, state)
  WHERE array_task_limit IS NOT NULL AND state IN ('PENDING', 'RUNNING')
    AND reason IS DISTINCT FROM 'JobArrayTaskLimit';
-- The tasks a cap holds, in index order per array: a task's end releases the next without reading the ended ones.
CREATE INDEX jobs_array_held ON jobs (array_job_id, array_task_id)
  WHERE state = 'PENDING' AND reason = 'JobArrayTaskLimit';
