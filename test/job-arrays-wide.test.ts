/**
 * A job array's own id acting on the whole array (issue 20), as scontrol(1) and scancel(1) take an ArrayJobId: hold,
 * release and update act on every task still PENDING, each changed task with its own event, the others left alone;
 * the original cancel path cancels every unfinished task as /v1's does; /v1/stats counts an array's PENDING tasks as
 * one entry when asked to collapse them. On every queue.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../shared/db/query-rows.js';
import { beat, json, ROOT_ALLOWING, smallJob } from './helpers/pending-cluster.js';
import type { TestApp } from './helpers/test-app.js';
import { appsOnQueues } from './helpers/test-app-queues.js';

const script = '#!/bin/bash\ntrue';

for (const setup of await appsOnQueues()) {
  describe.skipIf(setup.skip)(`a job array's own id on ${setup.name}`, () => {
    let t: TestApp;
    let alice: string;
    let bob: string;
    beforeAll(async () => {
      t = await setup.open();
      alice = await t.token('user', 'physics', 'alice');
      bob = await t.token('user', 'chemistry', 'bob');
      await beat(t, 'n-aw', ['p-aw'], { cpus: 64, memory_mb: 640_000 });
    });
    afterAll(() => t?.close());

    const submit = async (partition: string, extra: Record<string, unknown>, token = alice) =>
      Number(
        (await json(t.call('POST', '/v1/jobs', { body: { job: smallJob(partition, extra), script }, token }), 201)).id,
      );
    const tasks = async (arrayJobId: number) =>
      (
        await queryRows(
          t.database.db,
          sql`SELECT id, state, reason, time_limit_seconds FROM jobs WHERE array_job_id = ${arrayJobId} ORDER BY id`,
        )
      ).map((row) => ({
        id: Number(row.id),
        state: row.state as string,
        reason: row.reason as string | null,
        timeLimit: row.time_limit_seconds as number | null,
      }));
    const events = async (arrayJobId: number, kind: string) =>
      queryRows(
        t.database.db,
        sql`SELECT e.job_id, e.actor, e.changes FROM job_events e JOIN jobs j ON j.id = e.job_id
            WHERE j.array_job_id = ${arrayJobId} AND e.kind = ${kind} ORDER BY e.job_id`,
      );
    const claim = async (partition: string) =>
      (
        await t.queue.claim({
          node: 'n-aw',
          partitions: [partition],
          cpus: 64,
          memoryMb: 640_000,
          freeCpus: 64,
          freeMemoryMb: 640_000,
          runsAs: ROOT_ALLOWING,
        })
      ).map((ref) => ref.id);
    const confirm = async (ids: number[]) =>
      (
        (await json(t.call('POST', '/v1/nodes/n-aw/confirm', { body: { job_ids: ids.map(String) } }), 200)) as {
          jobs: { id: string }[];
        }
      ).jobs.map((job) => Number(job.id));

    it('holds and releases a 1,000-task array by its id: every PENDING task, each with its event, a running one left alone', async () => {
      await beat(t, 'n-aw1', ['p-aw1'], { cpus: 64, memory_mb: 640_000 });
      const first = await submit('p-aw1', { array: '0-999' });
      const [running] = await claim('p-aw1');
      expect(await confirm([running!])).toEqual([running]);
      const pendingIds = (await tasks(first)).filter((task) => task.id !== running).map((task) => task.id);
      expect(pendingIds).toHaveLength(999);

      // Another account's array is as absent as a missing one.
      await json(t.call('POST', `/v1/jobs/${first}/hold`, { token: bob }), 404);
      const held = await json(t.call('POST', `/v1/jobs/${first}/hold`), 200);
      expect(held).toEqual({
        array_job_id: String(first),
        effect: 'held',
        array_tasks: { changed: 999, unchanged: 0 },
      });
      const after = await tasks(first);
      expect(after.find((task) => task.id === running)).toMatchObject({ state: 'RUNNING', reason: null });
      const pending = after.filter((task) => task.id !== running);
      expect(pending.every((task) => task.state === 'PENDING' && task.reason === 'JobHeldAdmin')).toBe(true);
      expect(await t.queue.missing(pendingIds)).toEqual(pendingIds);
      const holds = await events(first, 'hold');
      expect(holds.map((event) => Number(event.job_id))).toEqual(pendingIds);
      expect(holds[0]).toMatchObject({
        actor: 'admin:bootstrap',
        changes: { reason: { from: 'Priority', to: 'JobHeldAdmin' } },
      });
      // Asked twice: nothing more; no task is claimed meanwhile.
      expect(await json(t.call('POST', `/v1/jobs/${first}/hold`), 200)).toMatchObject({
        effect: 'none',
        array_tasks: { changed: 0, unchanged: 999 },
      });
      expect(await claim('p-aw1')).toEqual([]);

      // An admin's hold is not its user's to release: refused, nothing released.
      const refused = await json(t.call('POST', `/v1/jobs/${first}/release`, { token: alice }), 403);
      expect(refused.detail).toMatch(/999 task\(s\) of array \d+ are held by an admin/);
      expect((await tasks(first)).filter((task) => task.reason === 'JobHeldAdmin')).toHaveLength(999);

      const released = await json(t.call('POST', `/v1/jobs/${first}/release`), 200);
      expect(released).toEqual({
        array_job_id: String(first),
        effect: 'released',
        array_tasks: { changed: 999, unchanged: 0 },
      });
      const back = (await tasks(first)).filter((task) => task.id !== running);
      expect(back.every((task) => task.state === 'PENDING' && task.reason === 'Priority')).toBe(true);
      expect(await t.queue.missing(pendingIds)).toEqual([]);
      expect((await events(first, 'release')).map((event) => Number(event.job_id))).toEqual(pendingIds);
      // Runnable: a node claims them and the confirm starts them.
      const claimed = await claim('p-aw1');
      expect(claimed.length).toBeGreaterThan(0);
      expect((await confirm(claimed)).sort((a, b) => a - b)).toEqual([...claimed].sort((a, b) => a - b));
      await json(t.call('POST', `/v1/jobs/${first}/cancel`), 200);
    });

    it("holds a user's array as its user, keeps each task's wait, and refuses an array with no PENDING task", async () => {
      await beat(t, 'n-aw2', ['p-aw2']);
      const first = await submit('p-aw2', { array: '0-3', begin: 'now+1hour' });
      expect((await tasks(first)).map((task) => task.reason)).toEqual(Array(4).fill('BeginTime'));
      expect((await json(t.call('POST', `/v1/jobs/${first}/hold`, { token: alice }), 200)).effect).toBe('held');
      expect((await tasks(first)).map((task) => task.reason)).toEqual(Array(4).fill('JobHeldUser'));
      // One task's hold by its 123_7 id stays one task's.
      await json(t.call('POST', `/v1/jobs/${first}_0/release`, { token: alice }), 200);
      expect((await tasks(first)).map((task) => task.reason)).toEqual(['BeginTime', ...Array(3).fill('JobHeldUser')]);
      expect(await json(t.call('POST', `/v1/jobs/${first}/release`, { token: alice }), 200)).toMatchObject({
        effect: 'released',
        array_tasks: { changed: 3, unchanged: 1 },
      });
      expect((await tasks(first)).map((task) => task.reason)).toEqual(Array(4).fill('BeginTime'));
      await json(t.call('POST', `/v1/jobs/${first}/cancel`), 200);
      const none = await json(t.call('POST', `/v1/jobs/${first}/hold`, { token: alice }), 409);
      expect(none.detail).toMatch(/only PENDING tasks are held/);
    });

    it("an admin's hold of an array is JobHeldAdmin, its user's hold (user_hold, scontrol uhold) JobHeldUser", async () => {
      await beat(t, 'n-aw7', ['p-aw7']);
      const first = await submit('p-aw7', { array: '0-2' });
      await json(t.call('POST', `/v1/jobs/${first}/hold`), 200);
      expect((await tasks(first)).map((task) => task.reason)).toEqual(Array(3).fill('JobHeldAdmin'));
      await json(t.call('POST', `/v1/jobs/${first}/release`, { token: alice }), 403);
      expect(await json(t.call('POST', `/v1/jobs/${first}/hold`, { body: { user_hold: true } }), 200)).toMatchObject({
        effect: 'held',
        array_tasks: { changed: 3, unchanged: 0 },
      });
      expect((await tasks(first)).map((task) => task.reason)).toEqual(Array(3).fill('JobHeldUser'));
      expect((await json(t.call('POST', `/v1/jobs/${first}/release`, { token: alice }), 200)).effect).toBe('released');
    });

    it("refuses an array's dependency update by the array's id, naming the field, and changes nothing", async () => {
      await beat(t, 'n-aw8', ['p-aw8']);
      const parent = await submit('p-aw8', {});
      const first = await submit('p-aw8', { array: '0-1' });
      const refused = await json(
        t.call('PATCH', `/v1/jobs/${first}`, { body: { dependency: `afterok:${parent}` }, token: alice }),
        422,
      );
      expect(refused.errors[0].field).toBe('dependency');
      expect((await tasks(first)).map((task) => task.reason)).toEqual(['Priority', 'Priority']);
    });

    it('gives a capped array back to its cap at the release: a task ended during the hold makes room at once', async () => {
      await beat(t, 'n-aw6', ['p-aw6'], { cpus: 64, memory_mb: 640_000 });
      const first = await submit('p-aw6', { array: '0-3%1' });
      expect(await claim('p-aw6')).toEqual([first]);
      expect(await confirm([first])).toEqual([first]);
      expect((await json(t.call('POST', `/v1/jobs/${first}/hold`), 200)).array_tasks.changed).toBe(3);
      await json(
        t.call('POST', '/v1/nodes/n-aw/events', {
          body: {
            events: [
              { kind: 'started', job_id: String(first), attempt: 1, pid: 4242, cpu_ids: [0] },
              {
                kind: 'finished',
                job_id: String(first),
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
      await json(t.call('POST', `/v1/jobs/${first}/release`), 200);
      const [, next, ...capped] = await tasks(first);
      expect(next!.reason).toBe('Priority');
      expect(capped.map((task) => task.reason)).toEqual(['JobArrayTaskLimit', 'JobArrayTaskLimit']);
      expect(await claim('p-aw6')).toEqual([next!.id]);
      await json(t.call('POST', `/v1/jobs/${first}/cancel`), 200);
    });

    it("updates an array's time limit by its id: every PENDING task, its ref in the queue too; a refusal changes none", async () => {
      await beat(t, 'n-aw3', ['p-aw3'], { cpus: 64, memory_mb: 640_000 });
      const first = await submit('p-aw3', { array: '0-9', time_limit: '1:00:00' });
      const [running] = await claim('p-aw3');
      expect(await confirm([running!])).toEqual([running]);
      const raised = await json(
        t.call('PATCH', `/v1/jobs/${first}`, { body: { time_limit: '2:00:00' }, token: alice }),
        422,
      );
      expect(raised.errors.map((error: { field: string }) => error.field)).toEqual(['time_limit']);
      expect((await tasks(first)).every((task) => task.timeLimit === 3600)).toBe(true);
      await json(t.call('PATCH', `/v1/jobs/${first}`, { body: { time_limit: '30:00' }, token: bob }), 404);

      const updated = await json(
        t.call('PATCH', `/v1/jobs/${first}`, { body: { time_limit: '30:00' }, token: alice }),
        200,
      );
      expect(updated).toEqual({ array_job_id: String(first), array_tasks: { changed: 9, unchanged: 0 } });
      const after = await tasks(first);
      expect(after.filter((task) => task.id === running).map((task) => task.timeLimit)).toEqual([3600]);
      const pending = after.filter((task) => task.id !== running);
      expect(pending.map((task) => task.timeLimit)).toEqual(Array(9).fill(1800));
      const updates = await events(first, 'update');
      expect(updates.map((event) => Number(event.job_id))).toEqual(pending.map((task) => task.id));
      expect(updates[0]!.changes).toEqual({ time_limit: { from: 3600, to: 1800 } });
      // The queue's refs carry the new limit (what backfill plans with).
      const refs = await t.queue.claim({
        node: 'n-aw3',
        partitions: ['p-aw3'],
        cpus: 64,
        memoryMb: 640_000,
        freeCpus: 64,
        freeMemoryMb: 640_000,
        runsAs: ROOT_ALLOWING,
      });
      expect(refs.map((ref) => ref.timeLimitSeconds)).toEqual(Array(9).fill(1800));
      await t.queue.release(
        'n-aw3',
        refs.map((ref) => ref.id),
      );
      expect(await json(t.call('PATCH', `/v1/jobs/${first}`, { body: { time_limit: '30:00' } }), 200)).toMatchObject({
        array_tasks: { changed: 0, unchanged: 9 },
      });
      // A begin to come takes every PENDING task out of the queue.
      await json(t.call('PATCH', `/v1/jobs/${first}`, { body: { begin: 'now+1hour' } }), 200);
      expect((await tasks(first)).filter((task) => task.reason === 'BeginTime')).toHaveLength(9);
      expect(await claim('p-aw3')).toEqual([]);
      await json(t.call('POST', `/v1/jobs/${first}/cancel`), 200);
    });

    it('cancels a whole array through the original path, as /v1 does, in its answer shape', async () => {
      await beat(t, 'n-aw4', ['p-aw4'], { cpus: 64, memory_mb: 640_000 });
      const first = await submit('p-aw4', { array: '0-4' });
      const [running] = await claim('p-aw4');
      expect(await confirm([running!])).toEqual([running]);
      await json(t.call('POST', `/jobs/cancel/${first}`, { token: bob }), 404);
      expect(await json(t.call('POST', `/jobs/cancel/${first}`, { token: alice }), 200)).toEqual({
        msg: '取消成功',
        effect: 'cancelled',
      });
      const after = await tasks(first);
      expect(after.filter((task) => task.id !== running).every((task) => task.state === 'CANCELLED')).toBe(true);
      const [marked] = await queryRows(t.database.db, sql`SELECT cancel_requested_at FROM jobs WHERE id = ${running}`);
      expect(marked!.cancel_requested_at).not.toBeNull();
      expect(await json(t.call('POST', `/jobs/cancel/${first}`, { token: alice }), 200)).toEqual({
        msg: '取消成功',
        effect: 'none',
      });
    });

    it("counts an array's PENDING tasks as one entry with expand_arrays=false; every task by default", async () => {
      await beat(t, 'n-aw5', ['p-aw5']);
      const stats = async (query = '') => json(t.call('GET', `/v1/stats${query}`, { token: bob }), 200);
      const before = await stats();
      const first = await submit('p-aw5', { array: '0-5', account: 'chemistry' }, bob);
      await submit('p-aw5', { account: 'chemistry' }, bob);
      const expanded = await stats();
      expect(expanded.by_state.PENDING - before.by_state.PENDING).toBe(7);
      expect(await stats('?expand_arrays=true')).toEqual(expanded);
      const collapsed = await stats('?expand_arrays=false');
      expect(collapsed.by_state.PENDING - before.by_state.PENDING).toBe(2);
      const partition = collapsed.partitions.find((row: { partition: string }) => row.partition === 'p-aw5');
      expect(partition).toMatchObject({ total: 2, by_state: { PENDING: 2 } });
      await json(t.call('GET', '/v1/stats?expand_arrays=maybe', { token: bob }), 422);
      await json(t.call('POST', `/v1/jobs/${first}/cancel`, { token: bob }), 200);
    });
  });
}
