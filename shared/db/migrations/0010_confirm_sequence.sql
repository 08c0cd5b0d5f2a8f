-- Each node's confirm sequence (api/jobs/confirm-claims.ts): a confirm that hands the node jobs raises it and stamps
-- those jobs with it, in one transaction. A heartbeat says the sequence its daemon has journaled the runs of, so the
-- API settles a RUNNING job the heartbeat does not list only when it was confirmed before that heartbeat was sent
-- (api/nodes/settle-unlisted-runs.ts). Jobs confirmed before this migration have none: never settled that way.
ALTER TABLE nodes ADD COLUMN confirm_seq bigint NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN confirm_seq bigint;
