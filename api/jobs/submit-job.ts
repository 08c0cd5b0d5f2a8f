import type { Database } from '../../shared/db/database.js';
import { toJobSpec, type SubmitRequest } from '../../shared/job/submit-request.js';
import { actorName, type Principal } from '../auth/principal.js';
import { Forbidden } from '../http/errors.js';
import { insertJob } from './insert-job.js';
import type { JobSummaryRow } from './job-summary.js';

/** The account an admin's job is charged to when the body names none. */
export const DEFAULT_ACCOUNT = 'default';

/** Submits a validated body for a principal: a user token submits to its own account only. */
export async function submitJob(db: Database, principal: Principal, body: SubmitRequest): Promise<JobSummaryRow> {
  const ownAccount = principal.kind === 'user' ? principal.account : DEFAULT_ACCOUNT;
  if (principal.kind === 'user' && body.job.account !== undefined && body.job.account !== ownAccount) {
    throw new Forbidden(`job.account: this token submits to account "${ownAccount}" only`);
  }
  return insertJob(db, toJobSpec(body, ownAccount), actorName(principal));
}
