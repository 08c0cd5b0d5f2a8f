-- Webhooks (issue 21, item 2; api/webhooks/): an account's subscriptions to its jobs' events, and each event's
-- delivery to each subscription, with its attempts (the delivery log).
--
-- A subscription reads the event stream (migration 0028) after its own cursor, horizon-safe: the fan-out writes the
-- deliveries of the events it read and moves the cursor in one transaction, so every event is delivered at least once
-- and none is skipped. The secret is kept as given (not hashed): the API signs every delivery with it.
CREATE TABLE webhooks (
  id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account    text        NOT NULL,
  url        text        NOT NULL,
  -- Only events into these job states (to_state); NULL: every job event of the account.
  states     text[],
  secret     text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- The stream position read through (read-events.ts): events after it are not fanned out yet.
  cursor_tx  xid8        NOT NULL,
  cursor_id  bigint      NOT NULL
);
CREATE INDEX webhooks_account ON webhooks (account);

CREATE TABLE webhook_deliveries (
  id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  webhook_id       bigint      NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  -- The event's stream position, its job, and the body as first built: a redelivery posts the same bytes.
  event_tx         xid8        NOT NULL,
  event_seq        bigint      NOT NULL,
  job_id           bigint      NOT NULL,
  type             text        NOT NULL,
  body             text        NOT NULL,
  attempts         integer     NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL,
  first_attempt_at timestamptz,
  last_attempt_at  timestamptz,
  last_status      integer,
  last_error       text,
  delivered_at     timestamptz,
  failed_at        timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (webhook_id, event_tx, event_seq)
);
-- The sender's pick: a subscription's open deliveries per job, oldest first (only the oldest of a job is due).
CREATE INDEX webhook_deliveries_open ON webhook_deliveries (webhook_id, job_id, id)
  WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
  WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (webhook_id, id DESC);
