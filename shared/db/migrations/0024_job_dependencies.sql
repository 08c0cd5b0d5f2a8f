-- Issue 20: job dependencies (sbatch --dependency). One row per condition of a dependent job. A job may depend only
-- on jobs that exist when it is submitted, so every parent has a lower id than its child: the CHECK keeps the graph
-- acyclic by construction. `satisfied` is decided once, when the parent's state settles it (true: holds for good;
-- false: never can); null while it waits. Singleton rows have no parent and stay null: they are decided live.
CREATE TABLE job_dependencies (
  job_id bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  position integer NOT NULL,
  kind text NOT NULL CHECK (kind IN ('after', 'afterany', 'afterok', 'afternotok', 'aftercorr', 'singleton')),
  parent_id bigint CHECK ((kind = 'singleton') = (parent_id IS NULL) AND parent_id < job_id),
  -- '?' (any one holds) rather than ',' (all hold): the same on every row of a job.
  any_of boolean NOT NULL,
  -- sbatch --kill-on-invalid-dep: a job that can never start is cancelled (yes, the default) or kept PENDING.
  kill_on_invalid boolean NOT NULL,
  satisfied boolean,
  PRIMARY KEY (job_id, position)
);
-- What a parent's start or end looks up: the undecided conditions on it.
CREATE INDEX job_dependencies_waiting ON job_dependencies (parent_id) WHERE satisfied IS NULL;
-- What a run's end looks up for singleton: the waiting jobs of a name and user.
CREATE INDEX jobs_dependency_name ON jobs (name, unix_user) WHERE state = 'PENDING' AND reason = 'Dependency';
