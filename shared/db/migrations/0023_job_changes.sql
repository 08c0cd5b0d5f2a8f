-- Issue 20 (hold, release, update): a job's history records what was done to it while it waited, not only its state
-- transitions. Every row before this one is a 'transition' (or a note about one); 'hold', 'release' and 'update' rows
-- keep from_state = to_state (the state the job was in) and say in `changes` what changed, field by field:
-- {"time_limit": {"from": 3600, "to": 1800}}.
ALTER TABLE job_events ADD COLUMN kind text NOT NULL DEFAULT 'transition';
ALTER TABLE job_events ADD COLUMN changes jsonb;

-- The stored wait a hold replaced (BeginTime, Dependency, JobArrayTaskLimit, …): a hold takes the job's reason, and
-- its release gives the wait back rather than start a job whose begin time or dependency has not come. Null while
-- the job is not held.
ALTER TABLE jobs ADD COLUMN reason_before_hold text;
