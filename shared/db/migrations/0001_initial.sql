-- The job table, its history, the nodes and the API tokens.
-- Written for both PostgreSQL 15 (servers, Neon) and PGlite (PostgreSQL 18 in WebAssembly).

CREATE TABLE jobs (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account            text        NOT NULL,
  name               text        NOT NULL,
  partition          text        NOT NULL,
  state              text        NOT NULL DEFAULT 'PENDING'
    CHECK (state IN ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL')),
  reason             text,
  priority           integer     NOT NULL DEFAULT 0,
  requeue            boolean     NOT NULL DEFAULT false,
  attempt            integer     NOT NULL DEFAULT 0,
  submitted_by       text        NOT NULL,
  script             text        NOT NULL,
  work_dir           text,
  stdout_pattern     text        NOT NULL,
  stderr_pattern     text        NOT NULL,
  environment        jsonb       NOT NULL,
  ntasks_per_node    integer     NOT NULL CHECK (ntasks_per_node > 0),
  cpus_per_task      integer     NOT NULL CHECK (cpus_per_task > 0),
  cpus               integer     NOT NULL CHECK (cpus = ntasks_per_node * cpus_per_task),
  memory_mb          integer     NOT NULL CHECK (memory_mb > 0),
  time_limit_seconds integer     CHECK (time_limit_seconds > 0),
  exclusive          boolean     NOT NULL DEFAULT false,
  node_name          text,
  cpu_ids            integer[],
  exit_status        integer,
  exit_signal        integer,
  error_msg          text,
  cancel_requested_at timestamptz,
  submit_time        timestamptz NOT NULL DEFAULT now(),
  eligible_time      timestamptz NOT NULL DEFAULT now(),
  start_time         timestamptz,
  end_time           timestamptz
);

-- Listing is newest first, filtered by one of these; the id breaks ties and is the cursor.
CREATE INDEX jobs_account_id   ON jobs (account, id DESC);
CREATE INDEX jobs_state_id     ON jobs (state, id DESC);
CREATE INDEX jobs_partition_id ON jobs (partition, id DESC);
CREATE INDEX jobs_name_id      ON jobs (name, id DESC);
-- Stats count per state and partition from the index alone.
CREATE INDEX jobs_state_partition ON jobs (state, partition);
-- Queue order of the waiting jobs: priority first, then submit order.
CREATE INDEX jobs_pending_queue ON jobs (priority DESC, id) WHERE state = 'PENDING';

CREATE TABLE job_events (
  id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_id     bigint      NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  attempt    integer     NOT NULL,
  from_state text,
  to_state   text        NOT NULL,
  at         timestamptz NOT NULL DEFAULT now(),
  actor      text        NOT NULL,
  reason     text
);
CREATE INDEX job_events_job_id ON job_events (job_id, id);

-- The submission is the first event of every job, written with the row itself: no job exists without it, and the
-- submit stays one plain INSERT that can be a prepared statement. Later transitions write their own events.
CREATE FUNCTION record_job_submission() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO job_events (job_id, attempt, from_state, to_state, actor, reason)
  VALUES (NEW.id, NEW.attempt, NULL, NEW.state, NEW.submitted_by, 'submitted');
  RETURN NULL;
END
$$;
CREATE TRIGGER jobs_record_submission AFTER INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION record_job_submission();

CREATE TABLE nodes (
  name           text        PRIMARY KEY,
  partitions     text[]      NOT NULL,
  cpus           integer     NOT NULL CHECK (cpus > 0),
  memory_mb      integer     NOT NULL CHECK (memory_mb > 0),
  state          text        NOT NULL DEFAULT 'UP' CHECK (state IN ('UP', 'DOWN', 'DRAINING')),
  last_heartbeat timestamptz,
  registered_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_tokens (
  id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name       text        NOT NULL,
  kind       text        NOT NULL CHECK (kind IN ('admin', 'user', 'node')),
  account    text,
  node_name  text,
  -- SHA-256 of the token: tokens are 256 random bits, so a fast hash is enough and a lookup is an index probe.
  hash       text        NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  CHECK ((kind = 'user') = (account IS NOT NULL)),
  CHECK ((kind = 'node') = (node_name IS NOT NULL))
);
