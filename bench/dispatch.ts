/**
 * `npm run bench:dispatch`: how fast the dispatch queues hand refs to nodes, next to BullMQ on the same Redis.
 *
 * 1. Claims per second, for 1 and 20 concurrent claimers, on the Redis queue (TCP, one shared ioredis client as the
 *    API host has) and on the Postgres queue (the server, a throw-away schema). N refs of 1 cpu / 100 MB in one
 *    partition are enqueued up front (not timed). Each claimer is an 8-cpu node whose loop claims with its free
 *    capacity, settles the ids at once (the queue's part of the confirm) and treats the jobs as finished at once.
 *    Each configuration runs with max=1 (one ref per claim, like a BullMQ worker fetching one job) and with the
 *    default max (the claim's batching; an 8-cpu node then takes 8 refs per claim).
 * 2. The reference: BullMQ, N jobs added up front (addBulk, not timed), then 1 and 20 Workers (concurrency 1, a
 *    processor that returns at once, a connection each), timed from the workers' start to the N-th completion.
 * 3. Claim cost vs depth: the mean time of one claim + settle (max=1, one claimer) with a shallow and a deep queue,
 *    the depth held constant (one ref enqueued, untimed, after each call).
 *
 * Env: REDIS_URL (redis://127.0.0.1:6379), DATABASE_URL (the local test server), BENCH_REDIS_REFS (20000),
 * BENCH_POSTGRES_REFS (5000), BENCH_DEPTH_CALLS (2000), BENCH_DEPTH_SHALLOW (100), BENCH_DEPTH_DEEP (100000),
 * BENCH_PG_POOL (20), BENCH_REDIS_CLIENTS (shared | per-claimer),
 * BENCH_PARTS (redis,bullmq,redis-depth,postgres,postgres-depth: the parts to run).
 * Prints `name value unit` lines, then summary tables; exits 1 if a run lost or duplicated a ref.
 */
