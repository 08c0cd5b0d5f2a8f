-- Nodes at work: the jobs running on each node, found fast (heartbeat answers, node loss).
CREATE INDEX jobs_running_on_node ON jobs (node_name) WHERE state = 'RUNNING';
