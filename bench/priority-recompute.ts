/**
 * `npm run bench:priority`: the cost of the priority recompute (api/priority/recompute-priority.ts) for 100,000
 * PENDING jobs, on the Postgres server, with the Redis queue and with the Postgres queue; and whether claims on the
 * Redis queue slow while it runs.
 *
 * Set-up (not timed): a fresh migrated schema; 16 nodes of 64 CPUs; partitions `batch` (tier 2) and `low` (tier 1);
 * 20 accounts with 1 to 4 shares and decayed usage spread over two orders of magnitude; N PENDING jobs of 1 to 4 CPUs
 * across them, eligible over the last 7 days (so their age factors differ), each with its ref in Redis (a fresh key
 * prefix) and in queue_refs.
 * 1. Recompute, each queue: `cold` (every job still at priority 0: every row changes, and on Redis every ref is
 *    pushed in batches of 1000), then, after a VACUUM (autovacuum's part), `steady` (30 s later, as the reconciler runs
 *    it: only ages that crossed a whole point change), and each step of a steady run alone. Time in ms, rows changed.
 * 2. Claims per second on the Redis queue: C claimers (8-CPU nodes, claim + release in a loop, one shared ioredis
 *    client as the API host has) for a fixed time without a recompute, during a cold recompute (priorities reset to 0
 *    first, so it rewrites and pushes every ref: the worst case), without again, then during a steady one (the common
 *    case). The ratios are during / the mean of the two runs without.
 *
 * Env: DATABASE_URL (the local test server), REDIS_URL (redis://127.0.0.1:6379), BENCH_JOBS (100000),
 * BENCH_CLAIMERS (4), BENCH_BASELINE_MS (3000). Prints `name value unit` lines, then a table.
 */
import { sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { chargeUsage } from '../api/priority/charge-usage.js';
import { updateFairshareFactors } from '../api/priority/fairshare-factors.js';
import { recomputePriorities, type RecomputeResult } from '../api/priority/recompute-priority.js';
import { reprioritiseJobs } from '../api/priority/reprioritise-jobs.js';
import { DEFAULT_PRIORITY } from '../shared/config/priority-settings.js';
import { loadMigrations } from '../shared/db/migration-files.js';
import { migrate } from '../shared/db/migrator.js';
import { openNodeDatabase, type NodeDatabase } from '../shared/db/node-database.js';
import { queryRows } from '../shared/db/query-rows.js';
import type { JobQueue, JobRef, NodeCapacity } from '../shared/queue/job-queue.js';
import { PostgresJobQueue } from '../shared/queue/postgres-job-queue.js';
import { ioredisClient } from '../shared/queue/redis/ioredis-client.js';
import { RedisJobQueue } from '../shared/queue/redis/redis-job-queue.js';
import { adminQuery } from '../test/helpers/test-databases.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const POSTGRES_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const JOBS = positiveInt('BENCH_JOBS', 100_000);
const CLAIMERS = positiveInt('BENCH_CLAIMERS', 4);
const BASELINE_MS = positiveInt('BENCH_BASELINE_MS', 3000);
const RUN_ID = randomBytes(4).toString('hex');
const PREFIX = `bench:priority:${RUN_ID}:`;
const SETTINGS = DEFAULT_PRIORITY;
const ENQUEUE_BATCH = 5000;

function positiveInt(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive whole number`);
  return value;
}

function metric(name: string, value: number | string, unit: string): void {
  console.log(`${name} ${typeof value === 'number' ? value.toFixed(1) : value} ${unit}`);
}

/** The cluster, accounts and N PENDING jobs, as described above; answers the jobs' refs. */
async function seed(database: NodeDatabase): Promise<JobRef[]> {
  const { db } = database;
  await db.execute(sql`
    INSERT INTO nodes (name, partitions, cpus, memory_mb)
    SELECT 'node' || n, '{batch,low}', 64, 256000 FROM generate_series(1, 16) AS n
  `);
  await db.execute(sql`
    INSERT INTO partitions (name, priority_tier) VALUES ('batch', 2), ('low', 1)
    ON CONFLICT (name) DO UPDATE SET priority_tier = EXCLUDED.priority_tier
  `);
  await db.execute(sql`
    INSERT INTO accounts (name, fairshare_shares) SELECT 'acct' || a, 1 + a % 4 FROM generate_series(0, 19) AS a
    ON CONFLICT (name) DO UPDATE SET fairshare_shares = EXCLUDED.fairshare_shares
  `);
  await db.execute(sql`
    INSERT INTO account_usage (account, usage_cpu_seconds)
    SELECT 'acct' || a, power(10, 3 + (a % 7) / 3.0) FROM generate_series(0, 19) AS a
  `);
  // The charged window starts a reconciler interval ago, as it would in a running deployment.
  await db.execute(sql`UPDATE scheduler_clock SET charged_until = now() - interval '30 seconds'`);
  const rows = await queryRows(
    db,
    sql`
      INSERT INTO jobs (account, name, partition, submitted_by, script, stdout_pattern, stderr_pattern, environment,
                        ntasks_per_node, cpus_per_task, cpus, memory_mb, eligible_time, submit_time)
      SELECT 'acct' || (n % 20), 'bench', CASE WHEN n % 3 = 0 THEN 'low' ELSE 'batch' END, 'admin:bench', 'true',
             'o', 'o', '{}', 1, 1 + n % 4, 1 + n % 4, 100,
             now() - (n % 604800) * interval '1 second', now() - (n % 604800) * interval '1 second'
      FROM generate_series(1, ${JOBS}) AS n
      RETURNING id, partition, cpus, memory_mb, priority, exclusive, unix_user, time_limit_seconds
    `,
  );
  const refs = rows.map((row): JobRef => ({
    id: Number(row.id),
    partition: String(row.partition),
    cpus: Number(row.cpus),
    memoryMb: Number(row.memory_mb),
    priority: Number(row.priority),
    exclusive: row.exclusive === true,
    user: null,
    timeLimitSeconds: row.time_limit_seconds === null ? null : Number(row.time_limit_seconds),
  }));
  await db.execute(sql`
    INSERT INTO queue_refs (job_id, partition, cpus, memory_mb, priority, exclusive, unix_user, time_limit_seconds)
    SELECT id, partition, cpus, memory_mb, priority, exclusive, unix_user, time_limit_seconds FROM jobs
  `);
  await db.execute(sql`ANALYZE`);
  return refs;
}

/** Every job back at priority 0 and the recompute due: the next one rewrites every row. */
async function resetPriorities(database: NodeDatabase, queue: JobQueue): Promise<void> {
  await database.db.execute(sql`UPDATE jobs SET priority = 0`);
  await database.db.execute(sql`UPDATE queue_refs SET priority = 0`);
  await database.db.execute(sql`UPDATE scheduler_clock SET priority_computed_at = NULL`);
  const ids = (await queryRows(database.db, sql`SELECT id FROM jobs`)).map((row) => Number(row.id));
  for (let i = 0; i < ids.length; i += ENQUEUE_BATCH) {
    await queue.reprioritise(ids.slice(i, i + ENQUEUE_BATCH).map((id) => ({ id, priority: 0 })));
  }
}

async function timedRecompute(
  database: NodeDatabase,
  queue: JobQueue,
  now: Date,
): Promise<{ ms: number; result: RecomputeResult }> {
  const started = performance.now();
  const result = await recomputePriorities(database.db, queue, SETTINGS, now);
  const ms = performance.now() - started;
  if (!result) throw new Error('the recompute was skipped: it should have been due');
  return { ms, result };
}

const nodeCapacity = (name: string): NodeCapacity => ({
  node: name,
  partitions: ['batch', 'low'],
  cpus: 8,
  memoryMb: 64_000,
  freeCpus: 8,
  freeMemoryMb: 64_000,
  runsAs: { any_user: true, users: [], unnamed: true },
});

/** Each step of a steady recompute alone (outside its lock, which costs nothing here): where its time goes. */
async function stepTimes(database: NodeDatabase, now: Date, withRefs: boolean): Promise<Record<string, number>> {
  const { db } = database;
  const timed = async (work: () => Promise<unknown>) => {
    const started = performance.now();
    await work();
    return performance.now() - started;
  };
  return {
    charge: await timed(() => chargeUsage(db, new Date(now.getTime() - SETTINGS.intervalMs), now, SETTINGS.halfLifeMs)),
    fairshare: await timed(() => updateFairshareFactors(db, now)),
    jobs: await timed(() => reprioritiseJobs(db, SETTINGS, now, { withRefs, afterId: 0, limit: JOBS })),
  };
}

/** Claims (+ releases) in C loops until `until` resolves; answers claims per second. */
async function claimRate(queue: JobQueue, until: Promise<unknown>): Promise<{ perSecond: number; claims: number }> {
  let done = false;
  void until.then(() => (done = true));
  let claims = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLAIMERS }, async (_, i) => {
      const capacity = nodeCapacity(`claimer${i}`);
      while (!done) {
        const taken = await queue.claim(capacity);
        claims++;
        // Put back, not settled: the queue keeps its depth, so every phase claims from the same refs.
        if (taken.length)
          await queue.release(
            capacity.node,
            taken.map((ref) => ref.id),
          );
      }
    }),
  );
  await until;
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: claims / seconds, claims };
}

async function main(): Promise<void> {
  const schema = `bench_priority_${RUN_ID}`;
  await adminQuery(`CREATE SCHEMA ${schema}`);
  const admin = new Redis(REDIS_URL);
  const redisQueue = new RedisJobQueue(ioredisClient(REDIS_URL), PREFIX);
  const rows: string[][] = [];
  try {
    const database = await openNodeDatabase({ url: POSTGRES_URL, searchPath: schema, poolSize: 10 });
    try {
      await migrate(database.migrations, await loadMigrations());
      const refs = await seed(database);
      for (let i = 0; i < refs.length; i += ENQUEUE_BATCH) await redisQueue.enqueue(refs.slice(i, i + ENQUEUE_BATCH));
      metric('pending_jobs', refs.length, 'jobs');
      const postgresQueue = new PostgresJobQueue(database.db);

      let now = new Date();
      for (const [name, queue] of [
        ['redis', redisQueue],
        ['postgres', postgresQueue],
      ] as const) {
        await resetPriorities(database, queue);
        now = new Date(now.getTime() + SETTINGS.intervalMs);
        const cold = await timedRecompute(database, queue, now);
        // As autovacuum would between runs: the cold run left a dead version of every row.
        await database.db.execute(sql`VACUUM ANALYZE jobs, queue_refs`);
        now = new Date(now.getTime() + SETTINGS.intervalMs);
        const steady = await timedRecompute(database, queue, now);
        metric(`recompute_cold_${name}`, cold.ms, 'ms');
        metric(`recompute_cold_${name}_changed`, cold.result.changed, 'rows');
        metric(`recompute_steady_${name}`, steady.ms, 'ms');
        metric(`recompute_steady_${name}_changed`, steady.result.changed, 'rows');
        now = new Date(now.getTime() + SETTINGS.intervalMs);
        for (const [step, ms] of Object.entries(await stepTimes(database, now, name === 'postgres'))) {
          metric(`recompute_step_${step}_${name}`, ms, 'ms');
        }
        rows.push([name, 'cold', cold.ms.toFixed(0), String(cold.result.changed)]);
        rows.push([name, 'steady', steady.ms.toFixed(0), String(steady.result.changed)]);
      }

      // Claims on Redis without, then during, a cold recompute, then without again: the machine's load drifts, so the
      // reference is the mean of the runs either side. A first short run warms the claim path up.
      const without = () => claimRate(redisQueue, new Promise((done) => setTimeout(done, BASELINE_MS)));
      await claimRate(redisQueue, new Promise((done) => setTimeout(done, 500)));
      await resetPriorities(database, redisQueue);
      await database.db.execute(sql`VACUUM ANALYZE jobs`);
      const before = await without();
      const during = async (kind: string) => {
        now = new Date(now.getTime() + SETTINGS.intervalMs);
        let ms = 0;
        const rate = await claimRate(
          redisQueue,
          timedRecompute(database, redisQueue, now).then((run) => (ms = run.ms)),
        );
        metric(`claims_during_${kind}_recompute`, rate.perSecond, 'claims/s');
        metric(`recompute_${kind}_during_claims`, ms, 'ms');
        return rate.perSecond;
      };
      const duringCold = await during('cold');
      const after = await without();
      // A steady recompute (the one every interval runs) with claims: only the changed ages are written and pushed.
      await database.db.execute(sql`VACUUM ANALYZE jobs`);
      const duringSteady = await during('steady');
      const baseline = (before.perSecond + after.perSecond) / 2;
      metric('claims_without_recompute_before', before.perSecond, 'claims/s');
      metric('claims_without_recompute_after', after.perSecond, 'claims/s');
      metric('claims_cold_over_without', duringCold / baseline, 'ratio');
      metric('claims_steady_over_without', duringSteady / baseline, 'ratio');
      console.log('\nqueue     run     ms      rows changed');
      for (const row of rows) console.log(row.map((cell, i) => cell.padEnd([10, 8, 8, 12][i]!)).join(''));
      console.log(
        `\nRedis claims/s (${CLAIMERS} claimers): ${baseline.toFixed(0)} without a recompute; during a cold one ${duringCold.toFixed(0)} (ratio ${(duringCold / baseline).toFixed(2)}), during a steady one ${duringSteady.toFixed(0)} (ratio ${(duringSteady / baseline).toFixed(2)})`,
      );
    } finally {
      await database.close();
    }
  } finally {
    await adminQuery(`DROP SCHEMA ${schema} CASCADE`);
    await redisQueue.close();
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await admin.del(...keys);
    } while (cursor !== '0');
    await admin.quit();
  }
}

await main();
