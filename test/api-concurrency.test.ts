import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobEvents, jobs } from '../shared/db/schema.js';
import { createTestApp, validJob, type TestApp } from './helpers/test-app.js';
import { backends } from './helpers/test-databases.js';
import { moveJob } from './helpers/job-states.js';

const CONCURRENCY = 50;

for (const backend of await backends()) {
  describe.skipIf(backend.skip)(`${CONCURRENCY} at once on ${backend.name}`, () => {
    let t: TestApp;
    beforeAll(async () => {
      // As many connections as callers, so that on the server they really run at the same time.
      t = await createTestApp(backend, { poolSize: CONCURRENCY });
    });
    afterAll(() => t?.close());

    const eventsOf = (id: string) =>
      t.database.db
        .select()
        .from(jobEvents)
        .where(eq(jobEvents.jobId, Number(id)));

    it('cancels of one PENDING job: one cancellation, one event, every caller answered 200', async () => {
      const id = await t.submit();
      const paths = Array.from({ length: CONCURRENCY }, (_, i) =>
        i % 2 ? `/v1/jobs/${id}/cancel` : `/jobs/cancel/${id}`,
      );
      const responses = await Promise.all(paths.map((path) => t.call('POST', path)));
      expect(responses.map((r) => r.status)).toEqual(Array(CONCURRENCY).fill(200));
      const bodies = await Promise.all(responses.map((r) => r.json()));
      // The original path answers a message; only the one that cancelled says exactly this.
      const effects = bodies.map((body) => body.effect ?? (body.msg === `Job ${id} cancelled` ? 'cancelled' : 'none'));
      expect(effects.filter((effect) => effect === 'cancelled')).toHaveLength(1);
      expect((await eventsOf(id)).filter((e) => e.toState === 'CANCELLED')).toHaveLength(1);
    });

    it('cancels of one RUNNING job: one cancel request recorded', async () => {
      const id = await t.submit();
      await moveJob(t.database.db, id, 'RUNNING');
      const responses = await Promise.all(
        Array.from({ length: CONCURRENCY }, () => t.call('POST', `/v1/jobs/${id}/cancel`)),
      );
      const effects = await Promise.all(responses.map(async (r) => (await r.json()).effect));
      expect(effects.filter((effect) => effect === 'cancel_requested')).toHaveLength(1);
      expect(effects.filter((effect) => effect === 'none')).toHaveLength(CONCURRENCY - 1);
      expect((await eventsOf(id)).filter((e) => e.reason === 'cancel requested')).toHaveLength(1);
    });

    it('submits: one job and one event each, with distinct ids', async () => {
      const before = await t.database.db.$count(jobs);
      const responses = await Promise.all(
        Array.from({ length: CONCURRENCY }, (_, i) =>
          t.call('POST', i % 2 ? '/v1/jobs' : '/jobs/submit', {
            body: { job: validJob({ name: `burst-${i}` }), script: 'true' },
          }),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(CONCURRENCY).fill(201));
      const ids = await Promise.all(
        responses.map(async (r) => {
          const body = await r.json();
          return String(body.id ?? body.job_id);
        }),
      );
      expect(new Set(ids).size).toBe(CONCURRENCY);
      expect(await t.database.db.$count(jobs)).toBe(before + CONCURRENCY);
      for (const id of ids) expect(await eventsOf(id)).toHaveLength(1);
    });
  });
}
