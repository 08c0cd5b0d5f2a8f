import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Reconciler } from '../api/reconciler.js';
import { nodes } from '../shared/db/schema.js';
import { createTestApp, validJob, type TestApp } from './helpers/test-app.js';
import { backends } from './helpers/test-databases.js';
import { moveJob } from './helpers/job-states.js';

const capacity = { partitions: ['batch'], cpus: 16, memory_mb: 128_000 };
const claimBody = { ...capacity, free_cpus: 16, free_memory_mb: 128_000 };

for (const backend of await backends()) {
  describe.skipIf(backend.skip)(`a node that stops answering, on ${backend.name}`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(backend);
    });
    afterAll(() => t?.close());

    /** Node `name` last spoke an hour ago: silent by the database's clock, without waiting for it. */
    const fallSilent = (name: string) =>
      t.database.db.execute(
        sql`UPDATE nodes SET last_heartbeat = now() - interval '1 hour', lease_expires_at = now() - interval '1 ms' WHERE name = ${name}`,
      );

    it('is marked DOWN; its jobs are requeued or end NODE_FAIL, and what it claimed goes back to the queue', async () => {
      const n1 = await t.token('node', 'n1');
      const n2 = await t.token('node', 'n2');
      const beat = (node: string, token: string) =>
        t.call('POST', `/v1/nodes/${node}/heartbeat`, { token, body: capacity });
      await beat('n1', n1);
      await beat('n2', n2);

      const requeued = await t.submit(validJob({ requeue: true, name: 'again' }));
      const failed = await t.submit(validJob({ name: 'once', requeue: false }));
      const cancelled = await t.submit(validJob({ requeue: true, name: 'unwanted' }));
      await t.call('POST', '/v1/nodes/n1/claim', { token: n1, body: claimBody });
      await t.call('POST', '/v1/nodes/n1/confirm', { token: n1, body: { job_ids: [requeued, failed, cancelled] } });
      await t.call('POST', `/v1/jobs/${cancelled}/cancel`);
      // Claimed, never confirmed: n1 died in between.
      const unconfirmed = await t.submit(validJob({ name: 'claimed' }));
      await t.call('POST', '/v1/nodes/n1/claim', { token: n1, body: claimBody });

      await fallSilent('n1');
      await beat('n2', n2); // n2 keeps answering.
      const result = await new Reconciler(t.queue).run(t.database.db);
      expect(result).toMatchObject({ nodesDown: ['n1'], requeued: 1, pushed: 1 });

      const [n1Row] = await t.database.db.select().from(nodes).where(eq(nodes.name, 'n1'));
      const [n2Row] = await t.database.db.select().from(nodes).where(eq(nodes.name, 'n2'));
      expect([n1Row!.state, n2Row!.state]).toEqual(['DOWN', 'UP']);
      const job = async (id: string) => (await t.call('GET', `/v1/jobs/${id}`)).json();
      expect(await job(requeued)).toMatchObject({ state: 'PENDING', node: null, attempt: 1, start_time: null });
      expect(await job(failed)).toMatchObject({ state: 'NODE_FAIL', error_msg: 'node n1 stopped answering' });
      expect(await job(cancelled)).toMatchObject({ state: 'CANCELLED' });

      // The lost attempt's late report changes nothing.
      const late = await t.call('POST', '/v1/nodes/n1/events', {
        token: n1,
        body: {
          events: [
            { kind: 'finished', job_id: requeued, attempt: 1, state: 'COMPLETED', exit_status: 0, exit_signal: null },
          ],
        },
      });
      expect((await late.json()).results[0].result).toBe('refused');
      // What really happened is kept in the job's events, as a note: the job's state stays as it was settled.
      const events = async (id: string) => (await (await t.call('GET', `/v1/jobs/${id}/events`)).json()).events;
      const notes = (await events(requeued)).filter(
        (e: { from_state: string; to_state: string }) => e.from_state === e.to_state,
      );
      expect(notes).toEqual([
        expect.objectContaining({
          from_state: 'PENDING',
          to_state: 'PENDING',
          attempt: 1,
          reason: 'attempt 1 really ended COMPLETED (exit status 0), after node n1 was settled as lost',
        }),
      ]);
      // A run stopped at its lease's end is reported NODE_FAIL, the state it was settled to: a duplicate by state,
      // and still news (when and how it really ended).
      const stopped = await t.call('POST', '/v1/nodes/n1/events', {
        token: n1,
        body: {
          events: [
            {
              kind: 'finished',
              job_id: failed,
              attempt: 1,
              state: 'NODE_FAIL',
              exit_status: null,
              exit_signal: 9,
              error_msg: 'stopped at its lease end',
            },
          ],
        },
      });
      expect((await stopped.json()).results[0].result).toBe('duplicate');
      expect(
        (await events(failed)).filter((e: { from_state: string; to_state: string }) => e.from_state === e.to_state),
      ).toEqual([
        expect.objectContaining({
          to_state: 'NODE_FAIL',
          reason:
            'attempt 1 really ended NODE_FAIL (signal 9: stopped at its lease end), after node n1 was settled as lost',
        }),
      ]);

      // n1 speaks again: it is told to stop its old runs, which are no longer its own.
      const back = await (
        await t.call('POST', '/v1/nodes/n1/heartbeat', {
          token: n1,
          body: { ...capacity, running: [requeued, failed, cancelled].map((job_id) => ({ job_id, attempt: 1 })) },
        })
      ).json();
      expect(back.state).toBe('UP');
      expect(back.stop.map((run: { job_id: string }) => run.job_id).sort()).toEqual(
        [requeued, failed, cancelled].sort(),
      );

      // Both the requeued job and the unconfirmed claim are n2's to take now, the requeued one as attempt 2.
      const claim = await (await t.call('POST', '/v1/nodes/n2/claim', { token: n2, body: claimBody })).json();
      expect(claim.refs.map((r: { id: string }) => r.id).sort()).toEqual([requeued, unconfirmed].sort());
      const confirmed = await (
        await t.call('POST', '/v1/nodes/n2/confirm', { token: n2, body: { job_ids: [requeued] } })
      ).json();
      expect(confirmed.jobs[0]).toMatchObject({ id: requeued, attempt: 2 });
    });

    it('keeps the jobs of a node silent past a minute while its lease lasts, and settles them once it has ended', async () => {
      // Issue 13: the node was lost after 60 s of silence, and its requeue job started elsewhere while attempt 1 still
      // ran there. Now its jobs stay its own until its lease (300 s by default) has ended.
      const n5 = await t.token('node', 'n5', ['lease']);
      const n6 = await t.token('node', 'n6', ['lease']);
      const body = { ...capacity, partitions: ['lease'] };
      await t.call('POST', '/v1/nodes/n5/heartbeat', { token: n5, body });
      const again = await t.submit(validJob({ partition: 'lease', requeue: true }));
      const once = await t.submit(validJob({ partition: 'lease', requeue: false }));
      await t.call('POST', '/v1/nodes/n5/claim', { token: n5, body: { ...claimBody, partitions: ['lease'] } });
      await t.call('POST', '/v1/nodes/n5/confirm', { token: n5, body: { job_ids: [again, once] } });
      await t.database.db.execute(
        sql`UPDATE nodes SET last_heartbeat = now() - interval '2 minutes' WHERE name = 'n5'`,
      );
      expect((await new Reconciler(t.queue).run(t.database.db)).nodesDown).not.toContain('n5');
      const state = async (id: string) => (await (await t.call('GET', `/v1/jobs/${id}`)).json()).state;
      expect([await state(again), await state(once)]).toEqual(['RUNNING', 'RUNNING']);
      await t.call('POST', '/v1/nodes/n6/heartbeat', { token: n6, body });
      const claim = await (
        await t.call('POST', '/v1/nodes/n6/claim', { token: n6, body: { ...claimBody, partitions: ['lease'] } })
      ).json();
      expect(claim.refs).toEqual([]);

      await fallSilent('n5');
      expect((await new Reconciler(t.queue).run(t.database.db)).nodesDown).toContain('n5');
      expect([await state(again), await state(once)]).toEqual(['PENDING', 'NODE_FAIL']);
    });

    it('requeues a job whose node reports it stopped at its lease end (NODE_FAIL), or ends it NODE_FAIL', async () => {
      const n7 = await t.token('node', 'n7', ['fenced']);
      const body = { ...capacity, partitions: ['fenced'] };
      await t.call('POST', '/v1/nodes/n7/heartbeat', { token: n7, body });
      const again = await t.submit(validJob({ partition: 'fenced', requeue: true }));
      const once = await t.submit(validJob({ partition: 'fenced', requeue: false }));
      await t.call('POST', '/v1/nodes/n7/claim', { token: n7, body: { ...claimBody, partitions: ['fenced'] } });
      await t.call('POST', '/v1/nodes/n7/confirm', { token: n7, body: { job_ids: [again, once] } });
      const stopped = (job_id: string) => ({
        kind: 'finished',
        job_id,
        attempt: 1,
        state: 'NODE_FAIL',
        exit_status: null,
        exit_signal: 9,
        error_msg: 'stopped: node n7 could not renew its lease',
      });
      const answer = await t.call('POST', '/v1/nodes/n7/events', {
        token: n7,
        body: { events: [stopped(again), stopped(once)] },
      });
      expect((await answer.json()).results.map((r: { result: string }) => r.result)).toEqual(['applied', 'applied']);
      const job = async (id: string) => (await t.call('GET', `/v1/jobs/${id}`)).json();
      expect(await job(again)).toMatchObject({ state: 'PENDING', node: null });
      expect(await job(once)).toMatchObject({
        state: 'NODE_FAIL',
        error_msg: 'stopped: node n7 could not renew its lease',
      });
    });

    it('settles the jobs of a node whose lease never expires only when an admin declares it DOWN', async () => {
      const never = await createTestApp(backend, { nodeLeaseMs: null });
      try {
        const n8 = await never.token('node', 'n8');
        const answer = await (await never.call('POST', '/v1/nodes/n8/heartbeat', { token: n8, body: capacity })).json();
        expect(answer.lease_seconds).toBeNull();
        const [shown] = (await (await never.call('GET', '/v1/nodes')).json()).nodes;
        expect(shown).toMatchObject({ name: 'n8', lease_expires_at: null });
        const id = await never.submit(validJob({ requeue: true }));
        await never.call('POST', '/v1/nodes/n8/claim', { token: n8, body: claimBody });
        await never.call('POST', '/v1/nodes/n8/confirm', { token: n8, body: { job_ids: [id] } });
        await never.database.db.execute(
          sql`UPDATE nodes SET last_heartbeat = now() - interval '1 day' WHERE name = 'n8'`,
        );
        expect((await new Reconciler(never.queue).run(never.database.db)).nodesDown).toEqual([]);
        expect((await (await never.call('GET', `/v1/jobs/${id}`)).json()).state).toBe('RUNNING');
        expect((await never.call('POST', '/v1/nodes/n8/down')).status).toBe(200);
        await new Reconciler(never.queue).run(never.database.db);
        expect((await (await never.call('GET', `/v1/jobs/${id}`)).json()).state).toBe('PENDING');
      } finally {
        await never.close();
      }
    });

    it('settles a job confirmed on a node just as it was marked DOWN, at the next run', async () => {
      const n3 = await t.token('node', 'n3');
      await t.call('POST', '/v1/nodes/n3/heartbeat', { token: n3, body: capacity });
      const id = await t.submit(validJob({ partition: 'race', requeue: false }));
      await fallSilent('n3');
      await new Reconciler(t.queue).run(t.database.db);
      // As if the confirm had passed its check before the marking: RUNNING on a node that is DOWN.
      await moveJob(t.database.db, id, 'RUNNING', { nodeName: 'n3', attempt: 1 });
      await new Reconciler(t.queue).run(t.database.db);
      expect((await (await t.call('GET', `/v1/jobs/${id}`)).json()).state).toBe('NODE_FAIL');
    });

    it('starts nothing on a node that is not UP, even when its claim is already in hand', async () => {
      const n4 = await t.token('node', 'n4');
      await t.call('POST', '/v1/nodes/n4/heartbeat', { token: n4, body: capacity });
      const id = await t.submit(validJob({ partition: 'n4only' }));
      await t.queue.claim({
        node: 'n4',
        partitions: ['n4only'],
        cpus: 16,
        memoryMb: 128_000,
        freeCpus: 16,
        freeMemoryMb: 128_000,
        runsAs: { any_user: true, users: [], unnamed: true },
      });
      await t.database.db.update(nodes).set({ state: 'DOWN' }).where(eq(nodes.name, 'n4'));
      const { confirmClaims } = await import('../api/jobs/confirm-claims.js');
      expect(await confirmClaims(t.database.db, 'n4', [Number(id)], 'test')).toMatchObject({
        started: [],
        dropped: [Number(id)],
      });
    });
  });
}
