-- Nodes at work: the jobs running on each node, found fast (heartbeat answers, node loss).
CREATE INDEX jobs_running_on_node ON jobs (node_name) WHERE state = 'RUNNING';

-- The process a running job is, as its node reported when it started it.
ALTER TABLE jobs ADD COLUMN pid integer;

-- An admin's drain, kept apart from liveness: a drained node that goes DOWN and comes back is still draining.
ALTER TABLE nodes ADD COLUMN drained boolean NOT NULL DEFAULT false;
