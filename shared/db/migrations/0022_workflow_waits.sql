-- Issue 20 (workflows). Jobs that a stored wait keeps out of the queue (a hold, a begin time, a dependency, an array's
-- cap): found without reading every PENDING job, by what ends the wait.
CREATE INDEX jobs_workflow_waits ON jobs (reason, id)
  WHERE state = 'PENDING'
    AND reason = ANY (ARRAY['JobHeldUser', 'JobHeldAdmin', 'BeginTime', 'Dependency', 'DependencyNeverSatisfied',
                            'JobArrayTaskLimit']);

-- A job array's tasks (sbatch --array): each task is a job of its own, with its own id; array_job_id is the id of
-- the array's first task (Slurm's ArrayJobId, %A) and array_task_id its index (ArrayTaskId, %a). Null for other jobs.
ALTER TABLE jobs ADD COLUMN array_job_id bigint;
ALTER TABLE jobs ADD COLUMN array_task_id integer;
CREATE INDEX jobs_array ON jobs (array_job_id, array_task_id) WHERE array_job_id IS NOT NULL;
