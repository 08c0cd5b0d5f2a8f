/**
 * Where a node daemon claims refs: straight from the queue when it can reach it (Redis over TCP or Upstash, or the
 * API's own queue when the daemon runs inside the API process), or through the API's claim endpoint otherwise.
 * Confirming always goes through the API, which decides what really starts.
 */
import type { JobQueue, NodeCapacity } from '../shared/queue/job-queue.js';
import type { NodeApi } from './node-api.js';

export interface ClaimSource {
  /** The ids of the refs taken for this node, maybe none. */
  claim(capacity: NodeCapacity, max: number): Promise<number[]>;
  close(): Promise<void>;
}

export function queueClaimSource(queue: JobQueue, options: { ownsQueue: boolean }): ClaimSource {
  return {
    async claim(capacity, max) {
      return (await queue.claim(capacity, { max })).map((ref) => ref.id);
    },
    close: () => (options.ownsQueue ? queue.close() : Promise.resolve()),
  };
}

export function apiClaimSource(api: NodeApi): ClaimSource {
  return {
    claim: (capacity, max) =>
      api.claim({
        partitions: capacity.partitions,
        cpus: capacity.cpus,
        memory_mb: capacity.memoryMb,
        free_cpus: capacity.freeCpus,
        free_memory_mb: capacity.freeMemoryMb,
        max,
        runs_as: capacity.runsAs,
        ...(capacity.running && {
          running: capacity.running.map((job) => ({
            cpus: job.cpus,
            memory_mb: job.memoryMb,
            ends_in_ms: job.endsInMs === null ? null : Math.max(0, Math.ceil(job.endsInMs)),
          })),
        }),
      }),
    close: async () => {},
  };
}
