/**
 * The computed priority (issue 19, item 3): its factors and formula at submit and in GET, fair share reordering the
 * claims of both queues within one recompute, usage charged once however many reconcilers, its decay by the
 * half-life (clock injected), and who may ask what of a priority (admin's absolute, user's refused, nice from the
 * body, a directive and the CLI).
 */
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { Reconciler } from '../api/reconciler.js';
import { jobFieldsOf } from '../cli/sbatch-flags.js';
import { readSubmitArgv } from '../cli/submit-argv.js';
import { DEFAULT_PRIORITY, type PrioritySettings } from '../shared/config/priority-settings.js';
import type { Database } from '../shared/db/database.js';
import { openNodeDatabase } from '../shared/db/node-database.js';
import { queryRows } from '../shared/db/query-rows.js';
import type { JobQueue, NodeCapacity } from '../shared/queue/job-queue.js';
import { ioredisClient } from '../shared/queue/redis/ioredis-client.js';
import { RedisJobQueue } from '../shared/queue/redis/redis-job-queue.js';
import { createTestApp, validJob, type TestApp } from './helpers/test-app.js';
import { backends } from './helpers/test-databases.js';
import { moveJob } from './helpers/job-states.js';
import { deleteKeys, REDIS_URL, redisUnreachable } from './helpers/test-redis.js';

const SETTINGS: PrioritySettings = {
  ...DEFAULT_PRIORITY,
  weights: { age: 1000, fairShare: 10_000, jobSize: 1000, partition: 1000 },
};
const HOUR_MS = 3_600_000;

const [pglite, postgres] = await backends();
const redisSkip = await redisUnreachable();

const node = (): NodeCapacity => ({
  node: 'n1',
  partitions: ['batch'],
  cpus: 8,
  memoryMb: 64_000,
  freeCpus: 8,
  freeMemoryMb: 64_000,
  runsAs: { any_user: true, users: [], unnamed: true },
});

/** 8 CPUs in all (a job of 4 is half the cluster); partitions batch (tier 2, the highest) and low (tier 1). */
async function cluster(db: Database): Promise<void> {
  await db.execute(sql`
    INSERT INTO nodes (name, partitions, cpus, memory_mb) VALUES ('n1', '{batch,low}', 6, 64000), ('n2', '{batch}', 2, 64000)
  `);
  await db.execute(sql`
    INSERT INTO partitions (name, priority_tier) VALUES ('batch', 2), ('low', 1)
    ON CONFLICT (name) DO UPDATE SET priority_tier = EXCLUDED.priority_tier
  `);
}

const job = (overrides: Record<string, unknown> = {}) =>
  validJob({ account: 'physics', ntasks_per_node: 1, cpus_per_task: 4, memory_per_node: '1G', ...overrides });

async function read(t: TestApp, id: string, token?: string) {
  const response = await t.call('GET', `/v1/jobs/${id}`, token === undefined ? {} : { token });
  expect(response.status).toBe(200);
  return (await response.json()) as {
    priority: number;
    priority_factors: Record<string, number | boolean> | null;
  };
}

