/**
 * The one transition path: every pair of states is moved exactly when the state table allows it, batches behave
 * (order, duplicates, notes, conditions), and the database itself refuses a state change made any other way.
 */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transitionJobs } from '../api/jobs/transition-jobs.js';
import { queryRows } from '../shared/db/query-rows.js';
import { jobEvents, jobs } from '../shared/db/schema.js';
import {
  ALLOWED_TRANSITIONS,
  isTerminal,
  isTransitionAllowed,
  JOB_STATES,
  type JobState,
} from '../shared/job/job-state.js';
import { moveJob } from './helpers/job-states.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { backends } from './helpers/test-databases.js';

const pairs = JOB_STATES.flatMap((from) => JOB_STATES.map((to) => [from, to] as [JobState, JobState]));

for (const backend of await backends()) {
  describe.skipIf(backend.skip)(`the transition function on ${backend.name}`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(backend);
    });
    afterAll(() => t?.close());

    const stateOf = async (id: number) =>
      (await t.database.db.select({ state: jobs.state }).from(jobs).where(eq(jobs.id, id)))[0]!.state;
    const eventsOf = (id: number) => t.database.db.select().from(jobEvents).where(eq(jobEvents.jobId, id));

    it.each(pairs.filter(([from, to]) => from !== to))(
      '%s -> %s is done exactly when the table allows it',
      async (from, to) => {
        const id = Number(await t.submit());
        await moveJob(t.database.db, id, from);
        const eventsBefore = (await eventsOf(id)).length;

        const [result] = await transitionJobs(t.database.db, { jobs: [{ id, to, reason: 'because' }], actor: 'test' });

        const allowed = isTransitionAllowed(from, to);
        expect(result!.applied).toBe(allowed);
        expect(await stateOf(id)).toBe(allowed ? to : from);
        const events = await eventsOf(id);
        expect(events.length).toBe(eventsBefore + (allowed ? 1 : 0));
        if (allowed) {
          expect(events.at(-1)).toMatchObject({ fromState: from, toState: to, actor: 'test', reason: 'because' });
          expect(result!.after!.endTime !== null).toBe(isTerminal(to));
          expect(result!.after!.reason).toBe(to === 'PENDING' ? 'Priority' : null);
        }
      },
    );

    it('takes a batch in one statement: results in input order, a job named twice moved once, a missing one null', async () => {
      const a = Number(await t.submit());
      const b = Number(await t.submit());
      const results = await transitionJobs(t.database.db, {
        jobs: [
          { id: b, to: 'CANCELLED', reason: 'b' },
          { id: 987654321, to: 'CANCELLED', reason: 'missing' },
          { id: a, to: 'CANCELLED', reason: 'a' },
          { id: b, to: 'CANCELLED', reason: 'b again' },
        ],
        actor: 'test',
      });
      expect(results.map((r) => [r.applied, r.before?.id ?? null])).toEqual([
        [true, b],
        [false, null],
        [true, a],
        [false, b],
      ]);
      expect((await eventsOf(b)).filter((e) => e.toState === 'CANCELLED')).toHaveLength(1);
    });

    it('notes a job in its state (an event, its columns, no move), but never a job that has ended', async () => {
      const id = Number(await t.submit());
      await moveJob(t.database.db, id, 'RUNNING');
      const [noted] = await transitionJobs(t.database.db, {
        jobs: [{ id, to: 'RUNNING', reason: 'cancel requested' }],
        from: ['RUNNING'],
        set: sql`cancel_requested_at = now()`,
        actor: 'test',
      });
      expect(noted!.applied).toBe(true);
      expect(noted!.after!.cancelRequestedAt).not.toBeNull();
      expect((await eventsOf(id)).at(-1)).toMatchObject({ fromState: 'RUNNING', toState: 'RUNNING' });
      await moveJob(t.database.db, id, 'COMPLETED');
      await expect(
        transitionJobs(t.database.db, {
          jobs: [{ id, to: 'COMPLETED', reason: 'x' }],
          from: ['COMPLETED'],
          actor: 't',
        }),
      ).rejects.toThrow(/no transition of the state table/);
    });

    it('applies only where `where` holds, reading the inputs of each job', async () => {
      const id = Number(await t.submit());
      await moveJob(t.database.db, id, 'RUNNING', { nodeName: 'n1', attempt: 2 });
      const finish = (attempt: number) =>
        transitionJobs(t.database.db, {
          jobs: [{ id, to: 'FAILED', reason: 'x', values: { attempt } }],
          inputs: { attempt: 'integer' },
          where: sql`current.attempt = input.attempt`,
          actor: 'test',
        });
      expect((await finish(1))[0]!.applied).toBe(false);
      expect((await finish(2))[0]!.applied).toBe(true);
    });

    it('keeps the state table in the database equal to the one in the code', async () => {
      const rows = await queryRows(t.database.db, sql`SELECT from_state, to_state FROM job_transitions`);
      const inDatabase = rows.map((row) => `${String(row.from_state)}->${String(row.to_state)}`).sort();
      const inCode = Object.entries(ALLOWED_TRANSITIONS)
        .flatMap(([from, tos]) => tos.map((to) => `${from}->${to}`))
        .sort();
      expect(inDatabase).toEqual(inCode);
    });

    describe('the database refuses a state change made any other way', () => {
      it('a plain UPDATE of the state', async () => {
        const id = Number(await t.submit());
        await expect(t.database.db.update(jobs).set({ state: 'RUNNING' }).where(eq(jobs.id, id))).rejects.toThrow();
        expect(await stateOf(id)).toBe('PENDING');
        // Its other columns stay writable: only the state is guarded.
        await t.database.db.update(jobs).set({ priority: 5 }).where(eq(jobs.id, id));
      });

      it('a statement that forges the mark for a move the table does not allow', async () => {
        const id = Number(await t.submit());
        await moveJob(t.database.db, id, 'COMPLETED');
        await expect(
          t.database.db.execute(sql`
            UPDATE jobs SET state = 'RUNNING'
            WHERE id = ${id} AND (SELECT set_config('conductor.transition', statement_timestamp()::text, true)) IS NOT NULL`),
        ).rejects.toThrow();
        expect(await stateOf(id)).toBe('COMPLETED');
      });

      it('a later statement of the transaction in which the function ran', async () => {
        const id = Number(await t.submit());
        const other = Number(await t.submit());
        await expect(
          t.database.db.transaction(async (tx) => {
            await transitionJobs(tx, { jobs: [{ id, to: 'CANCELLED', reason: 'x' }], actor: 'test' });
            await tx.update(jobs).set({ state: 'RUNNING' }).where(eq(jobs.id, other));
          }),
        ).rejects.toThrow();
        expect([await stateOf(id), await stateOf(other)]).toEqual(['PENDING', 'PENDING']);
      });

      it('a job created in any state but PENDING', async () => {
        await expect(
          t.database.db.execute(sql`
            INSERT INTO jobs (account, name, partition, state, submitted_by, script, stdout_pattern, stderr_pattern,
                              environment, ntasks_per_node, cpus_per_task, cpus, memory_mb)
            VALUES ('a', 'n', 'p', 'RUNNING', 'x', 'true', 'o', 'e', '{}', 1, 1, 1, 1)`),
        ).rejects.toThrow();
      });
    });

    it('records the submission as the first event', async () => {
      const id = Number(await t.submit());
      expect(await eventsOf(id)).toMatchObject([
        { fromState: null, toState: 'PENDING', attempt: 0, actor: 'admin:bootstrap', reason: 'submitted' },
      ]);
    });
  });
}
