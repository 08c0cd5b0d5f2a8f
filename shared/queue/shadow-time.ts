/**
 * A reserved job's earliest start on a node (Slurm's "shadow time", the start its backfill reserves; slurm.conf(5),
 * SchedulerType=sched/backfill): the running jobs end by their time limits, soonest first, until what is free fits
 * it. An exclusive job needs all of them to end. The Redis claim script (redis/scripts/claim.lua) computes the same.
 */
import type { JobRef, NodeCapacity, RunningJob } from './job-queue.js';

/**
 * Milliseconds from now until `head` could start on the node, given what is free now and what runs (cpus, memory MB,
 * `endsInMs`). Null when no start can be computed: a job it waits on is UNLIMITED (endsInMs null), or even all of them
 * ending would not free enough (the node's report does not add up).
 */
export function shadowTimeMs(
  head: Pick<JobRef, 'cpus' | 'memoryMb' | 'exclusive'>,
  capacity: Pick<NodeCapacity, 'cpus' | 'memoryMb' | 'freeCpus' | 'freeMemoryMb'>,
  running: RunningJob[],
): number | null {
  const needCpus = head.exclusive ? capacity.cpus : head.cpus;
  const needMemory = head.exclusive ? capacity.memoryMb : head.memoryMb;
  let cpus = capacity.freeCpus;
  let memory = capacity.freeMemoryMb;
  let at = 0;
  // UNLIMITED last: reaching one means the head waits on it.
  const byEnd = [...running].sort((a, b) => (a.endsInMs ?? Infinity) - (b.endsInMs ?? Infinity));
  for (const job of byEnd) {
    if (cpus >= needCpus && memory >= needMemory) return at;
    if (job.endsInMs === null) return null;
    cpus += job.cpus;
    memory += job.memoryMb;
    at = Math.max(at, job.endsInMs);
  }
  return cpus >= needCpus && memory >= needMemory ? at : null;
}
