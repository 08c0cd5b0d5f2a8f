/**
 * Which reason a PENDING job waits for, decided from facts read at once (pending-reasons.ts reads them for a page of
 * jobs in one query). Slurm's reason codes (squeue(1), JOB REASON CODES), in the order that names the first thing
 * that would have to change for the job to start: what holds the job itself (a stored wait or account limit), then its
 * partition, then its partition's nodes, then its place in the queue.
 */
import { ownerPhrase } from '../../shared/protocol/runs-as.js';
import {
  isWorkflowWait,
  type PendingReason as ReasonCode,
  type WorkflowWaitReason,
} from '../../shared/job/pending-reason.js';
import type { PartitionState } from '../../shared/db/schema.js';
import { accountLimitPhrase, isAccountLimit, type AccountUse } from './account-use.js';

/** A PENDING job's reason as read now, and the same in words (the API's `reason_detail`). */
export interface PendingReason {
  reason: ReasonCode;
  /** e.g. "no UP node of partition batch runs jobs as alice", "partition gpu is DOWN". */
  detail: string;
}

/** The job, as the decision needs it. */
export interface WaitingJob {
  id: number;
  partition: string;
  user: string | null;
  account: string;
  /** Its stored reason: an account limit's or a workflow's wait (shared/job/pending-reason.ts, OUT_OF_QUEUE_REASONS). */
  reason: string | null;
}

/** What is true of the job's partition now, for its owner. */
export interface PartitionFacts {
  /** Its configured state; null for a partition with no row (older data: decided as UP). */
  state: PartitionState | null;
  /** Nodes that list the partition, in any state. */
  nodes: number;
  /** Of them, the ones not DOWN. */
  notDown: number;
  /** Of them, the ones UP and not drained: those that may take new work. */
  available: number;
  /** Of the available ones, those that run jobs of the job's owner (shared/protocol/runs-as.ts). */
  availableForOwner: number;
  /** The first PENDING job of the partition in queue order (priority desc, id asc) that no stored wait holds. */
  headId: number | null;
}

type Rule = (job: WaitingJob, facts: PartitionFacts, account: AccountUse | undefined) => PendingReason | undefined;

/** What each stored wait means, in the words of `reason_detail`. */
const WAIT_DETAILS: Record<WorkflowWaitReason, string> = {
  JobHeldUser: 'held by its user: it starts once released',
  JobHeldAdmin: 'held by an admin: only an admin releases it',
  BeginTime: 'its begin time has not come',
  Dependency: 'waits for the jobs it depends on',
  DependencyNeverSatisfied: 'a dependency of it can never be satisfied',
  JobArrayTaskLimit: 'its array runs as many tasks at once as its %N cap allows',
};

/** A hold, a begin time, a dependency or an array's cap holds the job itself, whatever its partition's state. */
const storedWorkflowWait: Rule = (job) =>
  isWorkflowWait(job.reason) ? { reason: job.reason, detail: WAIT_DETAILS[job.reason] } : undefined;

/** The confirm that refused the job over its account's running limit stored the reason; it holds until a run ends. */
const storedAccountLimit: Rule = (job, _facts, account) => {
  if (!isAccountLimit(job.reason)) return undefined;
  return { reason: job.reason, detail: accountLimitPhrase(job.reason, job.account, account) };
};

/** slurm.conf State=DOWN starts nothing queued; INACTIVE neither accepts nor starts. DRAIN still starts its queue. */
const partitionState: Rule = (job, facts) => {
  if (facts.state === 'INACTIVE')
    return { reason: 'PartitionInactive', detail: `partition ${job.partition} is INACTIVE` };
  if (facts.state === 'DOWN') return { reason: 'PartitionDown', detail: `partition ${job.partition} is DOWN` };
  return undefined;
};

const partitionNodes: Rule = (job, facts) =>
  facts.nodes === 0 ? { reason: 'PartitionNoNodes', detail: `no node serves partition ${job.partition}` } : undefined;

const nodesDown: Rule = (job, facts) =>
  facts.notDown === 0
    ? { reason: 'NodeDown', detail: `every node of partition ${job.partition} is DOWN (${facts.nodes})` }
    : undefined;

/** Nodes are up, but none may take it: drained, or (issue 12) none runs its owner. The owner text is issue 12's. */
const nodesUnavailable: Rule = (job, facts) => {
  if (facts.available === 0) {
    return {
      reason: 'ReqNodeNotAvail',
      detail: `every node of partition ${job.partition} that is not DOWN is drained (${facts.notDown})`,
    };
  }
  if (facts.availableForOwner === 0) {
    return {
      reason: 'ReqNodeNotAvail',
      detail: `no UP node of partition ${job.partition} runs ${ownerPhrase(job.user)}`,
    };
  }
  return undefined;
};

/** Slurm's Resources is the job the scheduler would start next; every one behind it waits for Priority. */
function queuePlace(job: WaitingJob, facts: PartitionFacts): PendingReason {
  return facts.headId === null || facts.headId === job.id
    ? { reason: 'Resources', detail: `next in partition ${job.partition}: waits for CPUs or memory to free` }
    : {
        reason: 'Priority',
        detail: `jobs of higher priority are ahead of it in partition ${job.partition}, job ${facts.headId} first`,
      };
}

/** In precedence order; the first that applies names the reason, and a job none holds waits for its place in the queue. */
const RULES: readonly Rule[] = [
  storedWorkflowWait,
  storedAccountLimit,
  partitionState,
  partitionNodes,
  nodesDown,
  nodesUnavailable,
];

/** The reason a PENDING job waits, from its partition's facts and, for a stored account limit, its account's use. */
export function decidePendingReason(
  job: WaitingJob,
  facts: PartitionFacts,
  account: AccountUse | undefined,
): PendingReason {
  for (const rule of RULES) {
    const decided = rule(job, facts, account);
    if (decided !== undefined) return decided;
  }
  return queuePlace(job, facts);
}