import { Queue, Worker } from 'bullmq';
import { sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { availableParallelism, cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { loadMigrations } from '../shared/db/migration-files.js';
import { migrate } from '../shared/db/migrator.js';
import { openNodeDatabase, type NodeDatabase } from '../shared/db/node-database.js';
import { queryRows } from '../shared/db/query-rows.js';
import {
  DEFAULT_CLAIM_MAX,
  DEFAULT_QUEUE_TUNING,
  type JobQueue,
  type JobRef,
  type NodeCapacity,
} from '../shared/queue/job-queue.js';
import { PostgresJobQueue } from '../shared/queue/postgres-job-queue.js';
import { ioredisClient } from '../shared/queue/redis/ioredis-client.js';
import { RedisJobQueue } from '../shared/queue/redis/redis-job-queue.js';
import { adminQuery } from '../test/helpers/test-databases.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const POSTGRES_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_REFS = positiveInt('BENCH_REDIS_REFS', 20_000);
const POSTGRES_REFS = positiveInt('BENCH_POSTGRES_REFS', 5_000);
const DEPTH_CALLS = positiveInt('BENCH_DEPTH_CALLS', 2_000);
const DEPTH_SHALLOW = positiveInt('BENCH_DEPTH_SHALLOW', 100);
const DEPTH_DEEP = positiveInt('BENCH_DEPTH_DEEP', 100_000);
const PG_POOL = positiveInt('BENCH_PG_POOL', 20);
const REDIS_CLIENTS = process.env.BENCH_REDIS_CLIENTS === 'per-claimer' ? 'per-claimer' : 'shared';
const ALL_PARTS = ['redis', 'bullmq', 'redis-depth', 'postgres', 'postgres-depth'];
const PARTS = new Set((process.env.BENCH_PARTS ?? ALL_PARTS.join(',')).split(',').map((part) => part.trim()));
for (const part of PARTS) if (!ALL_PARTS.includes(part)) throw new Error(`BENCH_PARTS: unknown part ${part}`);
const CLAIMER_COUNTS = [1, 20];
const NODE_CPUS = 8;
const REF_MEMORY_MB = 100;
const ENQUEUE_BATCH = 5_000;
const WARMUP_CALLS = 100;
// A run that takes longer than this is stuck, not slow.
const RUN_DEADLINE_MS = 90_000;
const RUN_ID = randomBytes(4).toString('hex');
const REDIS_PREFIX = `bench:dispatch:${RUN_ID}:`;
const BULL_PREFIX = `bench-bull-${RUN_ID}`;

function positiveInt(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive whole number`);
  return value;
}

// ---- output -----------------------------------------------------------------------------------------------------

function metric(name: string, value: number | string, unit: string): void {
  const shown = typeof value === 'number' ? (Number.isInteger(value) ? String(value) : value.toFixed(2)) : value;
  console.log(`${name} ${shown} ${unit}`);
}

function table(header: string[], rows: string[][]): void {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => row[i]!.length)));
  const format = (row: string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  console.log(`\n${format(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const row of rows) console.log(format(row));
}

// ---- shared pieces ----------------------------------------------------------------------------------------------

let nextId = 1;

function makeRefs(count: number): JobRef[] {
  return Array.from({ length: count }, () => ({
    id: nextId++,
    partition: 'batch',
    cpus: 1,
    memoryMb: REF_MEMORY_MB,
    priority: 0,
    exclusive: false,
    user: null,
    timeLimitSeconds: null,
  }));
}

async function enqueueAll(queue: JobQueue, refs: JobRef[]): Promise<void> {
  for (let i = 0; i < refs.length; i += ENQUEUE_BATCH) await queue.enqueue(refs.slice(i, i + ENQUEUE_BATCH));
}

function nodeCapacity(name: string): NodeCapacity {
  const memoryMb = NODE_CPUS * REF_MEMORY_MB * 4;
  return {
    node: name,
    partitions: ['batch'],
    cpus: NODE_CPUS,
    memoryMb,
    freeCpus: NODE_CPUS,
    freeMemoryMb: memoryMb,
    runsAs: { any_user: true, users: [], unnamed: true },
  };
}

/** Redis' own CPU time and the time its scripts ran, from INFO (deltas, so nothing on the server is reset). */
interface RedisCounters {
  cpuUs: number;
  scriptUs: number;
  scriptCalls: number;
}

async function redisCounters(admin: Redis): Promise<RedisCounters> {
  const info = await admin.info('all');
  const cpu = (field: string) => Number(new RegExp(`^${field}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  let scriptUs = 0;
  let scriptCalls = 0;
  for (const match of info.matchAll(/^cmdstat_(eval|evalsha|eval_ro|evalsha_ro|fcall):calls=(\d+),usec=(\d+)/gm)) {
    scriptCalls += Number(match[2]);
    scriptUs += Number(match[3]);
  }
  return { cpuUs: (cpu('used_cpu_user') + cpu('used_cpu_sys')) * 1e6, scriptUs, scriptCalls };
}

function counterDelta(before: RedisCounters, after: RedisCounters): RedisCounters {
  return {
    cpuUs: after.cpuUs - before.cpuUs,
    scriptUs: after.scriptUs - before.scriptUs,
    scriptCalls: after.scriptCalls - before.scriptCalls,
  };
}

async function deleteRedisKeys(admin: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (keys.length) deleted += await admin.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  return deleted;
}

async function countRedisKeys(admin: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let count = 0;
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    count += keys.length;
    cursor = next;
  } while (cursor !== '0');
  return count;
}

// ---- 1. claims per second ---------------------------------------------------------------------------------------

interface Throughput {
  label: string;
  backend: 'redis' | 'postgres' | 'bullmq';
  claimers: number;
  /** Undefined: the default max (DEFAULT_CLAIM_MAX). */
  max: number | undefined;
  refs: number;
  seconds: number;
  perSecond: number;
  claimCalls: number;
  emptyClaims: number;
  claimUs: number;
  settleUs: number;
  nodeCpuUsPerRef: number;
  redis: RedisCounters | undefined;
  ok: boolean;
  problems: string[];
}

/**
 * Claimers loop until N refs were claimed. A claim that comes back empty while refs remain (on Postgres, the ones
 * left are locked by other claimers' transactions) is retried after a millisecond; it is counted, not hidden.
 */
async function runClaimers(
  label: string,
  backend: 'redis' | 'postgres',
  queues: JobQueue[],
  refs: number,
  max: number | undefined,
  counters?: () => Promise<RedisCounters>,
): Promise<Throughput> {
  const claimers = queues.length;
  const seen = new Set<number>();
  const problems: string[] = [];
  let claimed = 0;
  let claimCalls = 0;
  let emptyClaims = 0;
  let claimMs = 0;
  let settleMs = 0;
  let settleCalls = 0;
  const options = max === undefined ? {} : { max };
  const deadline = performance.now() + RUN_DEADLINE_MS;

  const claimer = async (queue: JobQueue, index: number) => {
    const capacity = nodeCapacity(`bench-node-${index}`);
    while (claimed < refs) {
      if (performance.now() > deadline) throw new Error(`${label}: not done after ${RUN_DEADLINE_MS} ms`);
      const t0 = performance.now();
      const taken = await queue.claim(capacity, options);
      const t1 = performance.now();
      claimMs += t1 - t0;
      claimCalls++;
      if (taken.length === 0) {
        emptyClaims++;
        await new Promise((done) => setTimeout(done, 1));
        continue;
      }
      claimed += taken.length;
      const ids = taken.map((ref) => ref.id);
      const settled = await queue.settle(capacity.node, ids);
      settleMs += performance.now() - t1;
      settleCalls++;
      if (settled.length !== ids.length) problems.push(`settle answered ${settled.length} for ${ids.length} ids`);
      if (taken.length > (max ?? DEFAULT_CLAIM_MAX)) problems.push(`a claim took ${taken.length} refs`);
      for (const id of ids) {
        if (seen.has(id)) problems.push(`ref ${id} claimed twice`);
        seen.add(id);
      }
      // The jobs finish at once: the node's capacity is free again for its next claim.
    }
  };

  const before = counters ? await counters() : undefined;
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  await Promise.all(queues.map((queue, index) => claimer(queue, index)));
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const after = counters ? await counters() : undefined;

  if (seen.size !== refs) problems.push(`${seen.size} distinct refs dispatched, expected ${refs}`);
  return {
    label,
    backend,
    claimers,
    max,
    refs,
    seconds,
    perSecond: refs / seconds,
    claimCalls,
    emptyClaims,
    claimUs: (claimMs * 1000) / claimCalls,
    settleUs: (settleMs * 1000) / Math.max(1, settleCalls),
    nodeCpuUsPerRef: (cpu.user + cpu.system) / refs,
    redis: before && after ? counterDelta(before, after) : undefined,
    ok: problems.length === 0,
    problems: problems.slice(0, 5),
  };
}

function printThroughput(t: Throughput): void {
  metric(`${t.label}_refs_per_s`, Math.round(t.perSecond), 'refs/s');
  metric(`${t.label}_seconds`, t.seconds, 's');
  if (t.backend !== 'bullmq') {
    metric(`${t.label}_claim_calls`, t.claimCalls, 'calls');
    metric(`${t.label}_refs_per_claim`, t.refs / (t.claimCalls - t.emptyClaims), 'refs');
    metric(`${t.label}_empty_claims`, t.emptyClaims, 'calls');
    metric(`${t.label}_claim_latency`, t.claimUs, 'µs');
    metric(`${t.label}_settle_latency`, t.settleUs, 'µs');
  }
  metric(`${t.label}_node_cpu_per_ref`, t.nodeCpuUsPerRef, 'µs');
  if (t.redis) {
    metric(`${t.label}_redis_cpu_per_ref`, t.redis.cpuUs / t.refs, 'µs');
    metric(`${t.label}_redis_script_time_per_ref`, t.redis.scriptUs / t.refs, 'µs');
    metric(`${t.label}_redis_script_calls_per_ref`, t.redis.scriptCalls / t.refs, 'calls');
  }
  metric(`${t.label}_check`, t.ok ? 'ok' : `FAILED(${t.problems.join('; ')})`, '');
}

const maxLabel = (max: number | undefined) => (max === undefined ? `maxdefault` : `max${max}`);

async function benchRedisThroughput(admin: Redis): Promise<Throughput[]> {
  const results: Throughput[] = [];
  for (const claimers of CLAIMER_COUNTS) {
    for (const max of [1, undefined]) {
      const label = `redis_c${claimers}_${maxLabel(max)}`;
      const prefix = `${REDIS_PREFIX}${label}:`;
      const shared = new RedisJobQueue(ioredisClient(REDIS_URL), prefix);
      const own: RedisJobQueue[] = [];
      try {
        await enqueueAll(shared, makeRefs(REDIS_REFS));
        for (let i = 0; REDIS_CLIENTS === 'per-claimer' && i < claimers; i++) {
          const queue = new RedisJobQueue(ioredisClient(REDIS_URL), prefix);
          own.push(queue);
          await queue.depth(); // connected, and the script cache warm, before the clock starts
        }
        const queues = own.length ? own : Array.from({ length: claimers }, () => shared);
        const result = await runClaimers(label, 'redis', queues, REDIS_REFS, max, () => redisCounters(admin));
        const left = await shared.depth();
        if (Object.keys(left).length) result.problems.push(`refs left queued: ${JSON.stringify(left)}`);
        result.ok = result.problems.length === 0;
        printThroughput(result);
        results.push(result);
      } finally {
        await Promise.all([shared, ...own].map((queue) => queue.close()));
        await deleteRedisKeys(admin, `${prefix}*`);
      }
    }
  }
  return results;
}

async function benchPostgresThroughput(database: NodeDatabase): Promise<Throughput[]> {
  const queue = new PostgresJobQueue(database.db);
  const results: Throughput[] = [];
  for (const claimers of CLAIMER_COUNTS) {
    for (const max of [1, undefined]) {
      const label = `postgres_c${claimers}_${maxLabel(max)}`;
      await enqueueAll(queue, makeRefs(POSTGRES_REFS));
      const queues = Array.from({ length: claimers }, () => queue);
      const result = await runClaimers(label, 'postgres', queues, POSTGRES_REFS, max);
      const rows = await queryRows(database.db, sql`SELECT count(*)::int AS n FROM queue_refs`);
      if (Number(rows[0]?.n) !== 0) result.problems.push(`${String(rows[0]?.n)} rows left in queue_refs`);
      result.ok = result.problems.length === 0;
      printThroughput(result);
      results.push(result);
    }
  }
  return results;
}

// ---- 2. the BullMQ reference ------------------------------------------------------------------------------------

async function benchBullmq(admin: Redis, workerCount: number): Promise<Throughput> {
  const label = `bullmq_c${workerCount}`;
  const url = new URL(REDIS_URL);
  // An options object, not a client: every Queue and Worker opens its own connections (a Worker two: one blocking).
  const connection = {
    host: url.hostname,
    port: Number(url.port || 6379),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    maxRetriesPerRequest: null,
  };
  const name = `dispatch_${workerCount}`;
  const queue = new Queue(name, {
    connection,
    prefix: BULL_PREFIX,
    defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
  });
  const workers: Worker[] = [];
  const problems: string[] = [];
  try {
    const refs = makeRefs(REDIS_REFS);
    for (let i = 0; i < refs.length; i += ENQUEUE_BATCH) {
      await queue.addBulk(refs.slice(i, i + ENQUEUE_BATCH).map((ref) => ({ name: 'dispatch', data: ref })));
    }
    const waiting = await queue.getWaitingCount();
    if (waiting !== REDIS_REFS) problems.push(`${waiting} jobs waiting after addBulk, expected ${REDIS_REFS}`);

    let completed = 0;
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    // Built with autorun off and started with run() once connected, so that connecting is not timed (our queue's
    // connection is open before its clock starts too); run() is what autorun calls.
    for (let i = 0; i < workerCount; i++) {
      const worker = new Worker(name, async () => {}, {
        connection,
        prefix: BULL_PREFIX,
        concurrency: 1,
        autorun: false,
        removeOnComplete: { count: 0 },
        removeOnFail: { count: 0 },
      });
      worker.on('completed', () => {
        if (++completed === REDIS_REFS) finish();
      });
      worker.on('failed', (_job, error) => problems.push(`job failed: ${error.message}`));
      worker.on('error', (error) => problems.push(`worker error: ${error.message}`));
      workers.push(worker);
    }
    await Promise.all(workers.map((worker) => worker.waitUntilReady()));

    const before = await redisCounters(admin);
    const cpuBefore = process.cpuUsage();
    const start = performance.now();
    for (const worker of workers) {
      worker.run().catch((error: Error) => problems.push(`worker run: ${error.message}`));
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${label}: not done after ${RUN_DEADLINE_MS} ms`)), RUN_DEADLINE_MS);
    });
    try {
      await Promise.race([done, timeout]);
    } finally {
      clearTimeout(timer);
    }
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const after = await redisCounters(admin);

    const counts = await queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed');
    if (Object.values(counts).some((count) => count > 0)) problems.push(`jobs left: ${JSON.stringify(counts)}`);
    const result: Throughput = {
      label,
      backend: 'bullmq',
      claimers: workerCount,
      max: 1,
      refs: REDIS_REFS,
      seconds,
      perSecond: REDIS_REFS / seconds,
      claimCalls: 0,
      emptyClaims: 0,
      claimUs: 0,
      settleUs: 0,
      nodeCpuUsPerRef: (cpu.user + cpu.system) / REDIS_REFS,
      redis: counterDelta(before, after),
      ok: problems.length === 0,
      problems: problems.slice(0, 5),
    };
    printThroughput(result);
    return result;
  } finally {
    await Promise.all(workers.map((worker) => worker.close().catch(() => {})));
    await queue.obliterate({ force: true }).catch((error: Error) => console.warn(`obliterate: ${error.message}`));
    await queue.close();
  }
}

