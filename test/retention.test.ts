/**
 * Retention (issue 16, item 1; api/jobs/purge-jobs.ts): the reconciler deletes finished jobs' stored output, then
 * their rows, past the configured days, a bounded batch per run, and leaves every job inside its retention, and every
 * PENDING or RUNNING job, as it was. Run over a large synthetic history, and over a steady load of new jobs.
 */
import { sql } from 'drizzle-orm';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_RECORD_FORMAT } from '../api/jobs/job-record.js';
import { transitionJobs } from '../api/jobs/transition-jobs.js';
import { Reconciler } from '../api/reconciler.js';
import { readNodeHostConfig } from '../shared/config/node-host-config.js';
import { DEFAULT_RETENTION, type Retention } from '../shared/config/retention-settings.js';
import { readClusterId } from '../shared/db/cluster-id.js';
import type { Database } from '../shared/db/database.js';
import { queryRows } from '../shared/db/query-rows.js';
import { FileLogStore } from '../shared/logs/file-log-store.js';
import { archiveKey, type JobArchive } from '../shared/logs/job-archive.js';
import { LogStoreUnavailable, type LogStore } from '../shared/logs/log-store.js';
import { moveJob } from './helpers/job-states.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { backends } from './helpers/test-databases.js';

const DAY_MS = 86_400_000;
const retention: Retention = { ...DEFAULT_RETENTION, jobMs: 365 * DAY_MS, outputMs: 30 * DAY_MS };
const text = (value: string) => new TextEncoder().encode(value);

async function count(db: Database, query: ReturnType<typeof sql>): Promise<number> {
  const [row] = await queryRows(db, query);
  return Number(row!.n);
}

/**
 * `n` jobs made PENDING in bulk and finished through the transition function (so with their real events: submit,
 * RUNNING, COMPLETED), their end times then spread evenly from `now` back over `spanDays`. Answers their ids.
 */
async function finishedJobs(db: Database, n: number, now: Date, spanDays: number): Promise<number[]> {
  const rows = await queryRows(
    db,
    sql`INSERT INTO jobs (account, name, partition, submitted_by, script, stdout_pattern, stderr_pattern, environment,
                          ntasks_per_node, cpus_per_task, cpus, memory_mb)
        SELECT 'physics', 'history', 'batch', 'admin', '#!/bin/bash', 'slurm-%j.out', 'slurm-%j.out', '{}', 1, 1, 1, 100
        FROM generate_series(1, ${n}) RETURNING id`,
  );
  const ids = rows.map((row) => Number(row.id));
  await db.execute(
    sql`INSERT INTO job_events (job_id, attempt, to_state, actor)
        SELECT id, 0, 'PENDING', 'admin' FROM jobs WHERE id BETWEEN ${ids[0]} AND ${ids.at(-1)}`,
  );
  for (let start = 0; start < ids.length; start += 5000) {
    const some = ids.slice(start, start + 5000);
    for (const to of ['RUNNING', 'COMPLETED'] as const) {
      await transitionJobs(db, { jobs: some.map((id) => ({ id, to, reason: 'history' })), actor: 'test' });
    }
  }
  // The newest job ends a minute before `now`: inside every retention. Each ran once (attempt 1).
  await db.execute(
    sql`UPDATE jobs SET attempt = 1, end_time = ${now}::timestamptz - interval '1 minute'
                                   - (${ids.at(-1)} - id) * (${spanDays * DAY_MS}::float8 / ${n}) * interval '1 ms'
        WHERE id BETWEEN ${ids[0]} AND ${ids.at(-1)}`,
  );
  return ids;
}

async function storedObjects(store: LogStore, cluster: string, ids: number[]): Promise<number> {
  let stored = 0;
  for (const jobId of ids) {
    for await (const chunk of store.list({ cluster, jobId, attempt: 1, stream: 'stdout' }))
      stored += chunk.size > 0 ? 1 : 0;
  }
  return stored;
}

