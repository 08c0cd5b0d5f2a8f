/**
 * PATCH /v1/jobs/{id} as `scontrol update` (issue 20, item 4), on each queue: a PENDING job's time limit (users only
 * lower it; an admin within its partition's maximum), nice (users only raise it), partition (admitted as at submit),
 * name and begin time; a refusal names its field and changes nothing; the queue's ref follows the change (partition,
 * time limit for backfill, priority); every update is an event.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRef } from '../shared/queue/job-queue.js';
import type { TestApp } from './helpers/test-app.js';
import { beat, json, ROOT_ALLOWING, smallJob, startOn } from './helpers/pending-cluster.js';
import { appsOnQueues } from './helpers/test-app-queues.js';

const script = '#!/bin/bash\ntrue';

for (const setup of await appsOnQueues()) {
  describe.skipIf(setup.skip)(`scontrol update of a PENDING job on ${setup.name}`, () => {
    let t: TestApp;
    let alice: string;
    beforeAll(async () => {
      t = await setup.open();
      alice = await t.token('user', 'physics', 'alice');
      await beat(t, 'n-u1', ['p-u1', 'p-u2', 'p-u3']);
      await json(t.call('PUT', '/v1/partitions/p-u1', { body: { max_time: '4:00:00' } }), 200);
      await json(t.call('PUT', '/v1/partitions/p-closed', { body: { state: 'INACTIVE' } }), 201);
    });
    afterAll(() => t?.close());

    const submit = async (partition: string, extra: Record<string, unknown> = {}) =>
      json(t.call('POST', '/v1/jobs', { body: { job: smallJob(partition, extra), script } }), 201);
    const patch = (id: string, body: unknown, status: number, token?: string) =>
      json(t.call('PATCH', `/v1/jobs/${id}`, { body, ...(token ? { token } : {}) }), status);
    /** The ref a node of `partition` claims now (claimed refs go back to the queue). */
    const claimRef = async (partition: string): Promise<JobRef[]> => {
      const refs = await t.queue.claim({
        node: 'n-u1',
        partitions: [partition],
        cpus: 8,
        memoryMb: 64_000,
        freeCpus: 8,
        freeMemoryMb: 64_000,
        runsAs: ROOT_ALLOWING,
      });
      await t.queue.release(
        'n-u1',
        refs.map((ref) => ref.id),
      );
      return refs;
    };

    it("lowers a user's time limit, and the queue's ref carries the new one (backfill reads it)", async () => {
      const job = await submit('p-u1');
      const updated = await patch(job.id, { time_limit: '30' }, 200, alice);
      expect(updated.job.time_limit).toBe('0-00:30:00');
      expect(updated.changes).toEqual({ time_limit: { from: 3600, to: 1800 } });
      expect(await claimRef('p-u1')).toEqual([expect.objectContaining({ id: Number(job.id), timeLimitSeconds: 1800 })]);

      const raised = await patch(job.id, { time_limit: '2:00:00' }, 422, alice);
      expect(raised.errors).toEqual([{ field: 'time_limit', message: expect.stringMatching(/may only lower it/) }]);
      await patch(job.id, { time_limit: 'UNLIMITED' }, 422, alice);
      // An admin raises it, within the partition's maximum only.
      const over = await patch(job.id, { time_limit: '5:00:00' }, 422);
      expect(over.errors).toEqual([{ field: 'time_limit', message: expect.stringMatching(/maximum, 0-04:00:00/) }]);
      expect((await patch(job.id, { time_limit: '3:00:00' }, 200)).job.time_limit).toBe('0-03:00:00');
      await startOn(t, 'n-u1', 'p-u1', [job.id]);
      expect((await patch(job.id, { name: 'late' }, 409)).detail).toMatch(/RUNNING, not PENDING/);
    });

    it("raises a user's nice only, recomputes the priority, and the ref carries it", async () => {
      const job = await submit('p-u2', { nice: 10 });
      const raised = await patch(job.id, { nice: 50 }, 200, alice);
      // The test app's weights are 0: the priority is -nice.
      expect(raised.job.priority).toBe(-50);
      expect(await claimRef('p-u2')).toEqual([expect.objectContaining({ id: Number(job.id), priority: -50 })]);
      expect((await patch(job.id, { nice: 20 }, 422, alice)).errors).toEqual([
        { field: 'nice', message: expect.stringMatching(/only raise/) },
      ]);
      expect((await patch(job.id, { nice: -5 }, 422, alice)).errors).toEqual([
        { field: 'nice', message: expect.stringMatching(/0 or more/) },
      ]);
      expect((await patch(job.id, { nice: -5 }, 200)).job.priority).toBe(5);
      await t.call('POST', `/v1/jobs/${job.id}/cancel`);
    });

    it('moves a job to another partition as its rules allow, and its ref with it', async () => {
      const job = await submit('p-u2');
      const moved = await patch(job.id, { partition: 'p-u3', name: 'moved' }, 200, alice);
      expect(moved.job).toMatchObject({ partition: 'p-u3', name: 'moved' });
      expect(await claimRef('p-u2')).toEqual([]);
      expect(await claimRef('p-u3')).toEqual([expect.objectContaining({ id: Number(job.id), partition: 'p-u3' })]);

      const missing = await patch(job.id, { partition: 'nowhere' }, 422);
      expect(missing.errors).toEqual([{ field: 'partition', message: expect.stringMatching(/does not exist/) }]);
      const closed = await patch(job.id, { partition: 'p-closed' }, 422);
      expect(closed.errors).toEqual([{ field: 'partition', message: expect.stringMatching(/INACTIVE/) }]);
      // Nothing changed by the refusals, the name included.
      const both = await patch(job.id, { name: 'renamed', partition: 'nowhere' }, 422);
      expect(both.errors.map((error: { field: string }) => error.field)).toEqual(['partition']);
      expect((await json(t.call('GET', `/v1/jobs/${job.id}`), 200)).name).toBe('moved');
      await t.call('POST', `/v1/jobs/${job.id}/cancel`);
    });

    it('sets a begin time: the job leaves the queue (BeginTime), and a begin of now puts it back', async () => {
      const job = await submit('p-u2');
      const later = await patch(job.id, { begin: 'now+1hour' }, 200, alice);
      expect(later.job.reason).toBe('BeginTime');
      expect(later.changes.reason).toEqual({ from: 'Priority', to: 'BeginTime' });
      expect(await t.queue.missing([Number(job.id)])).toEqual([Number(job.id)]);

      const now = await patch(job.id, { begin: 'now' }, 200, alice);
      expect(now.job.reason).toBe('Priority');
      expect(await t.queue.missing([Number(job.id)])).toEqual([]);
      expect((await patch(job.id, { begin: 'whenever' }, 422)).errors).toEqual([
        expect.objectContaining({ field: 'begin' }),
      ]);
      await t.call('POST', `/v1/jobs/${job.id}/cancel`);
    });

    it('keeps a held job held through an update, out of the queue', async () => {
      const job = await submit('p-u2', { hold: true });
      const updated = await patch(job.id, { time_limit: '10', nice: 5 }, 200);
      expect(updated.job.reason).toBe('JobHeldUser');
      expect(await t.queue.missing([Number(job.id)])).toEqual([Number(job.id)]);
      await t.call('POST', `/v1/jobs/${job.id}/cancel`);
    });

    it('records each update as an event, and none for an update that changes nothing', async () => {
      const job = await submit('p-u2');
      await patch(job.id, { name: 'first', time_limit: '45' }, 200, alice);
      expect((await patch(job.id, { name: 'first' }, 200, alice)).changes).toEqual({});
      const { events } = await json(t.call('GET', `/v1/jobs/${job.id}/events`), 200);
      expect(events).toHaveLength(2);
      expect(events[1]).toMatchObject({
        kind: 'update',
        from_state: 'PENDING',
        to_state: 'PENDING',
        actor: 'user:user-physics',
        changes: { name: { from: 'relax', to: 'first' }, time_limit: { from: 3600, to: 2700 } },
      });
      await t.call('POST', `/v1/jobs/${job.id}/cancel`);
    });

    it('refuses a body without a field, or with an unknown one, and another account’s job', async () => {
      const job = await submit('p-u2');
      await patch(job.id, {}, 422);
      expect((await patch(job.id, { memory_per_node: '2G' }, 422)).detail).toMatch(/memory_per_node|Invalid/);
      const other = await submit('p-u2', { account: 'chemistry' });
      await patch(other.id, { name: 'mine' }, 404, alice);
      await t.call('POST', `/v1/jobs/${job.id}/cancel`);
      await t.call('POST', `/v1/jobs/${other.id}/cancel`);
    });
  });
}
