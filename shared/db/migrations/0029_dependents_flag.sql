-- Issue 20's cost on every job: a start or an end looked for jobs depending on it with a read of its own, though
-- almost no job has any. A job's row now says whether one may depend on it: the submit of a dependent job sets it on
-- its parents (and on every task of a parent array) in the statement that locks them (insert-dependent-job.ts), so a
-- parent's transition, which waits for that lock, returns the flag as it stands after the dependent's commit. Set
-- once, never cleared: a true flag costs one read that finds nothing, a false one is a promise nothing depends on it.
ALTER TABLE jobs ADD COLUMN has_dependents boolean NOT NULL DEFAULT false;
UPDATE jobs SET has_dependents = true
WHERE id IN (SELECT parent_id FROM job_dependencies WHERE parent_id IS NOT NULL)
   OR array_job_id IN (SELECT parent_id FROM job_dependencies WHERE parent_id IS NOT NULL);
