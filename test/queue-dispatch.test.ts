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
  // Their partitions, configured (UP) as the API's admission requires: the confirm starts only a configured one's jobs.
  await database.db.execute(sql`INSERT INTO partitions (name) VALUES ('a'), ('b') ON CONFLICT (name) DO NOTHING`);
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
    timeLimitSeconds: null,
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
        // 8 to 24 CPUs: several jobs (1 to 4 CPUs) fit each claim, and a full node must still stop taking.
        const cpus = 8 + (i % 5) * 4;
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
      // A guard against a livelock, a little under the test's own timeout: a busy machine is slow, not wrong.
      const deadline = Date.now() + 280_000;
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
    }, 300_000);

    /**
     * Two 2-CPU nodes run 1-CPU jobs, and new 1-CPU jobs keep coming; a 2-CPU job waits behind the first eight. The
     * nodes take turns, each turn one more small job submitted, the node's oldest job ending and the node claiming
     * one job: a node never has both cores free at once unless a claim took nothing. Turns, not times, so a busy
     * machine cannot free both cores of a node by running it late. Answers the turn the 2-CPU job started on, or
     * undefined after `turns` turns (or after `waitMs` of turns, polling every 10 ms, when `turns` is undefined).
     */
    async function turnOfBigJobStart(
      queue: JobQueue,
      until: { turns: number } | { waitMs: number },
    ): Promise<number | undefined> {
      let nextId = 1;
      const small = () => ({
        id: nextId++,
        partition: 'batch',
        cpus: 1,
        memoryMb: 10,
        priority: 0,
        exclusive: false,
        user: null,
        // Longer than any running job has left (below): never backfilled past the reserved 2-CPU job.
        timeLimitSeconds: 10,
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
        timeLimitSeconds: null,
      };
      await queue.enqueue([big]);
      const nodes = ['n1', 'n2'].map((name) => ({ name, running: [] as number[] }));
      /** The node claims one job for its free cores; answers whether it was the 2-CPU job. */
      const claimOne = async (node: (typeof nodes)[number]): Promise<boolean> => {
        const free = 2 - node.running.length;
        const [taken] = await queue.claim(
          {
            node: node.name,
            partitions: ['batch'],
            cpus: 2,
            memoryMb: 100,
            freeCpus: free,
            freeMemoryMb: 100,
            runsAs: { any_user: true, users: [], unnamed: true },
            // Backfill is on and knows when the 2-CPU job could start: the bound must hold all the same.
            running: node.running.map(() => ({ cpus: 1, memoryMb: 10, endsInMs: 5_000 })),
          },
          { max: 1 },
        );
        if (!taken) return false;
        await queue.settle(node.name, [taken.id]);
        node.running.push(...(taken.id === big.id ? [taken.id, taken.id] : [taken.id]));
        return taken.id === big.id;
      };
      for (const node of nodes) for (let core = 0; core < 2; core++) await claimOne(node);
      const giveUpAt = 'waitMs' in until ? Date.now() + until.waitMs : Infinity;
      for (let turn = 1; 'turns' in until ? turn <= until.turns : Date.now() < giveUpAt; turn++) {
        for (const node of nodes) {
          await queue.enqueue([small()]);
          node.running.shift();
          if (await claimOne(node)) return turn;
        }
        if ('waitMs' in until) await sleep(10); // the reservation comes with the job's age: let time pass
      }
      return undefined;
    }

    it('starts a 2-CPU job under a stream of 1-CPU jobs once it has waited its starvation bound', async () => {
      const { queue } = await open({ starvationMs: 300 });
      expect(await turnOfBigJobStart(queue, { waitMs: 45_000 })).toBeDefined();
    });

    it('(without the reservation, the same 2-CPU job starves)', async () => {
      const { queue } = await open({ starvationMs: 3_600_000 });
      expect(await turnOfBigJobStart(queue, { turns: 100 })).toBeUndefined();
    });
  });
}
