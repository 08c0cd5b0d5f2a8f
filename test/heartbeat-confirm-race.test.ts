/**
 * A heartbeat settles the RUNNING jobs its node no longer has, counting only those confirmed before it was sent
 * (api/nodes/settle-unlisted-runs.ts): the confirm sequence each confirm answers, which the daemon says back as
 * `confirmed_through` once it holds those jobs.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Reconciler } from '../api/reconciler.js';
import { createTestApp, validJob, type TestApp } from './helpers/test-app.js';
import { backends } from './helpers/test-databases.js';

const capacity = { partitions: ['batch'], cpus: 16, memory_mb: 128_000 };
const claimBody = { ...capacity, free_cpus: 16, free_memory_mb: 128_000 };
type Run = { job_id: string; attempt: number };

for (const backend of await backends()) {
  describe.skipIf(backend.skip)(`a heartbeat and the runs its node no longer has, on ${backend.name}`, () => {
    let t: TestApp;
    let n1: string;
    beforeAll(async () => {
      t = await createTestApp(backend);
      n1 = await t.token('node', 'n1');
    });
    afterAll(() => t?.close());
    beforeEach(async () => {
      // Each test starts with no work about: nothing claimable left over, nothing RUNNING on n1.
      await t.database.db.execute(sql`DELETE FROM queue_refs`);
      expect((await beat({ running: [] })).status).toBe(200);
    });

    const beat = (extra: { running?: Run[]; ended?: Run[]; confirmed_through?: number }) =>
      t.call('POST', '/v1/nodes/n1/heartbeat', { token: n1, body: { ...capacity, ...extra } });
    const job = async (id: string) => (await t.call('GET', `/v1/jobs/${id}`)).json();
    /** Submits, claims and confirms on n1: the job RUNNING there as attempt 1, and the confirm's sequence. */
    const start = async (overrides: Record<string, unknown> = {}) => {
      const id = await t.submit(validJob(overrides));
      await t.call('POST', '/v1/nodes/n1/claim', { token: n1, body: claimBody });
      const answer = await (
        await t.call('POST', '/v1/nodes/n1/confirm', { token: n1, body: { job_ids: [id] } })
      ).json();
      expect(answer.jobs).toMatchObject([{ id, attempt: 1 }]);
      return { id, sequence: answer.sequence as number };
    };
    /** What an empty confirm says: the node's sequence now (a daemon asks this at start-up). */
    const sequenceNow = async () =>
      (await (await t.call('POST', '/v1/nodes/n1/confirm', { token: n1, body: { job_ids: [] } })).json())
        .sequence as number;

    it('leaves alone a job confirmed after the heartbeat was sent, which the heartbeat could not list', async () => {
      const before = await sequenceNow();
      const { id, sequence } = await start();
      expect(sequence).toBeGreaterThan(before);
      // Sent before the confirm's answer reached the daemon; it arrives after the confirm committed.
      const late = await beat({ running: [], confirmed_through: before });
      expect(late.status).toBe(200);
      expect(await job(id)).toMatchObject({ state: 'RUNNING', node: 'n1', attempt: 1 });
      // The daemon holds it now and says so: still RUNNING.
      await beat({ running: [{ job_id: id, attempt: 1 }], confirmed_through: sequence });
      expect(await job(id)).toMatchObject({ state: 'RUNNING', attempt: 1 });
    });

    it('queues at once what a settled run released: a job depending on its end', async () => {
      const { id, sequence } = await start();
      const child = await t.submit(validJob({ dependency: `afterany:${id}` }));
      expect(await job(child)).toMatchObject({ state: 'PENDING', reason: 'Dependency' });
      expect((await beat({ running: [], confirmed_through: sequence })).status).toBe(200);
      expect(await job(id)).toMatchObject({ state: 'FAILED' });
      // No reconciler run: the heartbeat that settled the parent pushed the child's ref.
      const claimed = await (await t.call('POST', '/v1/nodes/n1/claim', { token: n1, body: claimBody })).json();
      expect(claimed.refs.map((ref: { id: string }) => ref.id)).toEqual([child]);
    });

    it('settles FAILED a job confirmed before the heartbeat that the heartbeat does not list, as the node', async () => {
      const { id, sequence } = await start();
      const answer = await beat({ running: [], confirmed_through: sequence });
      expect(answer.status).toBe(200);
      expect(await answer.json()).toEqual({
        state: 'UP',
        cancel: [],
        stop: [],
        cluster_id: expect.any(String),
        lease_seconds: 300,
      });
      expect(await job(id)).toMatchObject({
        state: 'FAILED',
        attempt: 1,
        error_msg: 'node n1 no longer has this run (its heartbeat does not list it): the run was lost there',
      });
      const { events } = await (await t.call('GET', `/v1/jobs/${id}/events`)).json();
      expect(events.at(-1)).toMatchObject({
        from_state: 'RUNNING',
        to_state: 'FAILED',
        // As the node's other reports are recorded: `node:` and its token's name.
        actor: 'node:node-n1',
        reason: 'run lost on n1',
      });
      // Told again, nothing changes.
      await beat({ running: [], confirmed_through: sequence });
      expect((await (await t.call('GET', `/v1/jobs/${id}/events`)).json()).events).toHaveLength(events.length);
    });

    it('never requeues a lost run, even one that asked (it may still run there), and ends a cancelled one CANCELLED', async () => {
      const again = await start({ requeue: true, name: 'again' });
      const unwanted = await start({ requeue: true, name: 'unwanted' });
      await t.call('POST', `/v1/jobs/${unwanted.id}/cancel`);
      await beat({ running: [], confirmed_through: unwanted.sequence });
      expect(await job(again.id)).toMatchObject({ state: 'FAILED', attempt: 1 });
      expect(await job(unwanted.id)).toMatchObject({ state: 'CANCELLED' });
      // Nothing is pushed again for another node.
      expect(await new Reconciler(t.queue).run(t.database.db)).toMatchObject({ pushed: 0 });
    });

    it('leaves a job the heartbeat lists as ended (its end not acknowledged yet) RUNNING for its report', async () => {
      const { id, sequence } = await start();
      await beat({ running: [], ended: [{ job_id: id, attempt: 1 }], confirmed_through: sequence });
      expect(await job(id)).toMatchObject({ state: 'RUNNING' });
      const finished = await t.call('POST', '/v1/nodes/n1/events', {
        token: n1,
        body: {
          events: [{ kind: 'finished', job_id: id, attempt: 1, state: 'COMPLETED', exit_status: 0, exit_signal: null }],
        },
      });
      expect(finished.status).toBe(200);
      expect(await job(id)).toMatchObject({ state: 'COMPLETED' });
    });

    it('gives a confirm retried after a lost answer a sequence that covers the job it hands again', async () => {
      const { id, sequence } = await start();
      const again = await (await t.call('POST', '/v1/nodes/n1/confirm', { token: n1, body: { job_ids: [id] } })).json();
      expect(again.jobs).toMatchObject([{ id, attempt: 1 }]);
      expect(again.sequence).toBeGreaterThanOrEqual(sequence);
      await beat({ running: [{ job_id: id, attempt: 1 }], confirmed_through: again.sequence });
      expect(await job(id)).toMatchObject({ state: 'RUNNING' });
    });

    it('never settles a job confirmed before the upgrade, which has no sequence', async () => {
      const { id, sequence } = await start();
      // As migration 0010 leaves the jobs RUNNING when it runs.
      await t.database.db.execute(sql`UPDATE jobs SET confirm_seq = NULL WHERE id = ${Number(id)}`);
      await beat({ running: [], confirmed_through: sequence });
      expect(await job(id)).toMatchObject({ state: 'RUNNING', attempt: 1 });
      await t.call('POST', `/v1/jobs/${id}/cancel`);
    });

    it('changes nothing for a heartbeat without confirmed_through (a daemon of protocol 2)', async () => {
      const { id } = await start();
      const old = await t.call('POST', '/v1/nodes/n1/heartbeat', {
        token: n1,
        body: { ...capacity, running: [], daemon_version: '0.1.0' },
      });
      expect(old.status).toBe(200);
      expect(await job(id)).toMatchObject({ state: 'RUNNING', attempt: 1, error_msg: null });
      await t.call('POST', `/v1/jobs/${id}/cancel`);
    });
  });
}