// ---- 3. claim cost vs depth -------------------------------------------------------------------------------------

interface DepthCost {
  /** The depth, and how the table's statistics stood (Postgres). */
  label: string;
  depth: number;
  meanUs: number;
  p50Us: number;
  p99Us: number;
  /** Postgres: how the planner reads the candidates at this depth. */
  plan?: string;
}

/**
 * One claimer, max=1, claim + settle timed, over refs already queued; after each call one new ref (untimed) keeps
 * the depth where it was.
 */
async function claimCost(queue: JobQueue, label: string, depth: number): Promise<DepthCost> {
  const capacity = nodeCapacity('bench-depth-node');
  const samples: number[] = [];
  for (let call = 0; call < WARMUP_CALLS + DEPTH_CALLS; call++) {
    const t0 = performance.now();
    const taken = await queue.claim(capacity, { max: 1 });
    if (taken.length !== 1) throw new Error(`depth ${depth}: a claim took ${taken.length} refs, expected 1`);
    await queue.settle(capacity.node, [taken[0]!.id]);
    const elapsed = performance.now() - t0;
    if (call >= WARMUP_CALLS) samples.push(elapsed * 1000);
    await queue.enqueue(makeRefs(1));
  }
  samples.sort((a, b) => a - b);
  const mean = samples.reduce((sum, value) => sum + value, 0) / samples.length;
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
  return { label, depth, meanUs: mean, p50Us: at(0.5), p99Us: at(0.99) };
}

