/** The filters of GET /v1/jobs and its CSV export, read from their query into a JobFilter. */
import type { JobState } from '../../shared/job/job-state.js';
import { accountScope, type Principal } from '../auth/principal.js';
import type { JobFilter } from './list-jobs.js';

export interface JobFilterParams {
  state?: string | undefined;
  account?: string | undefined;
  user?: string | undefined;
  partition?: string | undefined;
  name?: string | undefined;
  submitted_after?: string | undefined;
  submitted_before?: string | undefined;
  ended_after?: string | undefined;
  ended_before?: string | undefined;
}

/**
 * The filter a principal asked for, within what it may see; undefined when a user token asked for another account
 * (it sees none of its jobs, as if there were none).
 */
export function jobFilter(query: JobFilterParams, principal: Principal): JobFilter | undefined {
  const scope = accountScope(principal);
  if (scope !== undefined && query.account !== undefined && query.account !== scope) return undefined;
  const date = (text: string | undefined) => (text === undefined ? undefined : new Date(text));
  return {
    states: query.state?.split(',') as JobState[] | undefined,
    account: scope ?? query.account,
    user: query.user,
    partition: query.partition,
    name: query.name,
    submittedAfter: date(query.submitted_after),
    submittedBefore: date(query.submitted_before),
    endedAfter: date(query.ended_after),
    endedBefore: date(query.ended_before),
  };
}
