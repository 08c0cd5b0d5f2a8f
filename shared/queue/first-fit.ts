/**
 * The claim decision, for queues that make it outside the data store (the Postgres queue). The Redis queue makes the
 * same decision inside its claim script (redis/scripts/claim.lua); the conformance suite holds both to the same
 * behaviour.
 *
 * Candidates arrive in queue order. One the node does not run (its owner, shared/protocol/runs-as.ts) is passed over as
 * if absent: it neither is taken nor holds the node back. Each other is taken if it fits what is still free (an exclusive one only on an idle
 * node, and then it takes the node). A reserved head (it waited too long) that does not fit now but could once the
 * node drains ends the claim: the node takes nothing queued after it, from any partition, until it fits.
 */
import { runsJobOf } from '../protocol/runs-as.js';
import type { JobRef, NodeCapacity } from './job-queue.js';

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
): FirstFit {
  let freeCpus = capacity.freeCpus;
  let freeMemory = capacity.freeMemoryMb;
  let idle = freeCpus === capacity.cpus && freeMemory === capacity.memoryMb;
  const taken: JobRef[] = [];
  for (const ref of candidates) {
    if (taken.length >= max || freeCpus <= 0) break;
    if (!runsJobOf(capacity.runsAs, ref.user)) continue;
    const fits = ref.exclusive
      ? idle && ref.cpus <= capacity.cpus && ref.memoryMb <= capacity.memoryMb
      : ref.cpus <= freeCpus && ref.memoryMb <= freeMemory;
    if (fits) {
      taken.push(ref);
      freeCpus = ref.exclusive ? 0 : freeCpus - ref.cpus;
      freeMemory = ref.exclusive ? 0 : freeMemory - ref.memoryMb;
      idle = false;
    } else if (reservedHeads.has(ref.id) && ref.cpus <= capacity.cpus && ref.memoryMb <= capacity.memoryMb) {
      return { taken, wantsMore: false };
    }
  }
  return { taken, wantsMore: taken.length < max && freeCpus > 0 };
}