async function benchRedisDepth(admin: Redis): Promise<DepthCost[]> {
  const results: DepthCost[] = [];
  for (const depth of [DEPTH_SHALLOW, DEPTH_DEEP]) {
    const prefix = `${REDIS_PREFIX}depth_${depth}:`;
    const queue = new RedisJobQueue(ioredisClient(REDIS_URL), prefix);
    try {
      await enqueueAll(queue, makeRefs(depth));
      results.push(await claimCost(queue, String(depth), depth));
    } finally {
      await queue.close();
      await deleteRedisKeys(admin, `${prefix}*`);
    }
  }
  return results;
}

/**
 * The plan of the claim's candidate read (the same statement as PostgresJobQueue.claim's, with the same parameters),
 * summed up: the scan on queue_refs, and whether every queued ref of the partition is sorted to find the head.
 */
async function candidatePlan(database: NodeDatabase): Promise<string> {
  const rows = await queryRows(
    database.db,
    sql`
      EXPLAIN SELECT c.job_id AS id, c.partition, c.cpus, c.memory_mb, c.priority, c.exclusive
      FROM unnest(${'{batch}'}::text[]) AS part(name)
      CROSS JOIN LATERAL (
        SELECT * FROM queue_refs r
        WHERE r.partition = part.name AND r.claimed_by IS NULL
        ORDER BY r.priority DESC, r.job_id
        LIMIT ${DEFAULT_QUEUE_TUNING.window}
        FOR UPDATE SKIP LOCKED
      ) c
      ORDER BY c.priority DESC, c.job_id
    `,
  );
  const lines = rows.map((row) => String(row['QUERY PLAN']));
  const scan = lines.map((line) =>
    /((?:Bitmap Heap|Index Only|Index|Seq) Scan)(?: using \w+)? on queue_refs/.exec(line),
  );
  const scanned = scan.find((match) => match)?.[1] ?? 'unknown scan';
  const lockRows = lines.findIndex((line) => line.includes('LockRows'));
  const sortsAll = lockRows >= 0 && lines.slice(lockRows).some((line) => /->\s+Sort\b/.test(line));
  return `${scanned.toLowerCase().replaceAll(' ', '-')}${sortsAll ? '+sort-of-all-queued' : '(ordered)'}`;
}

