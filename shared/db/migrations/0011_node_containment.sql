-- How each node contains its jobs, per concern (memory, cpus, kill, pids), as its heartbeat says it
-- (shared/protocol/containment.ts): shown by GET /v1/nodes. NULL until a daemon that says it has beaten.
ALTER TABLE nodes ADD COLUMN containment jsonb;
