/**
 * The claim decision, for queues that make it outside the data store (the Postgres queue). The Redis queue makes the
 * same decision inside its claim script (redis/scripts/claim.lua); the conformance suite holds both to the same
 * behaviour.
 *
 * Candidates arrive in queue order. One the node does not run (its owner, shared/protocol/runs-as.ts) is passed over as
 * if absent: it neither is taken nor holds the node back. Each other is taken if it fits what is still free (an
 * exclusive one only on an idle node, and then it takes the node). A reserved head (it waited too long) that does not
 * fit now but could once the node drains holds the node for itself: past it, the node takes only backfill, a job that
 * fits now and whose time limit ends it before the head's earliest start there (the shadow time, shadow-time.ts), as
 * Slurm's sched/backfill does (slurm.conf(5), SchedulerType). When that start cannot be computed (the node's running
 * jobs are unknown, or one the head waits on is UNLIMITED) or backfill is off, the head ends the claim: the node takes
 * nothing queued after it, from any partition, until it fits.
 */
import { runsJobOf } from '../protocol/runs-as.js';
import type { JobRef, NodeCapacity, RunningJob } from './job-queue.js';
import { shadowTimeMs } from './shadow-time.js';

export interface FirstFit {
  taken: JobRef[];
  /** Whether more candidates could change the outcome: room is left and no reservation ended the claim. */
  wantsMore: boolean;
}

export function firstFit(
  candidates: JobRef[],
  capacity: NodeCapacity,
  reservedHeads: ReadonlySet<number>,
  max: number,
  backfill = true,
): FirstFit {
  let freeCpus = capacity.freeCpus;
  let freeMemory = capacity.freeMemoryMb;
  let idle = freeCpus === capacity.cpus && freeMemory === capacity.memoryMb;
  // What runs once this claim's refs start too: a reserved head waits on them as on the running ones.
  const running: RunningJob[] | undefined = capacity.running && [...capacity.running];
  // Past a reserved head: only refs that end by this (ms from now) may still start.
  let backfillUntilMs = Infinity;
  const taken: JobRef[] = [];
  for (const ref of candidates) {
    if (taken.length >= max || freeCpus <= 0) break;
    if (!runsJobOf(capacity.runsAs, ref.user)) continue;
    const fits = ref.exclusive
      ? idle && ref.cpus <= capacity.cpus && ref.memoryMb <= capacity.memoryMb
      : ref.cpus <= freeCpus && ref.memoryMb <= freeMemory;
    const endsInTime =
      backfillUntilMs === Infinity || (ref.timeLimitSeconds !== null && ref.timeLimitSeconds * 1000 <= backfillUntilMs);
    if (fits && endsInTime) {
      taken.push(ref);
      const cpus = ref.exclusive ? capacity.cpus : ref.cpus;
      const memoryMb = ref.exclusive ? capacity.memoryMb : ref.memoryMb;
      running?.push({ cpus, memoryMb, endsInMs: ref.timeLimitSeconds === null ? null : ref.timeLimitSeconds * 1000 });
      freeCpus = ref.exclusive ? 0 : freeCpus - ref.cpus;
      freeMemory = ref.exclusive ? 0 : freeMemory - ref.memoryMb;
      idle = false;
    } else if (!fits && reservedHeads.has(ref.id) && ref.cpus <= capacity.cpus && ref.memoryMb <= capacity.memoryMb) {
      const shadow =
        backfill && running ? shadowTimeMs(ref, { ...capacity, freeCpus, freeMemoryMb: freeMemory }, running) : null;
      if (shadow === null) return { taken, wantsMore: false };
      backfillUntilMs = Math.min(backfillUntilMs, shadow);
    }
  }
  return { taken, wantsMore: taken.length < max && freeCpus > 0 };
}
