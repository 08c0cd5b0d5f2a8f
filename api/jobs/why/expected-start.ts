/**
 * A PENDING job's expected start, as `squeue --start` computes it (squeue(1): "the expected start time … of pending
 * jobs", from the scheduler's plan): running jobs end at their start + time limit, the jobs ahead of it in queue order
 * each take the earliest slot of a node that may run them where they fit for their whole time limit (first fit: the
 * earliest time, then the first node by name), and then the job itself. A job with no time limit holds its slot for
 * ever. The answer is an estimate: jobs end early, and jobs of higher priority may come.
 */
import { fitsDuring, type Allocation, type JobSize, type RoomNode } from './node-room.js';

export interface PlannedJob extends JobSize {
  id: number;
  /** Seconds; null: UNLIMITED. */
  timeLimitSeconds: number | null;
  /** The nodes (by name, in first-fit order) that may run it: up, not drained, running its owner, big enough. */
  nodes: readonly RoomNode[];
}

export interface Slot {
  node: string;
  /** Epoch ms. */
  start: number;
}

/**
 * The earliest slot of the job among its nodes, given what the allocations hold; null when none is computable (every
 * node it fits on is held for ever by jobs with no time limit). Candidate starts are `now` and each allocation's end:
 * room only ever appears when something ends.
 */
export function earliestSlot(job: PlannedJob, allocations: readonly Allocation[], now: number): Slot | null {
  const duration = job.timeLimitSeconds === null ? Infinity : job.timeLimitSeconds * 1000;
  let best: Slot | null = null;
  for (const node of job.nodes) {
    // Only this node's allocations matter to it: filtered once, not at every candidate.
    const onNode = allocations.filter((allocation) => allocation.node === node.name && allocation.end > now);
    const candidates = [
      now,
      ...onNode.filter((allocation) => allocation.end < Infinity).map((allocation) => allocation.end),
    ]
      .filter((at) => best === null || at < best.start)
      .sort((a, b) => a - b);
    const start = candidates.find((at) => fitsDuring(node, job, onNode, at, duration));
    if (start !== undefined) best = { node: node.name, start };
  }
  return best;
}

/**
 * Places the jobs ahead (in queue order) and then the job; answers the job's slot, or null. A job ahead that has no
 * computable slot takes none (it holds nothing in the plan, as it would start nowhere).
 */
export function expectedStart(
  job: PlannedJob,
  ahead: readonly PlannedJob[],
  running: readonly Allocation[],
  now: number,
): Slot | null {
  const plan = [...running];
  for (const other of ahead) {
    const slot = earliestSlot(other, plan, now);
    if (slot === null) continue;
    const end = other.timeLimitSeconds === null ? Infinity : slot.start + other.timeLimitSeconds * 1000;
    plan.push({
      jobId: other.id,
      node: slot.node,
      cpus: other.cpus,
      memoryMb: other.memoryMb,
      exclusive: other.exclusive,
      start: slot.start,
      end,
    });
  }
  return earliestSlot(job, plan, now);
}