async function benchPostgresDepth(database: NodeDatabase): Promise<DepthCost[]> {
  const queue = new PostgresJobQueue(database.db);
  const results: DepthCost[] = [];
  for (const depth of [DEPTH_SHALLOW, DEPTH_DEEP]) {
    await database.db.execute(sql`DELETE FROM queue_refs`);
    await enqueueAll(queue, makeRefs(depth));
    const plan = await candidatePlan(database);
    results.push({ ...(await claimCost(queue, String(depth), depth)), plan });
  }
  // The same deep queue once the planner knows how big it is (what autovacuum's ANALYZE would tell it, in time).
  await database.db.execute(sql`ANALYZE queue_refs`);
  const plan = await candidatePlan(database);
  results.push({ ...(await claimCost(queue, `${DEPTH_DEEP}-analyzed`, DEPTH_DEEP)), plan });
  await database.db.execute(sql`DELETE FROM queue_refs`);
  return results;
}

function printDepth(backend: string, costs: DepthCost[]): void {
  for (const cost of costs) {
    metric(`${backend}_depth_${cost.label}_claim_settle_mean`, cost.meanUs, 'µs');
    metric(`${backend}_depth_${cost.label}_claim_settle_p50`, cost.p50Us, 'µs');
    metric(`${backend}_depth_${cost.label}_claim_settle_p99`, cost.p99Us, 'µs');
    if (cost.plan) metric(`${backend}_depth_${cost.label}_candidate_plan`, cost.plan, '');
  }
  const shallow = costs[0]!;
  for (const deep of costs.slice(1)) {
    const ratio = deep.meanUs / shallow.meanUs;
    metric(
      `${backend}_depth_ratio_${deep.label}_vs_${shallow.label}`,
      ratio.toFixed(3),
      `x (target <= 1.2: ${ratio <= 1.2 ? 'met' : 'NOT met'})`,
    );
  }
}

