-- Idempotent submit (issue 13, item 2; api/jobs/idempotent-submit.ts). A submit that carries an idempotency key writes
-- its key here in the same transaction as its job, so a retry of a submit whose answer was lost finds the job it made
-- instead of making another. The primary key decides races: of submits racing with one key, one commits its row and
-- job; the others wait on the row, find it, and answer its job.
-- `scope`: whose key it is (a user token's account; every admin token shares one scope), so that one account's key
--   never answers another account's job.
-- `request_hash`: SHA-256 of the path and the request body as canonical JSON: the same key with another body is refused.
-- `status`, `body`: the answer as first sent, byte for byte (text, not jsonb, which would reorder its keys).
-- Rows older than 24 h answer nothing and are swept by the reconciler.
CREATE TABLE idempotency_keys (
  scope        text        NOT NULL,
  key          text        NOT NULL,
  request_hash text        NOT NULL,
  job_id       bigint      REFERENCES jobs (id) ON DELETE CASCADE,
  status       smallint,
  body         text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
