-- Fencing on node loss (issue 13): each heartbeat renews the node's lease, until lease_expires_at (the API's clock);
-- a silent node's jobs are settled only once it has passed. NULL: a lease that never expires (CONDUCTOR_NODE_LEASE_SECONDS
-- = never): the node's jobs are settled only when it returns or an admin declares it DOWN. Nodes known before this
-- migration keep the silence limit they had (60 s from their last heartbeat) until their next heartbeat.
ALTER TABLE nodes ADD COLUMN lease_expires_at timestamptz;
UPDATE nodes SET lease_expires_at = last_heartbeat + interval '60 seconds';
