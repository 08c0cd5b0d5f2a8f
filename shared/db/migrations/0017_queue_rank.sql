-- Queue order listings (GET /v1/jobs?order=queue, api/jobs/queue-order.ts): PENDING jobs by (-priority, id), paged
-- by a keyset (rank, id) > (cursor). jobs_pending_queue (priority DESC, id) gives the order, but a row comparison
-- cannot mix directions, so a deep page would filter every job before it; this index reads one range instead.
CREATE INDEX jobs_queue_rank ON jobs ((-priority), id) WHERE state = 'PENDING';