for (const backend of await backends()) {
  describe.skipIf(backend.skip)(`retention on ${backend.name}`, () => {
    let t: TestApp;
    let store: FileLogStore;
    const dir = mkdtempSync(join(tmpdir(), 'conductor-retention-'));
    beforeAll(async () => {
      store = new FileLogStore(dir);
      t = await createTestApp(backend, { logs: store });
    });
    afterAll(async () => {
      await t?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('purges a large history in bounded batches down to what is inside its retention', async () => {
      const { db } = t.database;
      const now = new Date();
      const history = 50_000;
      const batchSize = 4000;
      const ids = await finishedJobs(db, history, now, 730);
      const cluster = await readClusterId(db);
      // Stored output for a sample: every 250th job, over the whole two years.
      const sample = ids.filter((_, index) => index % 250 === 0);
      for (const jobId of sample) await store.put({ cluster, jobId, attempt: 1, stream: 'stdout' }, 0, text('out\n'));
      // Jobs that have not ended, submitted long ago: never touched.
      const pending = Number(await t.submit());
      const running = Number(await t.submit());
      await moveJob(db, running, 'RUNNING', { attempt: 1 });
      await db.execute(
        sql`UPDATE jobs SET submit_time = now() - interval '3 years' WHERE id IN (${pending}, ${running})`,
      );
      const ended = (days: number) =>
        count(db, sql`SELECT count(*) AS n FROM jobs WHERE end_time >= ${new Date(now.getTime() - days * DAY_MS)}`);
      const [keptJobs, keptOutput] = [await ended(365), await ended(30)];
      expect(await count(db, sql`SELECT count(*) AS n FROM job_events`)).toBeGreaterThanOrEqual(3 * history);

      const reconciler = new Reconciler(t.queue, { batchSize, retention, logs: store }, () => now);
      let runs = 0;
      for (;;) {
        const { outputsPurged, jobsPurged } = await reconciler.run(db);
        expect(outputsPurged).toBeLessThanOrEqual(batchSize);
        expect(jobsPurged).toBeLessThanOrEqual(batchSize);
        if (outputsPurged === 0 && jobsPurged === 0) break;
        runs += 1;
        expect(runs).toBeLessThan(100);
      }
      // About 48,000 outputs and 25,000 rows past their retention: many runs, none doing more than its batch.
      expect(runs).toBeGreaterThanOrEqual(Math.ceil((history - keptOutput) / batchSize));

      expect(await count(db, sql`SELECT count(*) AS n FROM jobs WHERE end_time IS NOT NULL`)).toBe(keptJobs);
      expect(keptJobs).toBeGreaterThan(history / 2 - 100);
      expect(keptJobs).toBeLessThan(history / 2 + 100);
      expect(await count(db, sql`SELECT count(*) AS n FROM jobs WHERE id IN (${pending}, ${running})`)).toBe(2);
      // Events went with their jobs.
      expect(await count(db, sql`SELECT count(*) AS n FROM job_events WHERE job_id NOT IN (SELECT id FROM jobs)`)).toBe(
        0,
      );
      expect(await count(db, sql`SELECT count(*) AS n FROM job_events`)).toBeGreaterThanOrEqual(3 * keptJobs);
      // Output is kept for the last 30 days only, and every job kept says whether its output is.
      expect(
        await count(db, sql`SELECT count(*) AS n FROM jobs WHERE output_purged_at IS NULL AND end_time IS NOT NULL`),
      ).toBe(keptOutput);
      const sampleKept = await count(
        db,
        sql`SELECT count(*) AS n FROM jobs WHERE output_purged_at IS NULL AND id = ANY(${`{${sample.join(',')}}`}::bigint[])`,
      );
      expect(sampleKept).toBeGreaterThan(0);
      expect(await storedObjects(store, cluster, sample)).toBe(sampleKept);

      // A job inside its output retention serves its output; one past it says it is gone; the rest are gone whole.
      const newest = sample.at(-1)!;
      const fresh = await t.call('GET', `/v1/jobs/${newest}/logs/stdout`);
      expect(fresh.status).toBe(200);
      expect(await fresh.text()).toBe('out\n');
      const [expired] = await queryRows(
        db,
        sql`SELECT id FROM jobs WHERE output_purged_at IS NOT NULL ORDER BY end_time DESC LIMIT 1`,
      );
      const gone = await t.call('GET', `/v1/jobs/${expired!.id}/logs/stdout`);
      expect(gone.status).toBe(410);
      expect(gone.headers.get('Content-Type')).toContain('application/problem+json');
      expect(await gone.json()).toMatchObject({ code: 'output_expired' });
      const original = await (await t.call('GET', `/jobs/query/${expired!.id}`)).json();
      expect(original.job_log.stdout).toContain('retention');
      expect((await t.call('GET', `/v1/jobs/${ids[0]}`)).status).toBe(404);
      expect((await t.call('GET', `/v1/jobs/${pending}`)).status).toBe(200);
    }, 600_000);

    it('keeps the table bounded under a steady load of new jobs', async () => {
      const { db } = t.database;
      await db.execute(sql`DELETE FROM jobs`);
      const steady: Retention = { ...DEFAULT_RETENTION, jobMs: 5 * DAY_MS, outputMs: 2 * DAY_MS };
      const perDay = 300;
      let day = Date.now();
      const reconciler = new Reconciler(
        t.queue,
        { batchSize: 500, retention: steady, logs: store },
        () => new Date(day),
      );
      const sizes: number[] = [];
      for (let days = 0; days < 20; days += 1) {
        day += DAY_MS;
        await finishedJobs(db, perDay, new Date(day), 1);
        await reconciler.run(db);
        sizes.push(await count(db, sql`SELECT count(*) AS n FROM jobs`));
      }
      // Five days' jobs and the one that ended on the cut: no more, ever, once five days have passed.
      expect(Math.max(...sizes.slice(6))).toBeLessThanOrEqual(6 * perDay);
      expect(await count(db, sql`SELECT count(*) AS n FROM jobs WHERE output_purged_at IS NULL`)).toBeLessThanOrEqual(
        3 * perDay,
      );
    }, 600_000);

    it('deletes no row whose output the store failed to delete, and deletes it once the store is back', async () => {
      const { db } = t.database;
      await db.execute(sql`DELETE FROM jobs`);
      const now = new Date();
      const [old] = await finishedJobs(db, 1, new Date(now.getTime() - 400 * DAY_MS), 1);
      const away: LogStore & JobArchive = {
        put: (...args) => store.put(...args),
        read: (...args) => store.read(...args),
        list: (...args) => store.list(...args),
        archiveJob: (...args) => store.archiveJob(...args),
        deleteJob: async () => {
          throw new LogStoreUnavailable('away');
        },
      };
      await expect(new Reconciler(t.queue, { retention, logs: away }, () => now).run(db)).rejects.toThrow(
        LogStoreUnavailable,
      );
      expect(await count(db, sql`SELECT count(*) AS n FROM jobs WHERE id = ${old} AND output_purged_at IS NULL`)).toBe(
        1,
      );
      const back = await new Reconciler(t.queue, { retention, logs: store }, () => now).run(db);
      expect(back).toMatchObject({ outputsPurged: 1, jobsPurged: 1 });
      expect(await count(db, sql`SELECT count(*) AS n FROM jobs WHERE id = ${old}`)).toBe(0);
    });

    it("archives each job's record before deleting its row, and deletes no row whose record was not stored", async () => {
      const { db } = t.database;
      await db.execute(sql`DELETE FROM jobs`);
      const now = new Date();
      const old = await finishedJobs(db, 3, new Date(now.getTime() - 400 * DAY_MS), 1);
      const [fresh] = await finishedJobs(db, 1, now, 1);
      const cluster = await readClusterId(db);
      const archiving = { ...retention, archive: true };
      // The store takes the first record, then goes away.
      let taken = 0;
      const flaky: LogStore & JobArchive = {
        put: (...args) => store.put(...args),
        read: (...args) => store.read(...args),
        list: (...args) => store.list(...args),
        deleteJob: (...args) => store.deleteJob(...args),
        archiveJob: async (...args) => {
          if (taken++ > 0) throw new LogStoreUnavailable('away');
          await store.archiveJob(...args);
        },
      };
      await expect(new Reconciler(t.queue, { retention: archiving, logs: flaky }, () => now).run(db)).rejects.toThrow(
        LogStoreUnavailable,
      );
      const left = async () => (await queryRows(db, sql`SELECT id FROM jobs ORDER BY id`)).map((row) => Number(row.id));
      expect(await left()).toEqual([...old.slice(1), fresh]);
      const back = await new Reconciler(t.queue, { retention: archiving, logs: store }, () => now).run(db);
      expect(back).toMatchObject({ jobsPurged: 2 });
      expect(await left()).toEqual([fresh]);

      const record = (jobId: number) => readFile(join(dir, archiveKey({ cluster, jobId })), 'utf8').then(JSON.parse);
      for (const jobId of old) {
        const { format, job, events } = await record(jobId);
        expect(format).toBe(JOB_RECORD_FORMAT);
        expect(job).toMatchObject({ id: String(jobId), account: 'physics', state: 'COMPLETED', attempt: 1 });
        expect(job).not.toHaveProperty('script');
        expect(job).not.toHaveProperty('environment');
        expect(events.map((event: { to_state: string }) => event.to_state)).toEqual([
          'PENDING',
          'RUNNING',
          'COMPLETED',
        ]);
      }
      await expect(record(fresh!)).rejects.toThrow(/ENOENT/);
    });
  });
}

describe('the retention settings', () => {
  it('default to a year for jobs and 30 days for output, take never, and refuse output kept longer than its job', () => {
    expect(readNodeHostConfig({})).toMatchObject({
      CONDUCTOR_JOB_RETENTION_DAYS: 365 * DAY_MS,
      CONDUCTOR_OUTPUT_RETENTION_DAYS: 30 * DAY_MS,
    });
    expect(
      readNodeHostConfig({ CONDUCTOR_JOB_RETENTION_DAYS: 'never', CONDUCTOR_OUTPUT_RETENTION_DAYS: 'never' }),
    ).toMatchObject({ CONDUCTOR_JOB_RETENTION_DAYS: null, CONDUCTOR_OUTPUT_RETENTION_DAYS: null });
    expect(() => readNodeHostConfig({ CONDUCTOR_JOB_RETENTION_DAYS: '10' })).toThrow(
      /CONDUCTOR_OUTPUT_RETENTION_DAYS: must not be longer than CONDUCTOR_JOB_RETENTION_DAYS/,
    );
    expect(() => readNodeHostConfig({ CONDUCTOR_OUTPUT_RETENTION_DAYS: 'never' })).toThrow(/must not be longer/);
    expect(() => readNodeHostConfig({ CONDUCTOR_JOB_RETENTION_DAYS: '0' })).toThrow(
      /CONDUCTOR_JOB_RETENTION_DAYS: must be at least 1 day, or never/,
    );
    expect(() => readNodeHostConfig({ CONDUCTOR_OUTPUT_RETENTION_DAYS: '1.5' })).toThrow(
      /CONDUCTOR_OUTPUT_RETENTION_DAYS: must be a whole number of days or never/,
    );
  });

  it('archive nothing by default, and take CONDUCTOR_ARCHIVE_JOBS yes or no only', () => {
    expect(readNodeHostConfig({})).toMatchObject({ CONDUCTOR_ARCHIVE_JOBS: false });
    expect(readNodeHostConfig({ CONDUCTOR_ARCHIVE_JOBS: 'yes' })).toMatchObject({ CONDUCTOR_ARCHIVE_JOBS: true });
    expect(() => readNodeHostConfig({ CONDUCTOR_ARCHIVE_JOBS: 'true' })).toThrow(
      /CONDUCTOR_ARCHIVE_JOBS: must be yes or no/,
    );
  });
});
