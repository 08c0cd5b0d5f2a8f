-- Dispatch: whether a job's ref reached the queue, and the Postgres queue itself.

-- False when the push to the queue failed after the job was stored: the reconciler pushes it again.
ALTER TABLE jobs ADD COLUMN enqueued boolean NOT NULL DEFAULT true;
CREATE INDEX jobs_not_enqueued ON jobs (id) WHERE state = 'PENDING' AND NOT enqueued;

-- The Postgres queue's refs (the embedded default, and sites without Redis). A ref is queued while claimed_by is
-- null, and claimed by a node until its confirm settles it. No foreign key: like Redis, the queue holds refs that
-- may be stale, and the confirm drops those.
CREATE TABLE queue_refs (
  job_id     bigint      PRIMARY KEY,
  partition  text        NOT NULL,
  cpus       integer     NOT NULL,
  memory_mb  integer     NOT NULL,
  priority   integer     NOT NULL,
  exclusive  boolean     NOT NULL,
  claimed_by text,
  claimed_at timestamptz
);
-- A claim reads the head of each partition in queue order: an index range, whatever the depth.
CREATE INDEX queue_refs_order ON queue_refs (partition, priority DESC, job_id) WHERE claimed_by IS NULL;
CREATE INDEX queue_refs_claimed ON queue_refs (claimed_by) WHERE claimed_by IS NOT NULL;

-- Each partition's head and since when it has been the head (anti-starvation).
CREATE TABLE queue_heads (
  partition text        PRIMARY KEY,
  job_id    bigint      NOT NULL,
  since     timestamptz NOT NULL
);

-- The refs a claim considers: the first `depth` unclaimed refs of each partition, locked, skipping those another
-- claimer holds. The SET clauses pin the plan to the ordered index range: with stale statistics the planner would
-- otherwise sort every queued ref, and a claim would cost more the deeper the queue.
CREATE FUNCTION queue_window(parts text[], depth integer) RETURNS SETOF queue_refs
LANGUAGE sql VOLATILE
SET enable_sort = off
SET enable_bitmapscan = off
AS $$
  SELECT c.* FROM unnest(parts) AS part(name)
  CROSS JOIN LATERAL (
    SELECT * FROM queue_refs r
    WHERE r.partition = part.name AND r.claimed_by IS NULL
    ORDER BY r.priority DESC, r.job_id
    LIMIT depth
    FOR UPDATE SKIP LOCKED
  ) c
$$;
