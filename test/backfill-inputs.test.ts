/** The pure parts of backfill: a reserved job's earliest start on a node, and what a node says of its running jobs. */
import { describe, expect, it } from 'vitest';
import type { NodeJob } from '../shared/protocol/confirm.js';
import { shadowTimeMs } from '../shared/queue/shadow-time.js';
import { runningJobs } from '../worker-node/running-jobs.js';

const capacity = { cpus: 4, memoryMb: 4000, freeCpus: 1, freeMemoryMb: 1000 };
const head = { cpus: 3, memoryMb: 100, exclusive: false };

describe('the shadow time (a reserved job earliest start)', () => {
  it('walks the running jobs soonest end first until what is free fits it', () => {
    const running = [
      { cpus: 1, memoryMb: 100, endsInMs: 30_000 },
      { cpus: 1, memoryMb: 100, endsInMs: 10_000 },
      { cpus: 1, memoryMb: 2800, endsInMs: 20_000 },
    ];
    expect(shadowTimeMs(head, capacity, running)).toBe(20_000);
    // Memory counts too: 3000 MB free only once the 2800 MB job ends.
    expect(shadowTimeMs({ ...head, cpus: 2, memoryMb: 3000 }, capacity, running)).toBe(20_000);
    expect(shadowTimeMs({ ...head, exclusive: true }, capacity, running)).toBe(30_000);
  });

  it('has none when the job waits on an UNLIMITED one, or all ending would not free enough', () => {
    const running = [
      { cpus: 1, memoryMb: 100, endsInMs: 10_000 },
      { cpus: 2, memoryMb: 100, endsInMs: null },
    ];
    expect(shadowTimeMs({ ...head, cpus: 2 }, capacity, running)).toBe(10_000);
    expect(shadowTimeMs(head, capacity, running)).toBeNull();
    expect(shadowTimeMs(head, capacity, [])).toBeNull();
  });
});

describe("a node's running jobs, as its claims say them", () => {
  const job = (extra: Partial<NodeJob>) =>
    ({ cpus: 2, memory_mb: 512, exclusive: false, time_limit_seconds: 60, ...extra }) as NodeJob;

  it('ends each by its time limit from its start, relative to now; UNLIMITED is null, an exclusive one holds the node', () => {
    const now = 1_000_000;
    expect(
      runningJobs(
        [
          { job: job({}), startedAt: now - 15_000 },
          { job: job({ time_limit_seconds: null }), startedAt: now },
          { job: job({ exclusive: true }) },
          { job: job({ time_limit_seconds: 10 }), startedAt: now - 20_000 },
        ],
        8,
        now,
      ),
    ).toEqual([
      { cpus: 2, memoryMb: 512, endsInMs: 45_000 },
      { cpus: 2, memoryMb: 512, endsInMs: null },
      // Not started yet: a whole limit from now.
      { cpus: 8, memoryMb: 512, endsInMs: 60_000 },
      // Past its limit (being killed): ends now.
      { cpus: 2, memoryMb: 512, endsInMs: 0 },
    ]);
  });
});
