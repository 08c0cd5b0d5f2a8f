/**
 * Why a PENDING job does not start on each node of its partition now, node by node: the node is DOWN, drained (with
 * its drain's reason, sinfo -R), does not run the job's owner, is too small ever, is busy (what is free now, and when
 * enough frees by its running jobs' start + time limit), or has room now (the job waits for its turn).
 */
import { formatMemorySize } from '../../../shared/job/memory-size.js';
import type { NodeState } from '../../../shared/node-state.js';
import { ownerPhrase, runsJobOf, type RunsAs } from '../../../shared/protocol/runs-as.js';
import { bigEnough, freeAt, needs, type Allocation, type JobSize, type RoomNode } from './node-room.js';

export const NODE_VERDICTS = ['down', 'drained', 'owner_not_run', 'too_small', 'busy', 'free'] as const;
export type NodeVerdictCode = (typeof NODE_VERDICTS)[number];

export interface PartitionNode extends RoomNode {
  state: NodeState;
  drained: boolean;
  drainReason: string | null;
  runsAs: RunsAs;
}

export interface NodeVerdict {
  node: string;
  state: NodeState;
  cpus: number;
  memoryMb: number;
  verdict: NodeVerdictCode;
  /** The verdict in words, e.g. "busy: 2 of 8 CPUs and 10G of 64G free; 4 CPUs free at 2026-12-01T10:00:00.000Z". */
  detail: string;
  /** Free now: CPUs and MB (0 on a node that takes no work). */
  freeCpus: number;
  freeMemoryMb: number;
  /** Busy only: when enough frees by its running jobs' limits (epoch ms); null when not computable. */
  freesAt: number | null;
}

type Job = JobSize & { user: string | null };

/** The verdict of one node for the job; `running`: the RUNNING jobs' allocations (on any node), `now` epoch ms. */
export function nodeVerdict(job: Job, node: PartitionNode, running: readonly Allocation[], now: number): NodeVerdict {
  const free = freeAt(node, running, now);
  const verdict = (code: NodeVerdictCode, detail: string, freesAt: number | null = null): NodeVerdict => ({
    node: node.name,
    state: node.state,
    cpus: node.cpus,
    memoryMb: node.memoryMb,
    verdict: code,
    detail,
    freeCpus: Math.max(0, free.cpus),
    freeMemoryMb: Math.max(0, free.memoryMb),
    freesAt,
  });
  if (node.state === 'DOWN') return verdict('down', 'DOWN: it has stopped heartbeating or an admin set it down');
  if (node.drained || node.state !== 'UP')
    return verdict('drained', `drained: ${node.drainReason ?? 'no reason given'}`);
  if (!runsJobOf(node.runsAs, job.user)) return verdict('owner_not_run', `does not run ${ownerPhrase(job.user)}`);
  if (!bigEnough(node, job)) {
    return verdict(
      'too_small',
      `too small ever: it has ${node.cpus} CPUs and ${formatMemorySize(node.memoryMb)}; the job needs ${job.cpus} CPUs and ${formatMemorySize(job.memoryMb)}`,
    );
  }
  const need = needs(node, job);
  const room = `${Math.max(0, free.cpus)} of ${node.cpus} CPUs and ${formatMemorySize(Math.max(0, free.memoryMb))} of ${formatMemorySize(node.memoryMb)} free`;
  if (free.cpus >= need.cpus && free.memoryMb >= need.memoryMb) {
    return verdict('free', `room now (${room}): it starts there once the jobs ahead of it have theirs`);
  }
  const freesAt = whenEnoughFrees(node, need, running, now);
  if (freesAt === null) {
    const unlimited = running.find((allocation) => allocation.node === node.name && allocation.end === Infinity);
    return verdict(
      'busy',
      `busy: ${room}; no computable time: job ${unlimited?.jobId} on it has no time limit (UNLIMITED)`,
    );
  }
  return verdict('busy', `busy: ${room}; enough frees by ${new Date(freesAt).toISOString()}`, freesAt);
}

/** The first running job's end after which the node has the room; null if only a job with no time limit could free it. */
function whenEnoughFrees(
  node: RoomNode,
  need: { cpus: number; memoryMb: number },
  running: readonly Allocation[],
  now: number,
): number | null {
  const ends = running
    .filter((allocation) => allocation.node === node.name && allocation.end > now && allocation.end < Infinity)
    .map((allocation) => allocation.end)
    .sort((a, b) => a - b);
  for (const end of ends) {
    const free = freeAt(node, running, end);
    if (free.cpus >= need.cpus && free.memoryMb >= need.memoryMb) return end;
  }
  return null;
}
