-- The event stream (issue 21, item 1; api/events/): job transitions and changes, and node state changes, in the
-- order their transactions committed, for GET /v1/events (SSE, resumable with Last-Event-ID) and what reads it next.
--
-- Its own table rather than job_events: job_events is a job's history, kept with the job (CONDUCTOR_JOB_RETENTION_DAYS)
-- and archived with it; the stream is a window kept CONDUCTOR_EVENT_RETENTION_DAYS and bounded in rows, and it also
-- carries nodes. Triggers fill it, so every writer of job_events and of nodes.state (now and later) feeds it.
--
-- Order: an identity alone is not commit order (a transaction that took id 5 may commit after the one that took id 6,
-- and a reader that delivered 6 would skip 5 for good). Each row carries its writing transaction's id (`tx`); a reader
-- takes only rows with tx < pg_snapshot_xmin(pg_current_snapshot()): every transaction below that horizon has ended,
-- and every one still able to write has a tx at or above it, so nothing can later appear below a delivered (tx, id).
CREATE TABLE stream_events (
  tx         xid8        NOT NULL DEFAULT pg_current_xact_id(),
  id         bigint      GENERATED ALWAYS AS IDENTITY,
  kind       text        NOT NULL CHECK (kind IN ('job', 'node')),
  at         timestamptz NOT NULL DEFAULT now(),
  from_state text,
  to_state   text        NOT NULL,
  reason     text,
  -- A job's event (no foreign key: the window outlives a purged job's row).
  job_id     bigint,
  attempt    integer,
  account    text,
  partition  text,
  unix_user  text,
  job_name   text,
  change     text,
  actor      text,
  changes    jsonb,
  -- A node's event.
  node       text,
  partitions text[],
  PRIMARY KEY (tx, id)
);
-- Retention deletes from the front of this (ids follow time closely enough: api/events/event-retention.ts).
CREATE INDEX stream_events_id ON stream_events (id);

-- The greatest (tx, id) retention deleted: a cursor below it missed events (410 cursor_expired). One row.
CREATE TABLE stream_events_dropped (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  tx  xid8    NOT NULL,
  id  bigint  NOT NULL
);

-- One statement's events in one INSERT (a transition batch of a thousand jobs is one trigger call), in job_events'
-- order, with the job's account and partition as they are when the event is written. The NOTIFY wakes the Node host's
-- poller (api/events/event-hub.ts) at commit; it carries nothing, so a listener of another schema is only woken.
CREATE FUNCTION stream_job_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO stream_events (kind, at, from_state, to_state, reason, job_id, attempt, account, partition, unix_user,
                             job_name, change, actor, changes)
  SELECT 'job', e.at, e.from_state, e.to_state, e.reason, e.job_id, e.attempt, j.account, j.partition, j.unix_user,
         j.name, e.kind, e.actor, e.changes
  FROM added e JOIN jobs j ON j.id = e.job_id
  ORDER BY e.id;
  PERFORM pg_notify('conductor_events', '');
  RETURN NULL;
END
$$;
CREATE TRIGGER job_events_stream AFTER INSERT ON job_events REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION stream_job_events();

-- A node's state as nodes.state holds it (UP, DOWN, DRAINING), from every writer: heartbeats, drains, the reconciler.
-- Transition tables cannot go with a column list, so every UPDATE of nodes runs this; a heartbeat's is one row.
CREATE FUNCTION stream_node_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO stream_events (kind, from_state, to_state, reason, node, partitions)
    SELECT 'node', NULL, n.state, n.reason, n.name, n.partitions FROM added n ORDER BY n.name;
  ELSE
    INSERT INTO stream_events (kind, from_state, to_state, reason, node, partitions)
    SELECT 'node', o.state, n.state, n.reason, n.name, n.partitions
    FROM added n JOIN removed o ON o.name = n.name
    WHERE n.state IS DISTINCT FROM o.state
    ORDER BY n.name;
  END IF;
  IF FOUND THEN
    PERFORM pg_notify('conductor_events', '');
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER nodes_stream_insert AFTER INSERT ON nodes REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION stream_node_events();
CREATE TRIGGER nodes_stream_update AFTER UPDATE ON nodes REFERENCING OLD TABLE AS removed NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION stream_node_events();