async function submitAnswer(t: TestApp, body: Record<string, unknown>, script: string, token?: string) {
  const response = await t.call('POST', '/v1/jobs', { body: { job: body, script }, ...(token ? { token } : {}) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe.each([pglite!, postgres!])('priority on $name', (backend) => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('computes a new job’s first priority from its factors, and GET shows them weighted as sprio -l', async () => {
    t = await createTestApp(backend, { priority: SETTINGS });
    await cluster(t.database.db);
    const id = await t.submit(job());
    const seen = await read(t, id);
    // Fair share 1 (never charged) × 10000 + half the CPUs × 1000 + the top tier × 1000; age 0.
    expect(seen.priority).toBe(11_500);
    expect(seen.priority_factors).toMatchObject({ fair_share: 10_000, job_size: 500, partition: 1000, nice: 0 });
    expect(seen.priority_factors!.admin_set).toBe(false);
    const low = await read(t, await t.submit(job({ partition: 'low', cpus_per_task: 2, nice: 40 })));
    // 10000 + 250 + 500 − 40.
    expect(low.priority).toBe(10_710);
    expect(low.priority_factors).toMatchObject({ job_size: 250, partition: 500, nice: 40 });
  });

  it('shows the age factor growing with the wait, up to its weight at PriorityMaxAge', async () => {
    let now = new Date();
    t = await createTestApp(backend, { priority: SETTINGS, now: () => now });
    await cluster(t.database.db);
    const id = await t.submit(job());
    now = new Date(Date.now() + SETTINGS.maxAgeMs / 2);
    const half = (await read(t, id)).priority_factors!.age as number;
    expect(half).toBeGreaterThanOrEqual(500);
    expect(half).toBeLessThan(501);
    now = new Date(Date.now() + 3 * SETTINGS.maxAgeMs);
    expect((await read(t, id)).priority_factors!.age).toBe(1000);
  });

  it('gives no factors for a job that is not PENDING', async () => {
    t = await createTestApp(backend, { priority: SETTINGS });
    await cluster(t.database.db);
    const id = await t.submit(job());
    expect((await t.call('POST', `/v1/jobs/${id}/cancel`)).status).toBeLessThan(300);
    expect((await read(t, id)).priority_factors).toBeNull();
  });

  it('keeps an admin’s priority absolute through a recompute, and says so', async () => {
    t = await createTestApp(backend, { priority: SETTINGS });
    await cluster(t.database.db);
    const id = await t.submit(job({ priority: 777 }));
    await new Reconciler(t.queue, { priority: SETTINGS }).run(t.database.db);
    const seen = await read(t, id);
    expect(seen.priority).toBe(777);
    expect(seen.priority_factors!.admin_set).toBe(true);
    const [row] = await queryRows(t.database.db, sql`SELECT admin_priority FROM jobs WHERE id = ${Number(id)}`);
    expect(row!.admin_priority).toBe(777);
  });

  it('refuses a user token’s priority above 0 and negative nice, naming the field and pointing to nice', async () => {
    t = await createTestApp(backend, { priority: SETTINGS });
    await cluster(t.database.db);
    const user = await t.token('user', 'physics');
    const priority = await submitAnswer(t, job({ priority: 5 }), '#!/bin/bash\ntrue', user);
    expect(priority.status).toBe(422);
    expect(priority.body.errors).toEqual([{ field: 'job.priority', message: expect.stringMatching(/job\.nice/) }]);
    const nice = await submitAnswer(t, job({ nice: -1 }), '#!/bin/bash\ntrue', user);
    expect(nice.status).toBe(422);
    expect(nice.body.errors).toEqual([{ field: 'job.nice', message: expect.stringMatching(/only an admin/) }]);
    // From a directive, the refusal names its line.
    const directive = await submitAnswer(t, job(), '#!/bin/bash\n#SBATCH --nice=-5\ntrue', user);
    expect(directive.status).toBe(422);
    expect(directive.body.errors).toEqual([{ field: 'job.nice', message: expect.stringMatching(/line 2: --nice=-5/) }]);
    // What a user may do: the default priority, and lower its own job.
    const allowed = await submitAnswer(t, job({ priority: 0, nice: 100 }), '#!/bin/bash\ntrue', user);
    expect(allowed.status).toBe(201);
    expect(allowed.body.priority).toBe(11_400);
  });

  it('takes nice from the body, a bare #SBATCH --nice (100, as sbatch) and --nice=N; an admin’s may be negative', async () => {
    t = await createTestApp(backend, { priority: SETTINGS });
    await cluster(t.database.db);
    const bare = await submitAnswer(t, job(), '#!/bin/bash\n#SBATCH --nice\ntrue');
    expect(bare.body.priority).toBe(11_400);
    const valued = await submitAnswer(t, job(), '#!/bin/bash\n#SBATCH --nice=250\ntrue');
    expect(valued.body.priority).toBe(11_250);
    const negative = await submitAnswer(t, job({ nice: -500 }), '#!/bin/bash\ntrue');
    expect(negative.body.priority).toBe(12_000);
    // The body wins over the directive.
    const both = await submitAnswer(t, job({ nice: 1 }), '#!/bin/bash\n#SBATCH --nice=250\ntrue');
    expect(both.body.priority).toBe(11_499);
    const outOfRange = await submitAnswer(t, job({ nice: 10_001 }), '#!/bin/bash\ntrue');
    expect(outOfRange.status).toBe(422);
  });
});

describe('the CLI’s --nice', () => {
  it('is read as the directive is: bare is 100, a value is taken', () => {
    expect(jobFieldsOf(readSubmitArgv(['--nice', 'job.sh']).options)).toEqual({ nice: 100 });
    expect(jobFieldsOf(readSubmitArgv(['--nice=7', 'job.sh']).options)).toEqual({ nice: 7 });
    expect(() => jobFieldsOf(readSubmitArgv(['--nice=x', 'job.sh']).options)).toThrow(/--nice=x.*whole number/);
  });
});

/** The Postgres queue (refs in the database) and Redis, each over the Postgres server. */
const queues: { name: string; skip: string | undefined; open(): { queue: JobQueue; close(): Promise<void> } | null }[] =
  [
    { name: 'postgres queue', skip: postgres!.skip, open: () => null },
    {
      name: 'redis queue',
      skip: postgres!.skip ?? redisSkip,
      open() {
        const prefix = `test:priority:${Math.random().toString(36).slice(2, 10)}:`;
        const queue = new RedisJobQueue(ioredisClient(REDIS_URL), prefix);
        return {
          queue,
          async close() {
            await queue.close();
            await deleteKeys(prefix);
          },
        };
      },
    },
  ];

describe.each(queues)('the recompute on the $name', (variant) => {
  let t: TestApp | undefined;
  let closeQueue: (() => Promise<void>) | undefined;
  const extra: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const database of extra.splice(0)) await database.close();
    await t?.close();
    await closeQueue?.();
    t = undefined;
    closeQueue = undefined;
  });

  async function start(now: () => Date): Promise<TestApp> {
    const opened = variant.open();
    closeQueue = opened?.close;
    t = await createTestApp(postgres!, { priority: SETTINGS, now, ...(opened ? { queue: opened.queue } : {}) });
    await cluster(t.database.db);
    return t;
  }

  /** A finished run of `account`: `cpus` from `start` to `end` (never queued: no ref for a claim to take). */
  async function ran(db: Database, account: string, cpus: number, start: Date, end: Date): Promise<void> {
    const [row] = await queryRows(
      db,
      sql`INSERT INTO jobs (account, name, partition, submitted_by, script, stdout_pattern, stderr_pattern,
                            environment, ntasks_per_node, cpus_per_task, cpus, memory_mb)
          VALUES (${account}, 'past', 'batch', 'admin:test', 'true', 'o', 'o', '{}', 1, ${cpus}, ${cpus}, 100)
          RETURNING id`,
    );
    await moveJob(db, Number(row!.id), 'COMPLETED', { startTime: start, endTime: end });
  }

  const chargeFrom = (db: Database, at: Date) =>
    db.execute(sql`UPDATE scheduler_clock SET charged_until = ${at.toISOString()}::timestamptz`);

  it.skipIf(variant.skip)(
    'moves a heavy account’s pending jobs behind a light one’s within one recompute: the claims follow',
    async () => {
      const now = new Date();
      const app = await start(() => now);
      const db = app.database.db;
      await chargeFrom(db, new Date(now.getTime() - 2 * HOUR_MS));
      await ran(db, 'heavy', 8, new Date(now.getTime() - HOUR_MS), now);
      // Submitted first, the heavy account's jobs are at the head while no factor says otherwise.
      const heavy = [await app.submit(job({ account: 'heavy' })), await app.submit(job({ account: 'heavy' }))];
      const light = [await app.submit(job({ account: 'light' })), await app.submit(job({ account: 'light' }))];
      const result = await new Reconciler(app.queue, { priority: SETTINGS }, () => now).run(db);
      expect(result.priorities).toMatchObject({ charged: 8 * 3600, changed: 2 });
      // Heavy used everything with half the shares: 2^(−1 / 0.5) = 0.25; light used nothing: 1.
      expect((await read(app, heavy[0]!)).priority).toBe(2500 + 500 + 1000);
      expect((await read(app, light[0]!)).priority).toBe(10_000 + 500 + 1000);
      const claimed = await app.queue.claim(node());
      expect(claimed.map((ref) => String(ref.id))).toEqual([...light, ...heavy].slice(0, 2));
      const rest = await app.queue.claim({ ...node(), node: 'n2' });
      expect(rest.map((ref) => String(ref.id))).toEqual(heavy);
    },
  );

  it.skipIf(variant.skip)(
    'charges a run once with two reconcilers racing, and decays the usage by the half-life',
    async () => {
      const t0 = new Date(Date.now() - 10 * HOUR_MS);
      let now = new Date(t0.getTime() + HOUR_MS);
      const app = await start(() => now);
      const db = app.database.db;
      await chargeFrom(db, t0);
      // 2 CPUs for 30 minutes, inside [t0, t0 + 1 h).
      await ran(db, 'physics', 2, new Date(t0.getTime() + 600_000), new Date(t0.getTime() + 2_400_000));
      await app.submit(job());
      // A second process: its own reconciler, over its own connections.
      const other = await openNodeDatabase({ url: app.database.url, poolSize: 2 });
      extra.push(other);
      const reconcilers = [
        new Reconciler(app.queue, { priority: SETTINGS }, () => now),
        new Reconciler(app.queue, { priority: SETTINGS }, () => now),
      ];
      const usage = async () =>
        Number(
          (await queryRows(db, sql`SELECT usage_cpu_seconds FROM account_usage WHERE account = 'physics'`))[0]!
            .usage_cpu_seconds,
        );
      const runs = await Promise.all([reconcilers[0]!.run(db), reconcilers[1]!.run(other.db)]);
      expect(runs.filter((run) => run.priorities !== null)).toHaveLength(1);
      expect(await usage()).toBe(2 * 1800);
      // Within the interval, nobody recomputes.
      now = new Date(now.getTime() + SETTINGS.intervalMs - 1000);
      expect((await reconcilers[0]!.run(db)).priorities).toBeNull();
      // One half-life on: half the usage is left, and the run is not charged again.
      now = new Date(t0.getTime() + HOUR_MS + SETTINGS.halfLifeMs);
      const runsLater = await Promise.all([reconcilers[1]!.run(other.db), reconcilers[0]!.run(db)]);
      expect(runsLater.filter((run) => run.priorities !== null)).toHaveLength(1);
      expect(await usage()).toBeCloseTo(1800, 6);
      // Two more: a quarter of that.
      now = new Date(now.getTime() + 2 * SETTINGS.halfLifeMs);
      await reconcilers[0]!.run(db);
      expect(await usage()).toBeCloseTo(450, 6);
    },
  );
});
