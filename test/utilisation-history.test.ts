/**
 * The utilisation history: samples written by a real reconciler run over real jobs, once per minute however many
 * reconcilers run, bounded to 8 days, and read back as chart columns (GET /v1/stats/history).
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Reconciler } from '../api/reconciler.js';
import { nodes } from '../shared/db/schema.js';
import { queryRows } from '../shared/db/query-rows.js';
import { moveJob } from './helpers/job-states.js';
import { createTestApp, validJob, type TestApp } from './helpers/test-app.js';
import { backends } from './helpers/test-databases.js';

interface History {
  window: string;
  step_seconds: number;
  times: number[];
  partitions: string[];
  cpus_allocated: Record<string, (number | null)[]>;
  cpus_total: Record<string, (number | null)[]>;
  pending: (number | null)[];
  running: (number | null)[];
  finished: Record<string, (number | null)[]>;
  median_wait_seconds: (number | null)[];
}

const at = (iso: string) => new Date(iso);
const unix = (iso: string) => at(iso).getTime() / 1000;

for (const backend of await backends()) {
  describe.skipIf(backend.skip)(`utilisation history on ${backend.name}`, () => {
    let t: TestApp;
    let now = at('2026-11-30T12:03:30Z'); // samples 12:02
    beforeAll(async () => {
      t = await createTestApp(backend, { now: () => now });
      await t.database.db.insert(nodes).values([
        { name: 'h1', partitions: ['batch'], cpus: 8, memoryMb: 32768 },
        { name: 'h2', partitions: ['batch', 'gpu'], cpus: 4, memoryMb: 16384 },
        { name: 'h3', partitions: ['batch'], cpus: 16, memoryMb: 65536, state: 'DOWN' },
      ]);
    });
    afterAll(() => t?.close());

    const reconcile = () => new Reconciler(t.queue, {}, () => now).run(t.database.db);
    /** A job of `account` submitted `wait` seconds before `start`, moved to `state` with those times. */
    const job = async (
      account: string,
      state: 'RUNNING' | 'COMPLETED' | 'FAILED' | 'TIMEOUT',
      start: string,
      wait: number,
      end?: string,
    ) => {
      const id = await t.submit(validJob({ account }));
      await moveJob(t.database.db, id, state, {
        submitTime: new Date(at(start).getTime() - wait * 1000),
        startTime: at(start),
        ...(end ? { endTime: at(end) } : {}),
      });
      return id;
    };
    const history = async (query: string, token?: string) => {
      const response = await t.call('GET', `/v1/stats/history?${query}`, token ? { token } : {});
      expect(response.status).toBe(200);
      return (await response.json()) as History;
    };
    const sampleRows = async () =>
      Number((await queryRows(t.database.db, sql`SELECT count(*)::int AS n FROM utilisation_samples`))[0]!.n);

    it('samples a minute once, from the jobs, however many reconcilers run it', async () => {
      // In minute 12:02: physics starts 4 jobs (waits 10, 20, 30, 100 s) and chem 1 (1000 s); 3 physics jobs and one
      // chem job end; one ended the minute before, and is not counted in this one.
      await job('physics', 'RUNNING', '2026-11-30T12:02:10Z', 10);
      await job('physics', 'COMPLETED', '2026-11-30T12:02:05Z', 20, '2026-11-30T12:02:50Z');
      await job('physics', 'FAILED', '2026-11-30T12:02:59.999Z', 30, '2026-11-30T12:02:59.999Z');
      await job('physics', 'RUNNING', '2026-11-30T12:02:00Z', 100);
      await job('chem', 'RUNNING', '2026-11-30T12:02:30Z', 1000);
      await job('physics', 'COMPLETED', '2026-11-30T11:00:00Z', 5, '2026-11-30T12:02:00Z');
      await job('chem', 'TIMEOUT', '2026-11-30T11:00:00Z', 5, '2026-11-30T12:02:40Z');
      await job('physics', 'COMPLETED', '2026-11-30T11:00:00Z', 5, '2026-11-30T12:01:59.999Z');
      await t.submit(validJob({ account: 'physics' }));
      await t.submit(validJob({ account: 'chem', partition: 'gpu' }));

      const runs = await Promise.all([reconcile(), reconcile(), reconcile()]);
      expect(runs.map((run) => run.sampledMinute?.toISOString() ?? null).sort()).toEqual([
        '2026-11-30T12:02:00.000Z',
        null,
        null,
      ]);
      const written = await sampleRows();
      expect((await reconcile()).sampledMinute).toBeNull();
      expect(await sampleRows()).toBe(written);

      const hour = await history('window=hour');
      expect(hour.window).toBe('hour');
      expect(hour.step_seconds).toBe(60);
      expect(hour.times).toHaveLength(60);
      expect(hour.times.at(-1)).toBe(unix('2026-11-30T12:02:00Z'));
      expect(hour.times[0]).toBe(unix('2026-11-30T11:03:00Z'));
      expect(hour.partitions).toEqual(['batch', 'gpu']);
      const last = (series: (number | null)[]) => series.at(-1);
      for (const series of [hour.pending, hour.running, hour.median_wait_seconds, hour.cpus_total.batch!]) {
        expect(series).toHaveLength(60);
        expect(series.slice(0, 59).every((value) => value === null)).toBe(true);
      }
      expect(last(hour.cpus_total.batch!)).toBe(12); // h3 is DOWN
      expect(last(hour.cpus_total.gpu!)).toBe(4);
      expect(last(hour.cpus_allocated.batch!)).toBe(12); // 3 running jobs of 4 CPUs
      expect(last(hour.cpus_allocated.gpu!)).toBe(0);
      expect(last(hour.pending)).toBe(2);
      expect(last(hour.running)).toBe(3);
      expect(Object.fromEntries(Object.entries(hour.finished).map(([state, series]) => [state, last(series)]))).toEqual(
        {
          COMPLETED: 2,
          FAILED: 1,
          CANCELLED: 0,
          TIMEOUT: 1,
          OUT_OF_MEMORY: 0,
          NODE_FAIL: 0,
        },
      );
      expect(last(hour.median_wait_seconds)).toBe(30); // of 10, 20, 30, 100, 1000
    });

    it("keeps a user token to its account's figures, and shows it the cluster's capacity", async () => {
      const token = await t.token('user', 'physics');
      const mine = await history('window=hour', token);
      expect(mine.median_wait_seconds.at(-1)).toBe(25); // of 10, 20, 30, 100
      expect(mine.finished.TIMEOUT!.at(-1)).toBe(0);
      expect(mine.finished.COMPLETED!.at(-1)).toBe(2);
      expect(mine.running.at(-1)).toBe(2);
      expect(mine.pending.at(-1)).toBe(1);
      expect(mine.cpus_allocated.batch!.at(-1)).toBe(8);
      expect(mine.cpus_total.batch!.at(-1)).toBe(12);
      const theirs = await history('window=hour&account=chem', token);
      expect(theirs.running.at(-1)).toBe(0);
      expect(theirs.median_wait_seconds.at(-1)).toBeNull();
      expect(theirs.cpus_total.batch!.at(-1)).toBe(12);
      const gpu = await history('window=hour&partition=gpu');
      expect(gpu.partitions).toEqual(['gpu']);
      expect(gpu.pending.at(-1)).toBe(1);
      expect(gpu.running.at(-1)).toBe(0);
    });

    it('aggregates the day in 5-minute steps: gauges averaged over sampled minutes, counts summed, one median', async () => {
      now = at('2026-11-30T12:04:30Z'); // samples 12:03: one more job started (wait 40 s) and ended in it
      await job('physics', 'COMPLETED', '2026-11-30T12:03:01Z', 40, '2026-11-30T12:03:02Z');
      expect((await reconcile()).sampledMinute?.toISOString()).toBe('2026-11-30T12:03:00.000Z');
      const day = await history('window=day');
      expect(day.step_seconds).toBe(300);
      expect(day.times).toHaveLength(288);
      expect(day.times.at(-1)).toBe(unix('2026-11-30T12:00:00Z'));
      expect(day.finished.COMPLETED!.at(-1)).toBe(3);
      expect(day.running.at(-1)).toBe(3);
      expect(day.pending.at(-1)).toBe(2);
      expect(day.median_wait_seconds.at(-1)).toBe(35); // of 10, 20, 30, 40, 100, 1000
      expect(day.times.at(-2)).toBe(unix('2026-11-30T11:55:00Z'));
      expect(day.running.at(-2)).toBeNull();
      expect(day.cpus_total.batch!.at(-1)).toBe(12);
    });

    it('deletes samples older than 8 days, keeps the younger ones', async () => {
      const old = (iso: string) =>
        t.database.db.execute(
          sql`INSERT INTO utilisation_minutes (minute, cpus_total) VALUES (${iso}::timestamptz, '{}')`,
        );
      await old('2026-11-22T12:00:00Z'); // 8 days and 5 minutes before the next run
      await old('2026-11-23T12:00:00Z');
      now = at('2026-11-30T12:05:30Z');
      await reconcile();
      const kept = await queryRows(
        t.database.db,
        sql`SELECT to_char(minute AT TIME ZONE 'UTC', 'MM-DD HH24:MI') AS minute FROM utilisation_minutes ORDER BY 1`,
      );
      expect(kept.map((row) => row.minute)).toEqual(['11-23 12:00', '11-30 12:02', '11-30 12:03', '11-30 12:04']);
    });

    it.each([
      ['window=week', 'window'],
      ['partition=%0A', 'partition'],
      ['account=a%00', 'account'],
    ])('refuses %s naming the field', async (query, field) => {
      const response = await t.call('GET', `/v1/stats/history?${query}`);
      expect(response.status).toBe(422);
      expect((await response.json()).errors.map((e: { field: string }) => e.field)).toEqual([field]);
    });
  });
}
