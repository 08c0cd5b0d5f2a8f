-- Jobs an account's running limit holds (reason AssocGrpCpuLimit or AssocMaxJobsLimit, stored by the confirm): found
-- by account when a run of it ends, and by the reconciler's release step, without reading every PENDING job.
CREATE INDEX jobs_account_held ON jobs (account, priority DESC, id)
  WHERE state = 'PENDING' AND reason = ANY (ARRAY['AssocGrpCpuLimit', 'AssocMaxJobsLimit']);