// ---- round trips ------------------------------------------------------------------------------------------------

async function redisRoundTripUs(admin: Redis, count = 2000): Promise<number> {
  for (let i = 0; i < 100; i++) await admin.ping();
  const start = performance.now();
  for (let i = 0; i < count; i++) await admin.ping();
  return ((performance.now() - start) * 1000) / count;
}

async function postgresRoundTripUs(database: NodeDatabase, count = 1000): Promise<number> {
  for (let i = 0; i < 100; i++) await database.db.execute(sql`SELECT 1`);
  const start = performance.now();
  for (let i = 0; i < count; i++) await database.db.execute(sql`SELECT 1`);
  return ((performance.now() - start) * 1000) / count;
}

// ---- Postgres schema --------------------------------------------------------------------------------------------

/** A fresh, migrated schema; closed and dropped afterwards, whatever happened. */
async function withPostgres<T>(work: (database: NodeDatabase) => Promise<T>): Promise<T> {
  const schema = `bench_dispatch_${RUN_ID}`;
  await adminQuery(`CREATE SCHEMA ${schema}`);
  try {
    const database = await openNodeDatabase({ url: POSTGRES_URL, searchPath: schema, poolSize: PG_POOL });
    try {
      await migrate(database.migrations, await loadMigrations());
      return await work(database);
    } finally {
      await database.close();
    }
  } finally {
    await adminQuery(`DROP SCHEMA ${schema} CASCADE`);
  }
}

