-- One reconciler at a time across every API process of a deployment (N Node hosts behind a load balancer, Workers
-- Cron runs that overlap): a run starts only while its reconciler holds this lease (api/reconciler-lease.ts). The
-- lease ends on its own, so a process that dies holding it stops no one for longer than its time to live.
ALTER TABLE scheduler_clock ADD COLUMN reconciler_holder text;
ALTER TABLE scheduler_clock ADD COLUMN reconciler_lease_until timestamptz;
