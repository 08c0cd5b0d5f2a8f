/**
 * Job dependencies (issue 20, item 2): each type against each way a parent ends, the parent ending after the submit
 * (the event-driven release, with no reconciler run) or long before it (settled at the submit); "," and "?"; a
 * dependency never satisfied cancels the job (or keeps it, kill_on_invalid_dep false) and cascades; unknown and other
 * accounts' parents are refused; a dependent submit retried with its key is one job.
 */
import { and, desc, eq } from 'drizzle-orm';
import { Reconciler } from '../api/reconciler.js';
import { pushNotEnqueued } from '../api/jobs/push-not-enqueued.js';
import { releaseBegunJobs } from '../api/jobs/release-begun-jobs.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobDependencies, jobs } from '../shared/db/schema.js';
import type { JobState } from '../shared/job/job-state.js';
import { beat, claimOn, json, smallJob } from './helpers/pending-cluster.js';
import { moveJob } from './helpers/job-states.js';
import { appsOnQueues } from './helpers/test-app-queues.js';
import { ADMIN_TOKEN, type TestApp } from './helpers/test-app.js';

const PARTITION = 'batch';
const ENDINGS: JobState[] = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL'];

/** What each type makes of a parent that ran and ended so: released, or never satisfiable. */
const EXPECTED: Record<'afterany' | 'afterok' | 'afternotok', (end: JobState) => 'released' | 'never'> = {
  afterany: () => 'released',
  afterok: (end) => (end === 'COMPLETED' ? 'released' : 'never'),
  afternotok: (end) => (end === 'COMPLETED' ? 'never' : 'released'),
};

