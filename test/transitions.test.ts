import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transitionJob } from '../api/jobs/transition-job.js';
import { jobEvents, jobs } from '../shared/db/schema.js';
import { isTerminal, isTransitionAllowed, JOB_STATES, type JobState } from '../shared/job/job-state.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { backends } from './helpers/test-databases.js';

const pairs = JOB_STATES.flatMap((from) => JOB_STATES.map((to) => [from, to] as [JobState, JobState]));

for (const backend of await backends()) {
  describe.skipIf(backend.skip)(`every transition on ${backend.name}`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(backend);
    });
    afterAll(() => t?.close());

    it.each(pairs)('%s -> %s is done exactly when the table allows it', async (from, to) => {
      const id = Number(await t.submit());
      // Put the job in the starting state directly: the API has no way into most of them yet.
      await t.database.db.update(jobs).set({ state: from }).where(eq(jobs.id, id));
      const eventsBefore = await t.database.db.$count(jobEvents, eq(jobEvents.jobId, id));

      const { job, moved } = await transitionJob(t.database.db, { id, to, actor: 'test', reason: 'because' });

      const allowed = isTransitionAllowed(from, to);
      expect(moved).toBe(allowed);
      expect(job.state).toBe(allowed ? to : from);
      const events = await t.database.db.select().from(jobEvents).where(eq(jobEvents.jobId, id));
      expect(events.length).toBe(eventsBefore + (allowed ? 1 : 0));
      if (allowed) {
        expect(events.at(-1)).toMatchObject({ fromState: from, toState: to, actor: 'test', reason: 'because' });
        expect(job.endTime !== null).toBe(isTerminal(to));
      }
    });

    it('refuses a job of another account as if it did not exist', async () => {
      const id = Number(await t.submit());
      await expect(
        transitionJob(t.database.db, { id, to: 'CANCELLED', actor: 'test', reason: 'x', account: 'someone-else' }),
      ).rejects.toMatchObject({ code: 'job_not_found' });
      const [row] = await t.database.db.select({ state: jobs.state }).from(jobs).where(eq(jobs.id, id));
      expect(row!.state).toBe('PENDING');
    });

    it('records the submission as the first event', async () => {
      const id = Number(await t.submit());
      const events = await t.database.db.select().from(jobEvents).where(eq(jobEvents.jobId, id));
      expect(events).toMatchObject([
        { fromState: null, toState: 'PENDING', attempt: 0, actor: 'admin:bootstrap', reason: 'submitted' },
      ]);
    });
  });
}
