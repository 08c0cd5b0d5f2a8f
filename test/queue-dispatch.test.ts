/**
 * Dispatch under load, on every queue: many claimers racing through the real confirm statement, and a big job that
 * a stream of small ones would starve without its reservation.
 */
import { eq, sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { confirmClaims } from '../api/jobs/confirm-claims.js';
import { queryRows } from '../shared/db/query-rows.js';
import { jobEvents, nodes } from '../shared/db/schema.js';
import type { JobQueue, JobRef, NodeCapacity } from '../shared/queue/job-queue.js';
import { backends, createTestDatabase, type TestDatabase } from './helpers/test-databases.js';
import { queueBackends, type OpenQueue } from './helpers/test-queues.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const [pglite, postgres] = await backends();

/** Inserts PENDING jobs of mixed sizes in one statement and answers their refs. */
async function insertJobs(database: TestDatabase, count: number): Promise<JobRef[]> {
  const rows = await queryRows(
    database.db,
    sql`
      INSERT INTO jobs (account, name, partition, priority, submitted_by, script, stdout_pattern, stderr_pattern,
                        environment, ntasks_per_node, cpus_per_task, cpus, memory_mb, time_limit_seconds)
      SELECT 'race', 'j' || g, CASE WHEN g % 3 = 0 THEN 'b' ELSE 'a' END, g % 4, 'test', 'true', 'o', 'e', '{}'::jsonb,
             1, 1 + g % 4, 1 + g % 4, 100 * (1 + g % 20), 60
      FROM generate_series(1, ${count}) AS g
      RETURNING id, partition, cpus, memory_mb, priority
    `,
  );
  return rows.map((row) => ({
    id: Number(row.id),
    partition: String(row.partition),
    cpus: Number(row.cpus),
    memoryMb: Number(row.memory_mb),
    priority: Number(row.priority),
    user: null,
    exclusive: false,
  }));
}

for (const backend of await queueBackends()) {
  describe.skipIf(backend.skip)(`dispatch on ${backend.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });
    const open = async (tuning = {}): Promise<OpenQueue> => {
      const opened = await backend.open(tuning);
      cleanups.push(() => opened.close());
      return opened;
    };

    it('20 claimers, 5,000 jobs: each confirmed exactly once, no claimer over its capacity, nothing left', async () => {
      const { queue, database: queueDatabase } = await open();
      // Redis queues confirm against a database of their own: the server when there is one.
      let database = queueDatabase;
      if (!database) {
        database = await createTestDatabase(postgres!.skip ? pglite! : postgres!, { poolSize: 25 });
        cleanups.push(() => database!.destroy());
      }
      const refs = await insertJobs(database, 5000);
      for (let i = 0; i < refs.length; i += 500) await queue.enqueue(refs.slice(i, i + 500));

      const confirmations = new Map<number, number>();
      const violations: string[] = [];
      const claimers = Array.from({ length: 20 }, (_, i): NodeCapacity => {
        const cpus = 4 + (i % 5) * 2;
        return {
          node: `n${i}`,
          // Some list both partitions one way round, some the other: claims must not deadlock on it.
          partitions: i % 4 === 0 ? ['a'] : i % 4 === 1 ? ['b'] : i % 4 === 2 ? ['a', 'b'] : ['b', 'a'],
          cpus,
          memoryMb: cpus * 1000,
          freeCpus: cpus,
          freeMemoryMb: cpus * 1000,
          runsAs: { any_user: true, users: [], unnamed: true },
        };
      });
      // Registered and UP, as their heartbeats would make them: the confirm starts jobs only on such nodes.
      await database.db.insert(nodes).values(
        claimers.map((c) => ({
          name: c.node,
          partitions: c.partitions,
          cpus: c.cpus,
          memoryMb: c.memoryMb,
          lastHeartbeat: new Date(),
        })),
      );
      const deadline = Date.now() + 120_000;
      await Promise.all(
        claimers.map(async (capacity) => {
          const running: { cpus: number; memoryMb: number; until: number }[] = [];
          while (confirmations.size < refs.length && Date.now() < deadline) {
            const now = Date.now();
            for (let j = running.length - 1; j >= 0; j--) if (running[j]!.until <= now) running.splice(j, 1);
            const freeCpus = capacity.cpus - running.reduce((sum, r) => sum + r.cpus, 0);
            const freeMemoryMb = capacity.memoryMb - running.reduce((sum, r) => sum + r.memoryMb, 0);
            const claimed = await queue.claim({ ...capacity, freeCpus, freeMemoryMb });
            const cpus = claimed.reduce((sum, r) => sum + r.cpus, 0);
            const memory = claimed.reduce((sum, r) => sum + r.memoryMb, 0);
            if (cpus > freeCpus || memory > freeMemoryMb)
              violations.push(`${capacity.node} took ${cpus}/${freeCpus} cpus`);
            for (const r of claimed) {
              if (!capacity.partitions.includes(r.partition)) violations.push(`${capacity.node} took ${r.partition}`);
            }
            if (claimed.length === 0) {
              await sleep(running.length ? 1 : 5);
              continue;
            }
            // As the confirm endpoint does: settle, then confirm what really was this node's claim.
            const ids = await queue.settle(
              capacity.node,
              claimed.map((r) => r.id),
            );
            if (ids.length !== claimed.length)
              violations.push(`${capacity.node} lost ${claimed.length - ids.length} claims`);
            const { started, dropped } = await confirmClaims(database!.db, capacity.node, ids, `node:${capacity.node}`);
            if (dropped.length) violations.push(`${capacity.node} had ${dropped.length} dropped`);
            for (const job of started) {
              confirmations.set(job.id, (confirmations.get(job.id) ?? 0) + 1);
              running.push({ cpus: job.cpus, memoryMb: job.memoryMb, until: Date.now() + (job.id % 3) });
            }
          }
        }),
      );

      expect(violations).toEqual([]);
      expect(confirmations.size).toBe(refs.length);
      expect([...confirmations.values()].every((count) => count === 1)).toBe(true);
      expect(await queue.depth()).toEqual({});
      expect((await queue.missing(refs.map((r) => r.id))).length).toBe(refs.length);
      const [states] = await queryRows(
        database.db,
        sql`SELECT count(*) FILTER (WHERE state = 'RUNNING' AND attempt = 1)::int AS running, count(*)::int AS total FROM jobs`,
      );
      expect(states).toEqual({ running: refs.length, total: refs.length });
      expect(await database.db.$count(jobEvents, eq(jobEvents.toState, 'RUNNING'))).toBe(refs.length);
    }, 180_000);

    /**
     * Two 2-CPU nodes run 1-CPU jobs of 40 ms, started 20 ms apart, so a node never has both cores free at once, and
     * new 1-CPU jobs keep coming. A 2-CPU job waits until its reservation makes the nodes drain.
     */
    async function timeToStartBigJob(queue: JobQueue, giveUpMs: number): Promise<number | undefined> {
      let nextId = 1;
      const small = () => ({
        id: nextId++,
        partition: 'batch',
        cpus: 1,
        memoryMb: 10,
        priority: 0,
        exclusive: false,
        user: null,
      });
      await queue.enqueue(Array.from({ length: 8 }, small));
      const big = {
        id: nextId++,
        partition: 'batch',
        cpus: 2,
        memoryMb: 10,
        priority: 0,
        exclusive: false,
        user: null,
      };
      await queue.enqueue([big]);
      const enqueuedAt = Date.now();
      let startedAfter: number | undefined;
      const stopAt = enqueuedAt + giveUpMs;
      const stream = (async () => {
        // Three at a time, faster than two nodes take them, so that a free core always finds a small job.
        while (startedAfter === undefined && Date.now() < stopAt) {
          await queue.enqueue([small(), small(), small()]);
          await sleep(10);
        }
      })();
      const runNode = async (name: string, offset: number) => {
        await sleep(offset);
        const running: number[] = []; // end times
        const capacity = {
          node: name,
          partitions: ['batch'],
          cpus: 2,
          memoryMb: 100,
          runsAs: { any_user: true, users: [], unnamed: true },
        };
        const claimOne = async () => {
          const [taken] = await queue.claim(
            { ...capacity, freeCpus: 2 - running.length, freeMemoryMb: 100 },
            { max: 1 },
          );
          if (!taken) return;
          await queue.settle(name, [taken.id]);
          if (taken.id === big.id) {
            startedAfter ??= Date.now() - enqueuedAt;
            running.push(Date.now() + 40, Date.now() + 40);
          } else {
            running.push(Date.now() + 40);
          }
        };
        await claimOne();
        await sleep(20);
        await claimOne();
        while (startedAfter === undefined && Date.now() < stopAt) {
          running.sort((a, b) => a - b);
          // One ending at a time, each followed by a claim: both cores are free only if nothing small was taken.
          if (running.length && running[0]! <= Date.now()) {
            running.shift();
            await claimOne();
          } else if (running.length < 2) {
            await claimOne();
            await sleep(2);
          } else {
            await sleep(2);
          }
        }
      };
      await Promise.all([runNode('n1', 0), runNode('n2', 10), stream]);
      return startedAfter;
    }

    it('starts a 2-CPU job within the starvation bound under a stream of 1-CPU jobs', async () => {
      const bound = 300;
      const { queue } = await open({ starvationMs: bound });
      const startedAfter = await timeToStartBigJob(queue, 5000);
      expect(startedAfter).toBeDefined();
      // The bound, plus the time for one node to drain (a 40 ms job) and slack for a busy machine.
      expect(startedAfter!).toBeLessThan(bound + 700);
    }, 20_000);

    it('(without the reservation, the same 2-CPU job starves)', async () => {
      const { queue } = await open({ starvationMs: 3_600_000 });
      expect(await timeToStartBigJob(queue, 1500)).toBeUndefined();
    }, 20_000);
  });
}