// ---- main -------------------------------------------------------------------------------------------------------

function printSummary(ours: Throughput[], bullmq: Throughput[]): void {
  const reference = (claimers: number) => bullmq.find((t) => t.claimers === claimers);
  const rows = [...ours, ...bullmq].map((t) => {
    const ref = reference(t.claimers);
    return [
      t.backend,
      String(t.claimers),
      t.backend === 'bullmq' ? '1 (job)' : t.max === undefined ? `default (${DEFAULT_CLAIM_MAX})` : String(t.max),
      String(t.refs),
      String(Math.round(t.perSecond)),
      t.backend === 'redis' && ref ? (t.perSecond / ref.perSecond).toFixed(2) : '',
      t.backend === 'bullmq' ? '' : t.claimUs.toFixed(0),
      t.backend === 'bullmq' ? '' : t.settleUs.toFixed(0),
      t.nodeCpuUsPerRef.toFixed(1),
      t.redis ? (t.redis.cpuUs / t.refs).toFixed(1) : '',
      t.redis ? (t.redis.scriptUs / t.refs).toFixed(1) : '',
      t.ok ? 'ok' : 'FAILED',
    ];
  });
  table(
    [
      'queue',
      'claimers',
      'max/claim',
      'refs',
      'refs/s',
      'vs bullmq',
      'claim µs',
      'settle µs',
      'node cpu µs/ref',
      'redis cpu µs/ref',
      'lua µs/ref',
      'check',
    ],
    rows,
  );
}