for (const setup of await appsOnQueues()) {
  describe.skipIf(setup.skip)(`job dependencies on ${setup.name}`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await setup.open();
      await beat(t, 'n-deps', [PARTITION]);
    });
    afterAll(() => t?.close());

    const submit = async (extra: Record<string, unknown> = {}, token?: string) =>
      json(
        t.call('POST', '/v1/jobs', { body: { job: smallJob(PARTITION, extra), script: '#!/bin/bash\ntrue' }, token }),
        201,
      );
    const parent = async () => String((await submit()).id);
    const get = async (id: string) => json(t.call('GET', `/v1/jobs/${id}`), 200);
    const lastEvent = async (id: string) => (await json(t.call('GET', `/v1/jobs/${id}/events`), 200)).events.at(-1);
    /** Ran, then ended so (CANCELLED too: a running job cancelled). */
    const runAndEnd = async (id: string, end: JobState) => {
      await moveJob(t.database.db, id, 'RUNNING');
      await moveJob(t.database.db, id, end);
    };
    /** The child is out of the queue waiting, or was released into it, or was cancelled as never satisfiable. */
    const outcome = async (id: string): Promise<'waiting' | 'released' | 'never'> => {
      const job = await get(id);
      if (job.state === 'CANCELLED') {
        expect(job.reason).toBe('DependencyNeverSatisfied');
        expect((await lastEvent(id)).reason).toBe('DependencyNeverSatisfied');
        expect(await t.queue.missing([Number(id)])).toEqual([Number(id)]);
        return 'never';
      }
      expect(job.state).toBe('PENDING');
      if (job.reason === 'Dependency') {
        expect(await t.queue.missing([Number(id)])).toEqual([Number(id)]);
        return 'waiting';
      }
      return 'released';
    };

    for (const kind of ['afterany', 'afterok', 'afternotok'] as const) {
      for (const end of ENDINGS) {
        it(`${kind} on a parent that ends ${end}: decided when it ends, and when it ended before the submit`, async () => {
          const running = await parent();
          const child = String((await submit({ dependency: `${kind}:${running}` })).id);
          expect(await outcome(child)).toBe('waiting');
          await runAndEnd(running, end);
          expect(await outcome(child)).toBe(EXPECTED[kind](end));

          const finished = await parent();
          await runAndEnd(finished, end);
          const late = String((await submit({ dependency: `${kind}:${finished}` })).id);
          expect(await outcome(late)).toBe(EXPECTED[kind](end));
        });
      }
    }

    it('after: released when the parent starts, or is cancelled before it starts', async () => {
      const [a, b] = [await parent(), await parent()];
      const [ca, cb] = [
        String((await submit({ dependency: `after:${a}` })).id),
        String((await submit({ dependency: `after:${b}` })).id),
      ];
      expect(await outcome(ca)).toBe('waiting');
      await moveJob(t.database.db, a, 'RUNNING');
      expect(await outcome(ca)).toBe('released');
      await moveJob(t.database.db, b, 'CANCELLED');
      expect(await outcome(cb)).toBe('released');
    });

    it('a waiting child never starts from a stale ref; released, its ref is in the queue', async () => {
      const p = await parent();
      const child = Number((await submit({ dependency: `afterok:${p}` })).id);
      // A ref pushed by mistake: the confirm must not start it.
      await t.queue.enqueue([
        {
          id: child,
          partition: PARTITION,
          cpus: 1,
          memoryMb: 1024,
          priority: 0,
          exclusive: false,
          user: null,
          timeLimitSeconds: 3600,
        },
      ]);
      const node = await t.token('node', 'n-deps');
      const refused = await json(
        t.call('POST', '/v1/nodes/n-deps/confirm', { token: node, body: { job_ids: [String(child)] } }),
        200,
      );
      expect(refused.jobs).toEqual([]);
      await runAndEnd(p, 'COMPLETED');
      expect(await t.queue.missing([child])).toEqual([]);
      const job = await get(String(child));
      expect(job.state).toBe('PENDING');
      expect(job.reason).not.toBe('Dependency');
    });

    it('through the routes: a confirm pushes its `after` dependents, an end report its afterok ones, a cancel its afterany ones', async () => {
      // A partition and node of its own: the jobs the other tests released wait in batch.
      const [own, name] = ['tiny', 'n-routes'];
      await beat(t, name, [own]);
      const node = await t.token('node', name);
      const submitTo = async (dependency?: string) =>
        Number(
          (
            await json(
              t.call('POST', '/v1/jobs', {
                body: { job: smallJob(own, dependency ? { dependency } : {}), script: '#!/bin/bash\ntrue' },
              }),
              201,
            )
          ).id,
        );
      const p = await submitTo();
      const after = await submitTo(`after:${p}`);
      const afterok = await submitTo(`afterok:${p}`);
      const claimed = await claimOn(t, name, own);
      expect(claimed.map((ref) => ref.id)).toEqual([p]);
      await json(t.call('POST', `/v1/nodes/${name}/confirm`, { token: node, body: { job_ids: [String(p)] } }), 200);
      expect(await t.queue.missing([after, afterok])).toEqual([afterok]);
      const finished = {
        kind: 'finished',
        job_id: String(p),
        attempt: 1,
        state: 'COMPLETED',
        exit_status: 0,
        exit_signal: null,
      };
      await json(
        t.call('POST', `/v1/nodes/${name}/events`, {
          token: node,
          body: { events: [{ kind: 'started', job_id: String(p), attempt: 1, pid: 4242, cpu_ids: [0] }, finished] },
        }),
        200,
      );
      expect(await t.queue.missing([afterok])).toEqual([]);

      const cancelled = await submitTo();
      const afterany = await submitTo(`afterany:${cancelled}`);
      await json(t.call('POST', `/v1/jobs/${cancelled}/cancel`), 200);
      expect(await t.queue.missing([afterany])).toEqual([]);
      // The original path's cancel too.
      const original = await submitTo();
      const afteranyOriginal = await submitTo(`afterany:${original}`);
      await json(t.call('POST', `/jobs/cancel/${original}`), 200);
      expect(await t.queue.missing([afteranyOriginal])).toEqual([]);
    });

    it('a held job with a dependency shows the hold; released before its dependency holds, it waits for it again', async () => {
      const [own, name] = ['other', 'n-held'];
      await beat(t, name, [own]);
      const node = await t.token('node', name);
      const p = await parent();
      const body = { job: smallJob(own, { hold: true, dependency: `afterok:${p}` }), script: '#!/bin/bash\ntrue' };
      const child = Number((await json(t.call('POST', '/v1/jobs', { body }), 201)).id);
      expect((await get(String(child))).reason).toBe('JobHeldUser');
      // As scontrol release of an sbatch -H -d job: back to Dependency, not to the queue while its parent waits.
      const released = await json(t.call('POST', `/v1/jobs/${child}/release`), 200);
      expect(released.job.reason).toBe('Dependency');
      const claim = async () => (await claimOn(t, name, own)).map((ref) => String(ref.id));
      const confirm = async (ids: string[]) =>
        (await json(t.call('POST', `/v1/nodes/${name}/confirm`, { token: node, body: { job_ids: ids } }), 200)).jobs;
      expect(await claim()).toEqual([]);
      expect(await outcome(String(child))).toBe('waiting');
      await runAndEnd(p, 'COMPLETED');
      expect(await outcome(String(child))).toBe('released');
      // As the route that records the end pushes it (moveJob is the bare transition).
      await pushNotEnqueued(t.database.db, t.queue, 100);
      expect((await confirm(await claim())).map((job: { id: string }) => job.id)).toEqual([String(child)]);
    });

    it('a job submitted held is settled at its release: its parent failed meanwhile, it is cancelled, as the answer says', async () => {
      const p = await parent();
      const child = String((await submit({ hold: true, dependency: `afterok:${p}` })).id);
      const tasks = await submit({ hold: true, array: '0-2', dependency: `afterok:${p}` });
      await runAndEnd(p, 'FAILED');
      expect((await get(child)).reason).toBe('JobHeldUser');
      const released = await json(t.call('POST', `/v1/jobs/${child}/release`), 200);
      expect([released.job.state, released.job.reason]).toEqual(['CANCELLED', 'DependencyNeverSatisfied']);
      expect(await outcome(child)).toBe('never');
      await json(t.call('POST', `/v1/jobs/${tasks.id}/release`), 200);
      expect(await outcome(String(tasks.id))).toBe('never');
    });

    it('a job held between its claim and the confirm stays held: the confirm does not put it back to its dependency', async () => {
      const [own, name] = ['other', 'n-held'];
      await beat(t, name, [own]);
      const node = await t.token('node', name);
      const p = await parent();
      // In the queue with its dependency unsettled: its begin time came (the end of a begin leaves it to the confirm).
      const body = {
        job: smallJob(own, { begin: 'now+1hour', dependency: `afterok:${p}` }),
        script: '#!/bin/bash\ntrue',
      };
      const child = Number((await json(t.call('POST', '/v1/jobs', { body }), 201)).id);
      expect(await releaseBegunJobs(t.database.db, new Date(Date.now() + 2 * 3_600_000))).toBeGreaterThanOrEqual(1);
      await pushNotEnqueued(t.database.db, t.queue, 100);
      const claimed = await claimOn(t, name, own);
      expect(claimed.map((ref) => ref.id)).toEqual([child]);
      await json(t.call('POST', `/v1/jobs/${child}/hold`), 200);
      const confirmed = await json(
        t.call('POST', `/v1/nodes/${name}/confirm`, { token: node, body: { job_ids: [String(child)] } }),
        200,
      );
      expect(confirmed.jobs).toEqual([]);
      expect((await get(String(child))).reason).toBe('JobHeldAdmin');
      // Its parent's end does not release a held job either.
      await runAndEnd(p, 'COMPLETED');
      expect((await get(String(child))).reason).toBe('JobHeldAdmin');
    });

    it('a job held while it waits for its dependency is settled at its release when its parent ended meanwhile', async () => {
      const p = await parent();
      const child = String((await submit({ dependency: `afterok:${p}` })).id);
      // An admin's hold (JobHeldAdmin): the tests submit as the admin.
      await json(t.call('POST', `/v1/jobs/${child}/hold`), 200);
      expect((await get(child)).reason).toBe('JobHeldAdmin');
      await runAndEnd(p, 'COMPLETED');
      expect((await get(child)).reason).toBe('JobHeldAdmin');
      await json(t.call('POST', `/v1/jobs/${child}/release`), 200);
      expect(await outcome(child)).toBe('released');
      expect(await t.queue.missing([Number(child)])).toEqual([]);
    });

    it('a job whose begin time came after its dependency failed is cancelled by the confirm, not started', async () => {
      const [own, name] = ['gpu', 'n-begin'];
      await beat(t, name, [own]);
      const node = await t.token('node', name);
      const p = await parent();
      const body = {
        job: smallJob(own, { begin: 'now+1hour', dependency: `afterok:${p}` }),
        script: '#!/bin/bash\ntrue',
      };
      const child = Number((await json(t.call('POST', '/v1/jobs', { body }), 201)).id);
      expect((await get(String(child))).reason).toBe('BeginTime');
      await runAndEnd(p, 'FAILED');
      expect((await get(String(child))).reason).toBe('BeginTime');
      expect(await releaseBegunJobs(t.database.db, new Date(Date.now() + 2 * 3_600_000))).toBeGreaterThanOrEqual(1);
      await pushNotEnqueued(t.database.db, t.queue, 100);
      const claimed = await claimOn(t, name, own);
      expect(claimed.map((ref) => ref.id)).toEqual([child]);
      const confirmed = await json(
        t.call('POST', `/v1/nodes/${name}/confirm`, { token: node, body: { job_ids: [String(child)] } }),
        200,
      );
      expect(confirmed.jobs).toEqual([]);
      expect(await outcome(String(child))).toBe('never');
    });

    it('"," needs every condition; "?" one; a doomed "?" needs every one doomed', async () => {
      const [a, b] = [await parent(), await parent()];
      const all = String((await submit({ dependency: `afterok:${a},afterok:${b}` })).id);
      const any = String((await submit({ dependency: `afterok:${a}?afterok:${b}` })).id);
      const both = String((await submit({ dependency: `afterok:${a}:${b}` })).id);
      await runAndEnd(a, 'COMPLETED');
      expect(await outcome(all)).toBe('waiting');
      expect(await outcome(both)).toBe('waiting');
      expect(await outcome(any)).toBe('released');
      await runAndEnd(b, 'COMPLETED');
      expect(await outcome(all)).toBe('released');
      expect(await outcome(both)).toBe('released');

      const [c, d] = [await parent(), await parent()];
      const anyDoomed = String((await submit({ dependency: `afterok:${c}?afterok:${d}` })).id);
      await runAndEnd(c, 'FAILED');
      expect(await outcome(anyDoomed)).toBe('waiting');
      await runAndEnd(d, 'FAILED');
      expect(await outcome(anyDoomed)).toBe('never');
    });

    it('kill_on_invalid_dep false keeps a never satisfiable job PENDING with DependencyNeverSatisfied', async () => {
      const p = await parent();
      const kept = String((await submit({ dependency: `afterok:${p}`, kill_on_invalid_dep: false })).id);
      await runAndEnd(p, 'FAILED');
      const job = await get(kept);
      expect(job).toMatchObject({ state: 'PENDING', reason: 'DependencyNeverSatisfied' });
      expect(await t.queue.missing([Number(kept)])).toEqual([Number(kept)]);
      expect((await lastEvent(kept)).reason).toBe('DependencyNeverSatisfied');
    });

    it('cascades: a job cancelled as never satisfiable dooms its own afterok dependents, and releases afterany ones', async () => {
      const p = await parent();
      const child = String((await submit({ dependency: `afterok:${p}` })).id);
      const grandchild = String((await submit({ dependency: `afterok:${child}` })).id);
      const sibling = String((await submit({ dependency: `afterany:${child}` })).id);
      await runAndEnd(p, 'FAILED');
      expect(await outcome(child)).toBe('never');
      expect(await outcome(grandchild)).toBe('never');
      expect(await outcome(sibling)).toBe('released');
    });

    it("refuses an unknown parent, another account's, a bad list and a +time delay, naming job.dependency", async () => {
      const theirs = await parent();
      const user = await t.token('user', 'chemistry');
      const cases: [string, string | undefined][] = [
        ['afterok:999999999', undefined],
        [`afterok:${theirs}`, user],
        ['afterok', undefined],
        ['afterok:1,afterany:2?afterok:3', undefined],
        [`after:${theirs}+5`, undefined],
        ['before:1', undefined],
      ];
      for (const [dependency, token] of cases) {
        const answer = await t.call('POST', '/v1/jobs', {
          token,
          body: {
            job: smallJob(PARTITION, { dependency, ...(token ? { account: 'chemistry' } : {}) }),
            script: '#!/bin/bash\ntrue',
          },
        });
        const problem = await answer.json();
        expect(answer.status, dependency).toBe(422);
        expect(JSON.stringify(problem.errors), dependency).toContain('job.dependency');
      }
      // The other account's job is as unknown as a missing one: the answer says no more of it.
      const own = await t.call('POST', '/v1/jobs', {
        token: user,
        body: {
          job: smallJob(PARTITION, { dependency: `afterok:${theirs}`, account: 'chemistry' }),
          script: '#!/bin/bash\ntrue',
        },
      });
      expect((await own.json()).errors[0].message).toContain(`no job ${theirs} in account "chemistry"`);
      // Set by a directive, the refusal names its line, as a directive's other refusals do.
      const directive = await t.call('POST', '/v1/jobs', {
        body: { job: smallJob(PARTITION), script: '#!/bin/bash\n#SBATCH --dependency=afterok:999999999\ntrue' },
      });
      expect(directive.status).toBe(422);
      expect((await directive.json()).errors[0]).toMatchObject({
        field: 'job.dependency',
        message: expect.stringMatching(
          /no job 999999999.*\(set by the script's line 2: --dependency=afterok:999999999\)$/,
        ),
      });
    });

    it('GET shows the remaining conditions as squeue %E, and the reason detail names what each waits for', async () => {
      const [a, b] = [await parent(), await parent()];
      const child = String((await submit({ dependency: `afterok:${a},afterany:${b}`, kill_on_invalid_dep: false })).id);
      await moveJob(t.database.db, b, 'RUNNING');
      expect(await get(child)).toMatchObject({
        reason: 'Dependency',
        dependency: `afterok:${a}(unfulfilled),afterany:${b}(unfulfilled)`,
        reason_detail: `waits for afterok:${a} (PENDING), afterany:${b} (RUNNING)`,
      });
      await moveJob(t.database.db, b, 'COMPLETED');
      expect((await get(child)).dependency).toBe(`afterok:${a}(unfulfilled)`);
      await runAndEnd(a, 'FAILED');
      expect(await get(child)).toMatchObject({
        reason: 'DependencyNeverSatisfied',
        dependency: `afterok:${a}(failed)`,
        reason_detail: `a dependency of it can never be satisfied: afterok:${a} (never satisfied: FAILED)`,
      });
      const [c] = [await parent()];
      const released = String((await submit({ dependency: `afterany:${c}` })).id);
      await runAndEnd(c, 'COMPLETED');
      expect((await get(released)).dependency).toBeNull();
      // Cancelled as never satisfiable, it still shows why; one that ran shows none, as squeue's %E.
      const doomed = String((await submit({ dependency: `afterok:${a}` })).id);
      expect(await get(doomed)).toMatchObject({ state: 'CANCELLED', dependency: `afterok:${a}(failed)` });
      const [d, e] = [await parent(), await parent()];
      const ran = String((await submit({ dependency: `afterok:${d}?afterok:${e}` })).id);
      await runAndEnd(d, 'COMPLETED');
      await moveJob(t.database.db, ran, 'RUNNING');
      expect((await get(ran)).dependency).toBeNull();
    });

    it("GET shows a held job's dependency as its parents stand, though its settle waits for the release", async () => {
      const [a, b] = [await parent(), await parent()];
      const child = String((await submit({ dependency: `afterok:${a},afterok:${b}`, hold: true })).id);
      await runAndEnd(a, 'COMPLETED');
      await runAndEnd(b, 'FAILED');
      expect(await get(child)).toMatchObject({ reason: 'JobHeldUser', dependency: `afterok:${b}(failed)` });
    });

    it('aftercorr: each array task after the parent array task of its index COMPLETED; an array id stands for all its tasks', async () => {
      // The array's tasks made directly (migration 0022's columns), as the array submit makes them.
      const asTasks = async (ids: string[]) => {
        for (const [index, id] of ids.entries()) {
          await t.database.db
            .update(jobs)
            .set({ arrayJobId: Number(ids[0]), arrayTaskId: index })
            .where(eq(jobs.id, Number(id)));
        }
      };
      const tasks = [await parent(), await parent()];
      await asTasks(tasks);
      const array = tasks[0]!;
      const children = [
        String((await submit({ dependency: `aftercorr:${array}` })).id),
        String((await submit({ dependency: `aftercorr:${array}` })).id),
      ];
      await asTasks(children);
      const whole = String((await submit({ dependency: `afterok:${array}` })).id);
      const any = String((await submit({ dependency: `afterany:${array}` })).id);
      await runAndEnd(tasks[0]!, 'COMPLETED');
      expect(await outcome(children[0]!)).toBe('released');
      expect(await outcome(children[1]!)).toBe('waiting');
      expect(await outcome(whole)).toBe('waiting');
      expect(await outcome(any)).toBe('waiting');
      await runAndEnd(tasks[1]!, 'FAILED');
      expect(await outcome(children[1]!)).toBe('never');
      expect(await outcome(whole)).toBe('never');
      expect(await outcome(any)).toBe('released');
    });

    it('marks what a job depends on (every task of a parent array), the mark its start and end look for dependents by', async () => {
      const marked = async (id: string) =>
        (
          await t.database.db
            .select({ mark: jobs.hasDependents })
            .from(jobs)
            .where(eq(jobs.id, Number(id)))
        )[0]!.mark;
      const [lone, single] = [await parent(), await parent()];
      const tasks = [await parent(), await parent()];
      for (const [index, id] of tasks.entries()) {
        await t.database.db
          .update(jobs)
          .set({ arrayJobId: Number(tasks[0]), arrayTaskId: index })
          .where(eq(jobs.id, Number(id)));
      }
      const child = String((await submit({ dependency: `afterok:${single}?afterany:${tasks[0]}` })).id);
      expect([await marked(lone), await marked(single), await marked(tasks[0]!), await marked(tasks[1]!)]).toEqual([
        false,
        true,
        true,
        true,
      ]);
      expect(await marked(child)).toBe(false);
      // Unmarked, a parent's end looks for no dependents: the child waits, for the reconciler's safety net.
      await t.database.db
        .update(jobs)
        .set({ hasDependents: false })
        .where(eq(jobs.id, Number(single)));
      await runAndEnd(single, 'COMPLETED');
      expect(await outcome(child)).toBe('waiting');
      await new Reconciler(t.queue, { sweepAfterMs: 0 }).run(t.database.db);
      expect(await outcome(child)).toBe('released');
    });

    it('names one array task as 123_7: waits for that task alone; an unknown task or index is refused', async () => {
      const tasks = [await parent(), await parent()];
      for (const [index, id] of tasks.entries()) {
        await t.database.db
          .update(jobs)
          .set({ arrayJobId: Number(tasks[0]), arrayTaskId: index })
          .where(eq(jobs.id, Number(id)));
      }
      const child = String((await submit({ dependency: `afterok:${tasks[0]}_1` })).id);
      await runAndEnd(tasks[0]!, 'FAILED');
      expect(await outcome(child)).toBe('waiting');
      await runAndEnd(tasks[1]!, 'COMPLETED');
      expect(await outcome(child)).toBe('released');
      const refused = await json(
        t.call('POST', '/v1/jobs', {
          body: { job: smallJob(PARTITION, { dependency: `afterok:${tasks[0]}_9` }), script: '#!/bin/bash\ntrue' },
        }),
        422,
      );
      expect(refused.errors[0]).toMatchObject({ field: 'job.dependency', message: expect.stringContaining('_9') });
    });

    it('the reconciler settles a waiting job whose parent ended without settling it (a crash between the two)', async () => {
      const p = await parent();
      const child = Number((await submit({ dependency: `afterok:${p}` })).id);
      await runAndEnd(p, 'COMPLETED');
      // As if the process had died after the parent's end and before its settle.
      await t.queue.remove([child]);
      await t.database.db.update(jobs).set({ reason: 'Dependency', enqueued: true }).where(eq(jobs.id, child));
      await t.database.db
        .update(jobDependencies)
        .set({ satisfied: null })
        .where(and(eq(jobDependencies.jobId, child)));
      expect(await outcome(String(child))).toBe('waiting');
      const run = await new Reconciler(t.queue, { sweepAfterMs: 0 }).run(t.database.db);
      expect(run.dependents.released).toBeGreaterThanOrEqual(1);
      expect(await outcome(String(child))).toBe('released');
      expect(await t.queue.missing([child])).toEqual([]);
    });

    it('makes no cycle: a job cannot name itself or a later job, and the table refuses a parent not older than its child', async () => {
      const last = Number(await parent());
      // The id the next job gets (or a later one): not a job yet, so refused as unknown, and nothing is made.
      const answer = await t.call('POST', '/v1/jobs', {
        body: { job: smallJob(PARTITION, { dependency: `afterany:${last + 1}` }), script: '#!/bin/bash\ntrue' },
      });
      expect(answer.status).toBe(422);
      const [newest] = await t.database.db.select({ id: jobs.id }).from(jobs).orderBy(desc(jobs.id)).limit(1);
      expect(newest!.id).toBe(last);
      for (const parentId of [last, last + 1]) {
        await expect(
          t.database.db
            .insert(jobDependencies)
            .values({ jobId: last, position: 9, kind: 'afterany', parentId, anyOf: false, killOnInvalid: true }),
        ).rejects.toThrow();
      }
    });

    it('a dependent submit retried with its Idempotency-Key is one job', async () => {
      const p = await parent();
      const body = { job: smallJob(PARTITION, { dependency: `afterok:${p}` }), script: '#!/bin/bash\ntrue' };
      const send = () =>
        t.app.request('/v1/jobs', {
          method: 'POST',
          headers: {
            Authorization: `Bearer ${ADMIN_TOKEN}`,
            'Content-Type': 'application/json',
            'Idempotency-Key': `dep-${p}`,
          },
          body: JSON.stringify(body),
        });
      const [first, second] = await Promise.all([send(), send()]);
      const [a, b] = [await first.json(), await second.json()];
      expect([first.status, second.status]).toEqual([201, 201]);
      expect(a.id).toBe(b.id);
      const rows = await t.database.db.select({ id: jobs.id }).from(jobs).where(eq(jobs.submittedBy, a.submitted_by));
      expect(rows.filter((row) => String(row.id) === a.id)).toHaveLength(1);
      await runAndEnd(p, 'COMPLETED');
      expect(await outcome(a.id)).toBe('released');
    });
  });
}
