-- Nodes at work: the jobs running on each node, found fast (heartbeat answers, node loss).
CREATE INDEX jobs_running_on_node ON jobs (node_name) WHERE state = 'RUNNING';

-- The process a running job is, as its node reported when it started it.
ALTER TABLE jobs ADD COLUMN pid integer;