async function main(): Promise<void> {
  console.log(
    `machine cores ${availableParallelism()} (${cpus()[0]?.model.trim() ?? 'unknown cpu'}), node ${process.version}`,
  );
  console.log(
    `refs redis ${REDIS_REFS} postgres ${POSTGRES_REFS}; node ${NODE_CPUS} cpus; ref 1 cpu ${REF_MEMORY_MB} MB; ` +
      `default max ${DEFAULT_CLAIM_MAX}; redis clients ${REDIS_CLIENTS}; pg pool ${PG_POOL}; run ${RUN_ID}`,
  );
  const admin = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  admin.on('error', () => {});
  const results: Throughput[] = [];
  const bullmq: Throughput[] = [];
  const redisDepth: DepthCost[] = [];
  const postgresDepth: DepthCost[] = [];
  let failed = false;
  try {
    if (PARTS.has('redis') || PARTS.has('bullmq') || PARTS.has('redis-depth')) {
      metric('redis_ping_round_trip', await redisRoundTripUs(admin), 'µs');
    }
    if (PARTS.has('redis')) results.push(...(await benchRedisThroughput(admin)));
    if (PARTS.has('bullmq')) for (const workers of CLAIMER_COUNTS) bullmq.push(await benchBullmq(admin, workers));
    for (const reference of bullmq) {
      for (const max of [1, undefined]) {
        const ours = results.find((t) => t.backend === 'redis' && t.claimers === reference.claimers && t.max === max);
        if (!ours) continue;
        const ratio = ours.perSecond / reference.perSecond;
        const target = reference.claimers === 20 ? ` (target >= 1.0: ${ratio >= 1 ? 'met' : 'NOT met'})` : '';
        metric(
          `ratio_ours_${maxLabel(max)}_vs_bullmq_c${reference.claimers}`,
          ratio.toFixed(2),
          `ours/bullmq${target}`,
        );
      }
    }

    if (PARTS.has('redis-depth')) {
      redisDepth.push(...(await benchRedisDepth(admin)));
      printDepth('redis', redisDepth);
    }

    if (PARTS.has('postgres') || PARTS.has('postgres-depth')) {
      await withPostgres(async (database) => {
        metric('postgres_select1_round_trip', await postgresRoundTripUs(database), 'µs');
        const [autovacuum] = await queryRows(database.db, sql`SELECT current_setting('autovacuum') AS v`);
        metric('postgres_server_autovacuum', String(autovacuum?.v), '');
        if (PARTS.has('postgres')) results.push(...(await benchPostgresThroughput(database)));
        if (PARTS.has('postgres-depth')) {
          postgresDepth.push(...(await benchPostgresDepth(database)));
          printDepth('postgres', postgresDepth);
        }
      });
    }

    if (results.length || bullmq.length) printSummary(results, bullmq);
    const depthRows = (queue: string, costs: DepthCost[]) =>
      costs.map((c, i) => [
        queue,
        c.label,
        c.meanUs.toFixed(1),
        c.p50Us.toFixed(1),
        c.p99Us.toFixed(1),
        i === 0 ? '' : (c.meanUs / costs[0]!.meanUs).toFixed(3),
        c.plan ?? '',
      ]);
    if (redisDepth.length || postgresDepth.length) {
      table(
        ['queue', 'depth', 'claim+settle mean µs', 'p50 µs', 'p99 µs', 'deep/shallow', 'candidate plan'],
        [...depthRows('redis', redisDepth), ...depthRows('postgres', postgresDepth)],
      );
    }
    failed = [...results, ...bullmq].some((t) => !t.ok);
  } finally {
    const left =
      (await deleteRedisKeys(admin, `${REDIS_PREFIX}*`)) + (await deleteRedisKeys(admin, `${BULL_PREFIX}:*`));
    const remaining =
      (await countRedisKeys(admin, `${REDIS_PREFIX}*`)) + (await countRedisKeys(admin, `${BULL_PREFIX}:*`));
    console.log(`\ncleanup: ${left} leftover bench keys deleted at the end, ${remaining} remain`);
    await admin.quit().catch(() => admin.disconnect());
  }
  if (failed) process.exitCode = 1;
}

main()
  .catch((error: Error) => {
    console.error(`bench failed: ${error.stack ?? error.message}`);
    process.exitCode = 1;
  })
  .finally(() => {
    // Every client is closed above; should one still hold the loop open, do not hang the shell.
    setTimeout(() => {
      console.warn('bench: handles still open after cleanup; exiting');
      process.exit();
    }, 5_000).unref();
  });
