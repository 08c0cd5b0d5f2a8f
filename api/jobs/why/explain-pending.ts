/**
 * "Why is my job pending?" (issue 19, item 6): for one PENDING job, its reason, its place in its partition's queue
 * and the jobs ahead, each node of its partition with why it cannot start there now, the account limit that holds it,
 * and its expected start as `squeue --start` computes it (expected-start.ts).
 */
import type { Database } from '../../../shared/db/database.js';
import type { JobRow } from '../../../shared/db/schema.js';
import { heldBy, isAccountLimit, readAccountUse, type AccountLimitReason } from '../account-use.js';
import { isWorkflowWait, type WorkflowWaitReason } from '../../../shared/job/pending-reason.js';
import { pendingReasons, type PendingReason } from '../pending-reasons.js';
import { expectedStart, type PlannedJob } from './expected-start.js';
import { nodeVerdict, type NodeVerdict, type PartitionNode } from './node-verdicts.js';
import type { Allocation } from './node-room.js';
import { readWhyFacts, type AheadJob, type WhyFacts } from './read-why-facts.js';

/** How many jobs ahead the answer lists. */
export const LISTED_AHEAD = 20;
/**
 * How many jobs ahead the expected start simulates. A placement tries each end on a node and checks the room at each
 * start within its limit, so the cost grows with about the cube of the jobs on a node: 100 ahead on two busy 64-core
 * nodes plan in about 50 ms on a busy 2-core machine, 500 in most of a second. Past it the answer says the start may
 * be later.
 */
export const SIMULATED_AHEAD = 100;

export interface WhyPending {
  job: JobRow;
  reason: PendingReason;
  /** 1 for the next job of its partition. */
  position: number;
  aheadCount: number;
  /** The first LISTED_AHEAD jobs ahead, in queue order. */
  ahead: AheadJob[];
  nodes: NodeVerdict[];
  /** The account limit its stored reason names, with what is in use of it; null when none holds it. */
  accountLimit: {
    reason: AccountLimitReason;
    limit: number | null;
    inUse: number;
    unit: 'cpus' | 'jobs';
  } | null;
  expectedStart: {
    /** Epoch ms; null when not computable (then `note` says why). */
    at: number | null;
    node: string | null;
    note: string | null;
    simulatedAhead: number;
    capped: boolean;
  };
}

/** Explains a PENDING job (the caller checks the state); `now` epoch ms. */
export async function explainPending(db: Database, job: JobRow, now: number): Promise<WhyPending> {
  const [facts, reasons, accounts] = await Promise.all([
    readWhyFacts(db, job, SIMULATED_AHEAD, now),
    pendingReasons(db, [job]),
    readAccountUse(db, isAccountLimit(job.reason) ? [job.account] : []),
  ]);
  const reason = reasons.get(job.id)!;
  const nodes = facts.nodes.map((node) => nodeVerdict(job, node, facts.running, now));
  const accountLimit = isAccountLimit(job.reason)
    ? { reason: job.reason, ...heldBy(job.reason, accounts.get(job.account)) }
    : null;
  return {
    job,
    reason,
    position: facts.aheadCount + 1,
    aheadCount: facts.aheadCount,
    ahead: facts.ahead.slice(0, LISTED_AHEAD),
    nodes,
    accountLimit,
    expectedStart: planStart(job, reason, facts, accountLimit, now),
  };
}

/** Why a job a workflow's wait holds has no computable start. */
const WAIT_NOTES: Record<Exclude<WorkflowWaitReason, 'BeginTime'>, string> = {
  JobHeldUser: 'held: it is planned once released',
  JobHeldAdmin: 'held by an admin: it is planned once an admin releases it',
  Dependency: 'it waits for the jobs it depends on: it is planned once they settle its dependency',
  DependencyNeverSatisfied:
    'its dependency can never be satisfied: it never starts (kill_on_invalid_dep false kept it)',
  JobArrayTaskLimit: 'its array runs as many tasks as its %N cap allows: it is queued again when a task ends',
};

function planStart(
  job: JobRow,
  reason: PendingReason,
  facts: WhyFacts,
  accountLimit: WhyPending['accountLimit'],
  now: number,
): WhyPending['expectedStart'] {
  const simulatedAhead = facts.ahead.length;
  const capped = facts.aheadCount > simulatedAhead;
  const none = (note: string) => ({ at: null, node: null, note, simulatedAhead: 0, capped: false });
  if (reason.reason === 'PartitionDown' || reason.reason === 'PartitionInactive') {
    return none(
      `partition ${job.partition} starts no job while it is ${reason.reason === 'PartitionDown' ? 'DOWN' : 'INACTIVE'}`,
    );
  }
  if (accountLimit !== null && accountLimit.limit !== null && neverFits(job, accountLimit.unit, accountLimit.limit)) {
    const asks = accountLimit.unit === 'cpus' ? `${job.cpus} CPUs` : 'a run';
    const field = accountLimit.unit === 'cpus' ? 'max_running_cpus' : 'max_running_jobs';
    return none(
      `it never starts under its account's limit: it asks for ${asks}, account ${job.account} may run ${accountLimit.limit} ${accountLimit.unit} at most (${field}); an admin must raise it`,
    );
  }
  if (isAccountLimit(job.reason)) {
    return none(`held by its account's limit: it is queued again when a run of account ${job.account} ends`);
  }
  // Out of the queue until its wait ends: no place in the queue to plan from (squeue --start shows N/A too), but
  // for a begin time, which is the earliest it may start.
  if (isWorkflowWait(job.reason)) {
    if (job.reason === 'BeginTime') {
      return { ...none('its begin time: the earliest it may start'), at: job.eligibleTime.getTime() };
    }
    return none(WAIT_NOTES[job.reason]);
  }
  const planned = (candidate: AheadJob | JobRow): PlannedJob => ({
    id: candidate.id,
    cpus: candidate.cpus,
    memoryMb: candidate.memoryMb,
    exclusive: candidate.exclusive,
    timeLimitSeconds: candidate.timeLimitSeconds,
    nodes: facts.nodes.filter((node) => mayRun(node, candidate, facts.running, now)),
  });
  if (facts.nodes.length === 0) return none(`no node serves partition ${job.partition}: it starts once one does`);
  const self = planned(job);
  if (self.nodes.length === 0) return none(`no node of partition ${job.partition} may run it (see nodes)`);
  const slot = expectedStart(self, facts.ahead.map(planned), facts.running, now);
  if (slot === null) {
    return {
      ...none('no computable start: the nodes it fits on are held by jobs with no time limit (UNLIMITED)'),
      simulatedAhead,
      capped,
    };
  }
  return {
    at: slot.start,
    node: slot.node,
    note: capped
      ? `only the first ${simulatedAhead} of the ${facts.aheadCount} jobs ahead were simulated: it may start later`
      : null,
    simulatedAhead,
    capped,
  };
}

/** Whether the job alone is over its account's running limit, which then holds it for ever. */
function neverFits(job: JobRow, unit: 'cpus' | 'jobs', limit: number): boolean {
  return unit === 'cpus' ? job.cpus > limit : limit < 1;
}

/** A node the job could ever start on: one whose verdict is only about room (busy or free). */
function mayRun(
  node: PartitionNode,
  job: { cpus: number; memoryMb: number; exclusive: boolean; user: string | null },
  running: readonly Allocation[],
  now: number,
): boolean {
  const { verdict } = nodeVerdict(job, node, running, now);
  return verdict === 'busy' || verdict === 'free';
}
