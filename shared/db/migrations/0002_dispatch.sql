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
