-- Owners (issue 12, item 1): every job names the Unix login it runs as, or none (an admin's job naming no user).
-- The column is `unix_user`, not `user`: `user` is an SQL keyword, and `SELECT user FROM jobs` silently answers the
-- session's role for every row instead of failing. The API calls it `user`.

-- A user token's Unix user: its jobs are always this user's. A token stored before keeps its name as its user when
-- the name is a POSIX login name (shared/names.ts, unixUser: useradd's default NAME_REGEX, at most 32 characters)
-- other than root; any other keeps NULL and cannot submit until an admin sets one (PATCH /v1/tokens/{id}).
ALTER TABLE api_tokens ADD COLUMN unix_user text;
UPDATE api_tokens SET unix_user = name
  WHERE kind = 'user' AND name ~ '^[a-z_][a-z0-9_-]{0,31}$' AND name <> 'root';
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_unix_user_of_user_token
  CHECK (unix_user IS NULL OR (kind = 'user' AND unix_user <> 'root'));

-- A job's owner; NULL: it names none (runs as root where its node allows root jobs). Jobs stored before name none.
ALTER TABLE jobs ADD COLUMN unix_user text;
ALTER TABLE jobs ADD CONSTRAINT jobs_unix_user_not_root CHECK (unix_user IS DISTINCT FROM 'root');
CREATE INDEX jobs_unix_user_id ON jobs (unix_user, id DESC);

-- The Postgres queue's refs carry it, so that a claim can skip the jobs its node does not run. Refs stored before
-- belong to jobs stored before, which name none.
ALTER TABLE queue_refs ADD COLUMN unix_user text;

-- How each node runs jobs, as its heartbeat says (protocol 3, shared/protocol/runs-as.ts). A node that has not said
-- (a daemon of protocol 2 or before) runs jobs as its own user: it is given only jobs that name no user.
ALTER TABLE nodes ADD COLUMN runs_any_user boolean NOT NULL DEFAULT false;
ALTER TABLE nodes ADD COLUMN runs_users text[] NOT NULL DEFAULT '{}';
ALTER TABLE nodes ADD COLUMN runs_unnamed boolean NOT NULL DEFAULT true;
