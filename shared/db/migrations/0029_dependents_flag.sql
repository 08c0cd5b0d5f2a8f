-- Issue 20's cost on every job: a start or an end looked for jobs depending on it with reads of its own, though
-- almost no job has any. A job's row now says whether one may: the submit of a dependent job sets it on its parents
-- (and on every task of a parent array) in the statement that locks them (insert-dependent-job.ts), and deciding a
-- singleton job sets it on the jobs that block it then (dependency-conditions.ts, markSingletonBlockers); a job's
-- transition, which waits for such a lock, returns the flag as it stands after that commit. Set, never cleared: a
-- true flag costs a read that may find nothing, a false one is a promise that nothing waits for this job.
ALTER TABLE jobs ADD COLUMN has_dependents boolean NOT NULL DEFAULT false;
UPDATE jobs SET has_dependents = true
WHERE id IN (SELECT parent_id FROM job_dependencies WHERE parent_id IS NOT NULL)
   OR array_job_id IN (SELECT parent_id FROM job_dependencies WHERE parent_id IS NOT NULL);
-- The blockers of the singleton jobs waiting now, as singletonBlocker() says.
UPDATE jobs r SET has_dependents = true
FROM jobs c
WHERE c.state = 'PENDING' AND EXISTS (SELECT 1 FROM job_dependencies s WHERE s.job_id = c.id AND s.kind = 'singleton')
  AND r.name = c.name AND r.unix_user IS NOT DISTINCT FROM c.unix_user AND r.id <> c.id
  AND (r.state = 'RUNNING' OR (r.state = 'PENDING' AND r.id < c.id));
