/** GET /v1/jobs in queue order, its date filters, and the wait and elapsed times of the job view. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, validJob, type TestApp } from './helpers/test-app.js';
import { backends } from './helpers/test-databases.js';
import { moveJob } from './helpers/job-states.js';

interface Listed {
  id: string;
  state: string;
  wait_seconds: number | null;
  elapsed_seconds: number | null;
}

const NOW = new Date('2026-11-30T12:00:00.000Z');
const at = (iso: string) => new Date(iso);

for (const backend of await backends()) {
  describe.skipIf(backend.skip)(`job listing order and history filters on ${backend.name}`, () => {
    let t: TestApp;
    // Submitted in this order: pending jobs of priorities 0, 5, 0, 5; two running; two ended.
    const ids: Record<string, string> = {};
    beforeAll(async () => {
      t = await createTestApp(backend, { now: () => NOW });
      const submit = (name: string, priority: number) => t.submit(validJob({ name, priority }));
      ids.p0a = await submit('p0a', 0);
      ids.run1 = await submit('run1', 0);
      ids.p5a = await submit('p5a', 5);
      ids.done1 = await submit('done1', 0);
      ids.p0b = await submit('p0b', 0);
      ids.run2 = await submit('run2', 0);
      ids.p5b = await submit('p5b', 5);
      ids.done2 = await submit('done2', 0);
      const db = t.database.db;
      const submitted = { submitTime: at('2026-11-30T11:00:00Z') };
      await moveJob(db, ids.run1!, 'RUNNING', { ...submitted, startTime: at('2026-11-30T11:00:30Z') });
      await moveJob(db, ids.run2!, 'RUNNING', { ...submitted, startTime: at('2026-11-30T11:59:00Z') });
      await moveJob(db, ids.done1!, 'COMPLETED', {
        ...submitted,
        startTime: at('2026-11-30T11:01:00Z'),
        endTime: at('2026-11-30T11:31:00.900Z'),
      });
      await moveJob(db, ids.done2!, 'FAILED', {
        submitTime: at('2026-11-29T10:00:00Z'),
        startTime: at('2026-11-29T10:00:00Z'),
        endTime: at('2026-11-29T11:00:00Z'),
      });
    });
    afterAll(() => t?.close());

    const list = async (query: string, token?: string) => {
      const response = await t.call('GET', `/v1/jobs?${query}`, token ? { token } : {});
      expect(response.status).toBe(200);
      return (await response.json()) as { jobs: Listed[]; next_cursor: string | null };
    };
    const names = (jobs: Listed[]) => jobs.map((job) => Object.keys(ids).find((name) => ids[name] === job.id));

    it('lists RUNNING then PENDING in the order the scheduler considers them', async () => {
      const page = await list('order=queue');
      expect(names(page.jobs)).toEqual(['run1', 'run2', 'p5a', 'p5b', 'p0a', 'p0b']);
      expect(page.next_cursor).toBeNull();
      expect(names((await list('order=queue&state=PENDING')).jobs)).toEqual(['p5a', 'p5b', 'p0a', 'p0b']);
      expect(names((await list('order=queue&state=RUNNING')).jobs)).toEqual(['run1', 'run2']);
      expect(names((await list('order=queue&state=COMPLETED')).jobs)).toEqual([]);
    });

    it.each([1, 2, 3, 4, 5])(
      'pages the queue order by %i, every job once, across the RUNNING/PENDING seam',
      async (limit) => {
        const seen: Listed[] = [];
        let cursor: string | null = null;
        do {
          const page = await list(`order=queue&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
          expect(page.jobs.length).toBeLessThanOrEqual(limit);
          seen.push(...page.jobs);
          cursor = page.next_cursor;
        } while (cursor);
        expect(names(seen)).toEqual(['run1', 'run2', 'p5a', 'p5b', 'p0a', 'p0b']);
      },
    );

    it("refuses a cursor of the other order, naming it, and keeps newest-first's cursors as they were", async () => {
      const queuePage = await list('order=queue&limit=3');
      const wrong = await t.call('GET', `/v1/jobs?cursor=${encodeURIComponent(queuePage.next_cursor!)}`);
      expect(wrong.status).toBe(422);
      expect((await wrong.json()).errors.map((e: { field: string }) => e.field)).toEqual(['cursor']);
      const newest = await list('limit=2');
      expect(newest.next_cursor).toBe(newest.jobs[1]!.id);
      const other = await t.call('GET', `/v1/jobs?order=queue&cursor=${newest.next_cursor}`);
      expect(other.status).toBe(422);
    });

    it('filters by end and submit time, half-open, as sacct does', async () => {
      expect(names((await list('ended_after=2026-11-30T00:00:00Z')).jobs)).toEqual(['done1']);
      expect(names((await list('ended_before=2026-11-30T00:00:00Z')).jobs)).toEqual(['done2']);
      expect(
        names((await list('ended_after=2026-11-29T11:00:00Z&ended_before=2026-11-30T11:31:00.900Z')).jobs),
      ).toEqual(['done2']);
      // An offset other than Z is read as the instant it names.
      expect(names((await list(`ended_after=${encodeURIComponent('2026-11-30T12:31:00+01:00')}`)).jobs)).toEqual([
        'done1',
      ]);
      expect(names((await list('submitted_before=2026-11-30T00:00:00Z')).jobs)).toEqual(['done2']);
      expect((await list('submitted_after=2026-11-30T11:00:00Z&state=RUNNING')).jobs).toHaveLength(2);
    });

    it.each(['ended_after', 'ended_before', 'submitted_after', 'submitted_before'])(
      'refuses a %s that is not an RFC 3339 date-time, naming it',
      async (field) => {
        for (const bad of ['yesterday', '2026-11-30', '2026-11-30T10:00:00']) {
          const response = await t.call('GET', `/v1/jobs?${field}=${bad}`);
          expect(response.status).toBe(422);
          expect((await response.json()).errors.map((e: { field: string }) => e.field)).toEqual([field]);
        }
      },
    );

    it('refuses an unknown order naming it', async () => {
      const response = await t.call('GET', '/v1/jobs?order=oldest');
      expect(response.status).toBe(422);
      expect((await response.json()).errors.map((e: { field: string }) => e.field)).toEqual(['order']);
    });

    it('shows wait and elapsed seconds: null before the start, to now while running, to the end after', async () => {
      const byName = new Map((await list('limit=20')).jobs.map((job) => [names([job])[0], job]));
      expect(byName.get('p0a')).toMatchObject({ wait_seconds: null, elapsed_seconds: null });
      expect(byName.get('run1')).toMatchObject({ wait_seconds: 30, elapsed_seconds: 3570 });
      expect(byName.get('done1')).toMatchObject({ wait_seconds: 60, elapsed_seconds: 1800 });
      expect(byName.get('done2')).toMatchObject({ wait_seconds: 0, elapsed_seconds: 3600 });
      const one = await (await t.call('GET', `/v1/jobs/${ids.run2}`)).json();
      expect(one).toMatchObject({ wait_seconds: 3540, elapsed_seconds: 60 });
    });

    it("keeps a user token to its account's jobs in queue order", async () => {
      const other = await t.submit(validJob({ account: 'chem', name: 'theirs' }));
      const token = await t.token('user', 'chem');
      expect((await list('order=queue', token)).jobs.map((job) => job.id)).toEqual([other]);
      expect((await list('order=queue&account=physics', token)).jobs).toEqual([]);
      await moveJob(t.database.db, other, 'CANCELLED');
    });
  });
}
