/**
 * Job arrays (issue 20, item 3): the --array parser and its refusals; one submit makes every task (each a job with its
 * own id, array_job_id the first's), shown and addressed as Slurm does (123_7); cancel of one task or the whole
 * array; a %N cap that keeps at most N tasks in the queue or running and releases the next as each ends; an array
 * retried with its Idempotency-Key is one array. On every queue (refs pushed or written with the tasks).
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Reconciler } from '../api/reconciler.js';
import { queryRows } from '../shared/db/query-rows.js';
import { arrayShape, ArraySpecError, formatIndexes, parseArraySpec } from '../shared/job/array-spec.js';
import { expandOutputPath } from '../shared/job/output-path.js';
import { beat, json, ROOT_ALLOWING, smallJob } from './helpers/pending-cluster.js';
import type { TestApp } from './helpers/test-app.js';
import { appsOnQueues } from './helpers/test-app-queues.js';

describe('the --array parser', () => {
  it.each([
    ['0-3', [0, 1, 2, 3], null],
    ['1-7:2', [1, 3, 5, 7], null],
    ['1,3,5-9', [1, 3, 5, 6, 7, 8, 9], null],
    ['0-999%50', Array.from({ length: 1000 }, (_, i) => i), 50],
    ['5,1,5,2-3', [1, 2, 3, 5], null],
    ['7', [7], null],
    ['0-10000', Array.from({ length: 10_001 }, (_, i) => i), null],
  ])('reads %s', (text, indexes, limit) => {
    expect(parseArraySpec(text)).toEqual({ indexes, limit });
  });

  it.each([
    '',
    '%4',
    '3-1',
    '1-7:0',
    '1-7:',
    'a-3',
    '-3',
    '1:2',
    '0-10001',
    '1,,2',
    '1-2-3',
    '0-9%0',
    '0-9%x',
    '1-7:2:3',
  ])('refuses "%s"', (text) => {
    expect(() => parseArraySpec(text)).toThrow(ArraySpecError);
  });

  it('formats the indexes as squeue shows them, and gives the shape of SLURM_ARRAY_TASK_*', () => {
    expect(formatIndexes([8, 9, 10, 12], 50)).toBe('8-10,12%50');
    expect(formatIndexes([3])).toBe('3');
    expect(arrayShape([1, 3, 5, 7])).toEqual({ count: 4, min: 1, max: 7, step: 2 });
    expect(arrayShape([1, 2, 5])).toEqual({ count: 3, min: 1, max: 5, step: 1 });
    expect(arrayShape([4])).toEqual({ count: 1, min: 4, max: 4, step: 1 });
  });

  it('expands %A and %a (zero-padded as %j), and %A alone for a job in no array', () => {
    const task = { id: '130', name: 'x', user: null, node: null, arrayJobId: '123', arrayTaskId: '7' };
    expect(expandOutputPath('out-%A_%a-%3a-%j.log', task)).toBe('out-123_7-007-130.log');
    expect(expandOutputPath('out-%A-%a.log', { id: '5', name: 'x', user: null, node: null })).toBe('out-5-%a.log');
  });
});

for (const setup of await appsOnQueues()) {
  describe.skipIf(setup.skip)(`job arrays on ${setup.name}`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await setup.open();
      await beat(t, 'n-arr', ['p-arr'], { cpus: 64, memory_mb: 640_000 });
    });
    afterAll(() => t?.close());

    const submit = async (
      job: Record<string, unknown>,
      script = '#!/bin/bash\ntrue',
      headers: Record<string, string> = {},
    ) =>
      t.app.request('/v1/jobs', {
        method: 'POST',
        headers: {
          Authorization: 'Bearer test-admin-token-0123456789abcdef0123456789',
          'Content-Type': 'application/json',
          ...headers,
        },
        body: JSON.stringify({ job: smallJob('p-arr', job), script }),
      });
    const ref = (row: Record<string, unknown>) => ({
      id: Number(row.id),
      partition: 'p-arr',
      cpus: 1,
      memoryMb: 1024,
      priority: 0,
      exclusive: false,
      user: null,
      timeLimitSeconds: 3600,
    });
    const tasks = async (arrayJobId: number) =>
      queryRows(
        t.database.db,
        sql`SELECT id, array_task_id, state, reason FROM jobs WHERE array_job_id = ${arrayJobId} ORDER BY id`,
      );
    const claimAll = async () =>
      (
        await t.queue.claim({
          node: 'n-arr',
          partitions: ['p-arr'],
          cpus: 64,
          memoryMb: 640_000,
          freeCpus: 64,
          freeMemoryMb: 640_000,
          runsAs: ROOT_ALLOWING,
        })
      ).map((ref) => ref.id);
    const confirm = async (ids: number[]) =>
      (
        (await json(t.call('POST', '/v1/nodes/n-arr/confirm', { body: { job_ids: ids.map(String) } }), 200)) as {
          jobs: { id: string; environment: Record<string, string>; standard_output: string }[];
        }
      ).jobs;
    const finish = async (id: number) =>
      json(
        t.call('POST', '/v1/nodes/n-arr/events', {
          body: {
            events: [
              { kind: 'started', job_id: String(id), attempt: 1, pid: 4242, cpu_ids: [0] },
              {
                kind: 'finished',
                job_id: String(id),
                attempt: 1,
                state: 'COMPLETED',
                exit_status: 0,
                exit_signal: null,
              },
            ],
          },
        }),
        200,
      );

    it('makes a 10,000-task array in one submit: each task a job with its own id, in the queue', async () => {
      const first = await json(submit({ array: '0-9999' }), 201);
      expect(first).toMatchObject({ array_task_id: 0, array: '0-9999', display_id: `${first.id}_0` });
      expect(first.array_job_id).toBe(first.id);
      const rows = await tasks(Number(first.id));
      expect(rows).toHaveLength(10_000);
      expect(rows.map((row) => row.array_task_id)).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
      expect(new Set(rows.map((row) => row.id)).size).toBe(10_000);
      expect(rows.every((row) => row.state === 'PENDING' && row.reason === 'Priority')).toBe(true);
      expect(await t.queue.missing(rows.map((row) => Number(row.id)))).toEqual([]);
      const events = await queryRows(
        t.database.db,
        sql`SELECT count(*) AS n FROM job_events e JOIN jobs j ON j.id = e.job_id WHERE j.array_job_id = ${Number(first.id)}`,
      );
      expect(Number(events[0]!.n)).toBe(10_000);
      // Out of the way of the tests below.
      expect((await json(t.call('POST', `/v1/jobs/${first.id}/cancel`), 200)).array_tasks).toEqual({
        cancelled: 10_000,
        cancel_requested: 0,
      });
    });

    it('reads #SBATCH --array, and refuses a bad one naming job.array', async () => {
      const job = await json(submit({}, '#!/bin/bash\n#SBATCH --array=1-7:2\ntrue'), 201);
      expect(job).toMatchObject({ array: '1,3,5,7', array_task_id: 1 });
      expect((await tasks(Number(job.id))).map((row) => row.array_task_id)).toEqual([1, 3, 5, 7]);
      await json(t.call('POST', `/v1/jobs/${job.id}/cancel`), 200);

      const bad = await json(submit({ array: '3-1' }), 422);
      expect(JSON.stringify(bad.errors)).toContain('job.array');
      const directive = await json(submit({}, '#!/bin/bash\n#SBATCH -a 0-99999\ntrue'), 422);
      expect(JSON.stringify(directive)).toContain('MaxArraySize');
    });

    it('shows and addresses a task as 123_7, the plain id still working; cancels one task or the whole array', async () => {
      const first = await json(submit({ array: '0-9', standard_output: 'o-%A_%a.log' }), 201);
      const arrayId = Number(first.id);
      const rows = await tasks(arrayId);
      const seventh = rows.find((row) => row.array_task_id === 7)!;
      const byTaskId = await json(t.call('GET', `/v1/jobs/${arrayId}_7`), 200);
      expect(byTaskId).toMatchObject({ id: String(seventh.id), display_id: `${arrayId}_7`, array_task_id: 7 });
      expect(byTaskId.standard_output).toBe(`o-${arrayId}_7.log`);
      expect((await json(t.call('GET', `/v1/jobs/${seventh.id}`), 200)).display_id).toBe(`${arrayId}_7`);
      await json(t.call('GET', `/v1/jobs/${arrayId}_10`), 404);

      // A task started, with its array's variables and paths.
      const ids = await claimAll();
      expect(ids).toHaveLength(10);
      const started = await confirm([Number(rows[2]!.id)]);
      expect(started[0]!.environment).toMatchObject({
        SLURM_ARRAY_JOB_ID: String(arrayId),
        SLURM_ARRAY_TASK_ID: '2',
        SLURM_ARRAY_TASK_COUNT: '10',
        SLURM_ARRAY_TASK_MIN: '0',
        SLURM_ARRAY_TASK_MAX: '9',
        SLURM_ARRAY_TASK_STEP: '1',
      });
      expect(started[0]!.standard_output).toBe(`o-${arrayId}_2.log`);
      await t.queue.release(
        'n-arr',
        ids.filter((id) => id !== Number(rows[2]!.id)),
      );

      const one = await json(t.call('POST', `/v1/jobs/${arrayId}_7/cancel`), 200);
      expect(one).toMatchObject({ effect: 'cancelled', array_tasks: null, job: { id: String(seventh.id) } });
      const all = await json(t.call('POST', `/v1/jobs/${arrayId}/cancel`), 200);
      expect(all).toMatchObject({ effect: 'cancelled', array_tasks: { cancelled: 8, cancel_requested: 1 } });
      const states = (await tasks(arrayId)).map((row) => row.state);
      expect(states.filter((state) => state === 'CANCELLED')).toHaveLength(9);
      expect(states.filter((state) => state === 'RUNNING')).toHaveLength(1);
      expect((await json(t.call('POST', `/v1/jobs/${arrayId}/cancel`), 200)).effect).toBe('none');
      await finish(Number(rows[2]!.id));
    });

    it('keeps a %N cap: at most N tasks queued or running, the next released as each ends, each run once', async () => {
      const first = await json(submit({ array: '0-9%3' }), 201);
      const arrayId = Number(first.id);
      const ran: number[] = [];
      for (let round = 0; round < 20 && ran.length < 10; round++) {
        const claimed = await claimAll();
        // The node has room for all ten: only the cap holds them.
        expect(claimed.length).toBeLessThanOrEqual(3);
        const started = (await confirm(claimed)).map((job) => Number(job.id));
        const running = (await tasks(arrayId)).filter((row) => row.state === 'RUNNING');
        expect(running.length).toBeLessThanOrEqual(3);
        const held = (await tasks(arrayId)).filter((row) => row.reason === 'JobArrayTaskLimit');
        expect(await t.queue.missing(held.map((row) => Number(row.id)))).toEqual(held.map((row) => Number(row.id)));
        for (const id of started) {
          ran.push(id);
          await finish(id);
        }
      }
      const rows = await tasks(arrayId);
      expect([...ran].sort((a, b) => a - b)).toEqual(rows.map((row) => Number(row.id)));
      expect(rows.every((row) => row.state === 'COMPLETED')).toBe(true);
    });

    it('holds, releases and updates one task by its 123_7 id', async () => {
      const first = Number((await json(submit({ array: '0-2' }), 201)).id);
      const held = await json(t.call('POST', `/v1/jobs/${first}_1/hold`), 200);
      expect(held).toMatchObject({ effect: 'held', job: { array_task_id: 1, reason: 'JobHeldAdmin' } });
      const updated = await json(t.call('PATCH', `/v1/jobs/${first}_2`, { body: { name: 'renamed' } }), 200);
      expect(updated.job).toMatchObject({ array_task_id: 2, name: 'renamed' });
      // The array's own id is every PENDING task's (job-arrays-wide.test.ts): task 1, held already, is unchanged.
      const whole = await json(t.call('POST', `/v1/jobs/${first}/hold`), 200);
      expect(whole.array_tasks).toEqual({ changed: 2, unchanged: 1 });
      expect((await json(t.call('POST', `/v1/jobs/${first}_1/release`), 200)).effect).toBe('released');
      await t.call('POST', `/v1/jobs/${first}/cancel`);
      // A task no longer PENDING is named as it was asked for (squeue's 123_1), not by its own job id.
      const ended = await json(t.call('POST', `/v1/jobs/${first}_1/hold`), 409);
      expect(ended.detail).toBe(`Job ${first}_1 is CANCELLED, not PENDING: only a PENDING job can be held`);
      expect((await json(t.call('GET', `/v1/jobs/${first}_1/why`), 409)).detail).toMatch(`Job ${first}_1 is CANCELLED`);
    });

    it('puts every task of an array submitted held or with a dependency in that wait, none queued; the wait ends for all', async () => {
      const held = Number((await json(submit({ array: '0-4', hold: true }), 201)).id);
      const heldTasks = await tasks(held);
      expect(heldTasks.map((row) => row.reason)).toEqual(Array(5).fill('JobHeldUser'));
      const heldIds = heldTasks.map((row) => Number(row.id));
      expect(await t.queue.missing(heldIds)).toEqual(heldIds);

      const parent = Number((await json(submit({}), 201)).id);
      const dependent = Number((await json(submit({ array: '0-4%2', dependency: `afterok:${parent}` }), 201)).id);
      const waiting = await tasks(dependent);
      expect(waiting.map((row) => row.reason)).toEqual(Array(5).fill('Dependency'));
      const waitingIds = waiting.map((row) => Number(row.id));
      expect(await t.queue.missing(waitingIds)).toEqual(waitingIds);
      // The parent runs and completes: every task's dependency holds, and the confirm still keeps the cap.
      expect(await claimAll()).toEqual([parent]);
      await confirm([parent]);
      await finish(parent);
      const released = await tasks(dependent);
      expect(released.every((row) => row.reason !== 'Dependency')).toBe(true);
      const claimed = await claimAll();
      expect(claimed.every((id) => waitingIds.includes(id))).toBe(true);
      const started = (await confirm(claimed)).map((job) => Number(job.id));
      expect(started).toHaveLength(2);
      for (const id of started) await finish(id);
      await t.call('POST', `/v1/jobs/${dependent}/cancel`);
      await t.call('POST', `/v1/jobs/${held}/cancel`);
    });

    it('refuses at the confirm a task over its cap, however it was claimed; an end releases the next, the reconciler too', async () => {
      const first = await json(submit({ array: '0-3%1' }), 201);
      const arrayId = Number(first.id);
      const rows = await tasks(arrayId);
      const id = (n: number) => Number(rows[n]!.id);
      expect(rows.map((row) => row.reason)).toEqual([
        'Priority',
        'JobArrayTaskLimit',
        'JobArrayTaskLimit',
        'JobArrayTaskLimit',
      ]);
      // A ref of a held task beside the first (as a stale one would be): both claimed, the confirm starts one.
      await queryRows(t.database.db, sql`UPDATE jobs SET reason = 'Priority' WHERE id = ${id(1)}`);
      await t.queue.enqueue([{ ...ref(rows[1]!), id: id(1) }]);
      expect((await claimAll()).sort((a, b) => a - b)).toEqual([id(0), id(1)]);
      const started = await confirm([id(0), id(1)]);
      expect(started.map((job) => Number(job.id))).toEqual([id(0)]);
      expect((await tasks(arrayId))[1]!.reason).toBe('JobArrayTaskLimit');
      expect(await t.queue.missing([id(1)])).toEqual([id(1)]);

      // The run's end releases the next held task, lowest index first, and pushes its ref.
      await finish(id(0));
      expect((await tasks(arrayId)).map((row) => row.reason)).toEqual([
        null,
        'Priority',
        'JobArrayTaskLimit',
        'JobArrayTaskLimit',
      ]);
      expect(await t.queue.missing([id(1)])).toEqual([]);
      // A PENDING task's cancel releases the next one too, and pushes its ref.
      await json(t.call('POST', `/v1/jobs/${arrayId}_1/cancel`), 200);
      expect((await tasks(arrayId))[2]!.reason).toBe('Priority');
      expect(await t.queue.missing([id(2)])).toEqual([]);
      await t.queue.remove([id(2)]);

      // A release lost (as a confirm racing an end may leave one): the reconciler's safety net makes it.
      await queryRows(t.database.db, sql`UPDATE jobs SET reason = 'JobArrayTaskLimit' WHERE id = ${id(2)}`);
      const run = await new Reconciler(t.queue, { sweepAfterMs: 0 }).run(t.database.db);
      expect(run.arrayTasksReleased).toBe(1);
      expect((await tasks(arrayId)).map((row) => row.reason)).toEqual([null, null, 'Priority', 'JobArrayTaskLimit']);
      expect(await t.queue.missing([id(2)])).toEqual([]);
      await json(t.call('POST', `/v1/jobs/${arrayId}/cancel`), 200);
    });

    it("lists an array's PENDING tasks as one row, as squeue does, and every task with expand_arrays", async () => {
      const first = await json(submit({ array: '0-5%2', name: 'collapse' }), 201);
      const arrayId = Number(first.id);
      const rows = await tasks(arrayId);
      const claimed = await claimAll();
      expect(claimed.sort((a, b) => a - b)).toEqual([Number(rows[0]!.id), Number(rows[1]!.id)]);
      await confirm([Number(rows[0]!.id)]);
      await t.queue.release('n-arr', [Number(rows[1]!.id)]);
      const listed = async (query: string) =>
        (await json(t.call('GET', `/v1/jobs?name=collapse${query}`), 200)).jobs.map(
          (job: { display_id: string }) => job.display_id,
        );
      expect(await listed('')).toEqual([`${arrayId}_[1-5%2]`, `${arrayId}_0`]);
      expect(await listed('&order=queue')).toEqual([`${arrayId}_0`, `${arrayId}_[1-5%2]`]);
      expect(await listed('&expand_arrays=true')).toEqual([5, 4, 3, 2, 1, 0].map((n) => `${arrayId}_${n}`));
      expect(await listed('&limit=1')).toHaveLength(1);
      await json(t.call('POST', `/v1/jobs/${arrayId}/cancel`), 200);
      await finish(Number(rows[0]!.id));
    });

    it("counts each task against the account's pending and submit-rate limits, refusing a whole array over one", async () => {
      const limits = await t.call('PUT', '/v1/accounts/arrays', { body: { max_pending_jobs: 5 } });
      expect(limits.status).toBe(200);
      const over = await json(submit({ account: 'arrays', array: '0-5' }), 429);
      expect(over.code).toBe('max_pending_jobs');
      expect(over.detail).toContain('this array would add 6');
      const fits = await json(submit({ account: 'arrays', array: '0-4' }), 201);
      expect((await json(submit({ account: 'arrays' }), 429)).code).toBe('max_pending_jobs');
      await json(t.call('POST', `/v1/jobs/${fits.id}/cancel`), 200);
      await t.call('PUT', '/v1/accounts/arrays', { body: { max_submits_per_minute: 7 } });
      expect((await json(submit({ account: 'arrays', array: '0-2' }), 429)).code).toBe('max_submits_per_minute');
      await t.call('DELETE', '/v1/accounts/arrays');
    });

    it('is one array when retried with its Idempotency-Key', async () => {
      const headers = { 'Idempotency-Key': `array-${setup.name}` };
      const a = await json(submit({ array: '0-99%5' }, '#!/bin/bash\ntrue', headers), 201);
      const b = await json(submit({ array: '0-99%5' }, '#!/bin/bash\ntrue', headers), 201);
      expect(b.id).toBe(a.id);
      const count = await queryRows(
        t.database.db,
        sql`SELECT count(*) AS n FROM jobs WHERE array_job_id = ${Number(a.id)} OR (name = 'relax' AND array_indexes = '0-99' AND submit_time > now() - interval '1 minute')`,
      );
      expect(Number(count[0]!.n)).toBe(100);
      await json(t.call('POST', `/v1/jobs/${a.id}/cancel`), 200);
    });
  });
}
