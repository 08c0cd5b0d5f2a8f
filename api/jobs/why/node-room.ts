/**
 * The room a node has for a job over time, as the why answer reasons about it: what each allocation (a running job,
 * or one the expected-start simulation placed) holds of the node from its start to its end, and what a job needs.
 * An exclusive job holds the whole node (sbatch --exclusive), so it needs a node with nothing on it.
 * Times are epoch milliseconds; an end of Infinity is a job with no time limit (UNLIMITED), which never frees.
 */

export interface RoomNode {
  name: string;
  cpus: number;
  memoryMb: number;
}

export interface Allocation {
  /** The job that holds it. */
  jobId: number;
  node: string;
  cpus: number;
  memoryMb: number;
  exclusive: boolean;
  start: number;
  /** start + time limit; Infinity for UNLIMITED. */
  end: number;
}

export interface JobSize {
  cpus: number;
  memoryMb: number;
  exclusive: boolean;
}

/** What the allocation holds of its node. */
export function held(node: RoomNode, allocation: Allocation): { cpus: number; memoryMb: number } {
  return allocation.exclusive ? { cpus: node.cpus, memoryMb: node.memoryMb } : allocation;
}

/** What the job needs free on the node to start there. */
export function needs(node: RoomNode, job: JobSize): { cpus: number; memoryMb: number } {
  return job.exclusive ? { cpus: node.cpus, memoryMb: node.memoryMb } : job;
}

/** Whether the node could ever hold the job, empty. */
export function bigEnough(node: RoomNode, job: JobSize): boolean {
  return node.cpus >= job.cpus && node.memoryMb >= job.memoryMb;
}

/** CPUs and memory free on the node at instant `at`: what the allocations holding it then leave. */
export function freeAt(
  node: RoomNode,
  allocations: readonly Allocation[],
  at: number,
): { cpus: number; memoryMb: number } {
  let cpus = node.cpus;
  let memoryMb = node.memoryMb;
  for (const allocation of allocations) {
    if (allocation.node !== node.name || allocation.start > at || allocation.end <= at) continue;
    const taken = held(node, allocation);
    cpus -= taken.cpus;
    memoryMb -= taken.memoryMb;
  }
  return { cpus, memoryMb };
}

/** Whether the job fits on the node for all of [start, start + duration): checked where an allocation begins. */
export function fitsDuring(
  node: RoomNode,
  job: JobSize,
  allocations: readonly Allocation[],
  start: number,
  duration: number,
): boolean {
  const need = needs(node, job);
  const checks = [start];
  for (const allocation of allocations) {
    if (allocation.node === node.name && allocation.start > start && allocation.start < start + duration) {
      checks.push(allocation.start);
    }
  }
  return checks.every((at) => {
    const free = freeAt(node, allocations, at);
    return free.cpus >= need.cpus && free.memoryMb >= need.memoryMb;
  });
}
