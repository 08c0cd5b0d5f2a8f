/**
 * Hold, release and begin (issue 20, item 4), on each queue: a held or not-yet-begun job is PENDING with its Slurm
 * reason and no ref in the queue; its release (or its begin time, through the reconciler) pushes the ref and a node
 * starts it; an admin's hold is not a user's to release; every hold and release is an event; a submit retried with its
 * Idempotency-Key is one job.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Reconciler } from '../api/reconciler.js';
import type { TestApp } from './helpers/test-app.js';
import { beat, json, ROOT_ALLOWING, smallJob, startOn } from './helpers/pending-cluster.js';
import { appsOnQueues } from './helpers/test-app-queues.js';

const script = '#!/bin/bash\ntrue';

for (const setup of await appsOnQueues()) {
  describe.skipIf(setup.skip)(`hold, release and begin on ${setup.name}`, () => {
    let t: TestApp;
    let alice: string;
    beforeAll(async () => {
      t = await setup.open();
      alice = await t.token('user', 'physics', 'alice');
      // Nodes serve (and so make) the partitions some tests only submit to.
      await beat(t, 'n-h0', ['p-h3', 'p-h5', 'p-h6']);
    });
    afterAll(() => t?.close());

    const submit = async (partition: string, extra: Record<string, unknown> = {}, token?: string) =>
      json(
        t.call('POST', '/v1/jobs', { body: { job: smallJob(partition, extra), script }, ...(token ? { token } : {}) }),
        201,
      );
    const get = async (id: string, token?: string) =>
      json(t.call('GET', `/v1/jobs/${id}`, token ? { token } : {}), 200);
    const inQueue = async (id: string) => (await t.queue.missing([Number(id)])).length === 0;

    it('submits a job held (hold: true) out of the queue, and starts it once released', async () => {
      await beat(t, 'n-h1', ['p-h1']);
      const job = await submit('p-h1', { hold: true });
      expect(job).toMatchObject({ state: 'PENDING', reason: 'JobHeldUser' });
      expect(await inQueue(job.id)).toBe(false);
      expect((await get(job.id)).reason).toBe('JobHeldUser');

      const released = await json(t.call('POST', `/v1/jobs/${job.id}/release`), 200);
      expect(released).toMatchObject({ effect: 'released', job: { state: 'PENDING', reason: 'Priority' } });
      expect(await inQueue(job.id)).toBe(true);
      await startOn(t, 'n-h1', 'p-h1', [job.id]);
      expect((await get(job.id)).state).toBe('RUNNING');
      // Released again, or held once running: nothing to do, or too late.
      await json(t.call('POST', `/v1/jobs/${job.id}/hold`), 409);
      await json(t.call('POST', `/v1/jobs/${job.id}/release`), 409);
    });

    it('holds a queued job: its ref leaves the queue, no node can claim it, and its release puts it back', async () => {
      await beat(t, 'n-h2', ['p-h2']);
      const job = await submit('p-h2', {}, alice);
      expect(await inQueue(job.id)).toBe(true);
      const held = await json(t.call('POST', `/v1/jobs/${job.id}/hold`, { token: alice }), 200);
      expect(held).toMatchObject({ effect: 'held', job: { reason: 'JobHeldUser' } });
      expect(await inQueue(job.id)).toBe(false);
      expect((await json(t.call('POST', `/v1/jobs/${job.id}/hold`, { token: alice }), 200)).effect).toBe('none');

      await json(t.call('POST', `/v1/jobs/${job.id}/release`, { token: alice }), 200);
      expect((await json(t.call('POST', `/v1/jobs/${job.id}/release`, { token: alice }), 200)).effect).toBe('none');
      await startOn(t, 'n-h2', 'p-h2', [job.id]);

      const events = (await json(t.call('GET', `/v1/jobs/${job.id}/events`, { token: alice }), 200)).events;
      expect(events.map((event: { kind: string }) => event.kind)).toEqual([
        'transition',
        'hold',
        'release',
        'transition',
      ]);
      expect(events[1]).toMatchObject({
        from_state: 'PENDING',
        to_state: 'PENDING',
        actor: 'user:user-physics',
        changes: { reason: { from: 'Priority', to: 'JobHeldUser' } },
      });
      expect(events[2].changes).toEqual({ reason: { from: 'JobHeldUser', to: 'Priority' } });
    });

    it('starts no held job whose ref a node claimed before the hold', async () => {
      await beat(t, 'n-h7', ['p-h7']);
      const job = await submit('p-h7');
      const claimed = await t.queue.claim({
        node: 'n-h7',
        partitions: ['p-h7'],
        cpus: 8,
        memoryMb: 64_000,
        freeCpus: 8,
        freeMemoryMb: 64_000,
        runsAs: ROOT_ALLOWING,
      });
      expect(claimed.map((ref) => String(ref.id))).toEqual([job.id]);
      await json(t.call('POST', `/v1/jobs/${job.id}/hold`), 200);
      const confirmed = await json(t.call('POST', '/v1/nodes/n-h7/confirm', { body: { job_ids: [job.id] } }), 200);
      expect(confirmed.jobs).toEqual([]);
      expect(await get(job.id)).toMatchObject({ state: 'PENDING', reason: 'JobHeldAdmin' });
      await json(t.call('POST', `/v1/jobs/${job.id}/release`), 200);
      await startOn(t, 'n-h7', 'p-h7', [job.id]);
    });

    it("keeps an admin's hold from its user: the user may not release it, only an admin", async () => {
      const job = await submit('p-h3', {}, alice);
      const held = await json(t.call('POST', `/v1/jobs/${job.id}/hold`), 200);
      expect(held.job.reason).toBe('JobHeldAdmin');
      const refused = await json(t.call('POST', `/v1/jobs/${job.id}/release`, { token: alice }), 403);
      expect(refused.detail).toMatch(/held by an admin/);
      // A user's hold does not weaken it.
      expect((await json(t.call('POST', `/v1/jobs/${job.id}/hold`, { token: alice }), 200)).effect).toBe('none');
      expect((await get(job.id)).reason).toBe('JobHeldAdmin');
      expect((await json(t.call('POST', `/v1/jobs/${job.id}/release`), 200)).job.reason).toBe('Priority');
    });

    it("makes a user's hold an admin's when an admin holds it too", async () => {
      const job = await submit('p-h3', { hold: true }, alice);
      expect((await json(t.call('POST', `/v1/jobs/${job.id}/hold`), 200)).job.reason).toBe('JobHeldAdmin');
      await json(t.call('POST', `/v1/jobs/${job.id}/release`, { token: alice }), 403);
    });

    it("holds as the job's user when an admin asks (user_hold, scontrol uhold): its user may release it", async () => {
      const job = await submit('p-h3', {}, alice);
      const hold = (body?: object, token?: string) =>
        json(
          t.call('POST', `/v1/jobs/${job.id}/hold`, { ...(body ? { body } : {}), ...(token ? { token } : {}) }),
          200,
        );
      expect((await hold({ user_hold: true })).job.reason).toBe('JobHeldUser');
      expect((await json(t.call('POST', `/v1/jobs/${job.id}/release`, { token: alice }), 200)).effect).toBe('released');
      // As Slurm 22.05: an admin's hold, then its uhold, makes it the user's again; a user's uhold is a user's hold.
      expect((await hold()).job.reason).toBe('JobHeldAdmin');
      expect(await hold({ user_hold: true }, alice)).toMatchObject({ effect: 'none', job: { reason: 'JobHeldAdmin' } });
      expect(await hold({ user_hold: true })).toMatchObject({ effect: 'held', job: { reason: 'JobHeldUser' } });
      const events = await json(t.call('GET', `/v1/jobs/${job.id}/events`), 200);
      expect(events.events.at(-1)).toMatchObject({
        reason: "held by an admin as its user's hold",
        changes: { reason: { from: 'JobHeldAdmin', to: 'JobHeldUser' } },
      });
      expect((await json(t.call('POST', `/v1/jobs/${job.id}/release`, { token: alice }), 200)).job.reason).toBe(
        'Priority',
      );
      const bad = await json(t.call('POST', `/v1/jobs/${job.id}/hold`, { body: { user_hold: 'yes' } }), 422);
      expect(bad.errors[0].field).toBe('user_hold');
    });

    it("answers another account's job as absent", async () => {
      const job = await submit('p-h3', { account: 'chemistry' });
      await json(t.call('POST', `/v1/jobs/${job.id}/hold`, { token: alice }), 404);
      await json(t.call('POST', `/v1/jobs/999999999/release`), 404);
    });

    it('waits for a begin time in the future out of the queue (BeginTime), and the reconciler ends the wait', async () => {
      await beat(t, 'n-h4', ['p-h4']);
      const job = await submit('p-h4', { begin: 'now+2hours' });
      const begin = new Date(job.eligible_time);
      expect(begin.getTime()).toBeGreaterThan(Date.now() + 3_600_000);
      expect(job).toMatchObject({ state: 'PENDING', reason: 'BeginTime' });
      expect(await inQueue(job.id)).toBe(false);

      const early = await new Reconciler(t.queue, { sweepAfterMs: 0 }, () => new Date(begin.getTime() - 1000)).run(
        t.database.db,
      );
      expect(early.begun).toBe(0);
      expect(await inQueue(job.id)).toBe(false);
      const due = await new Reconciler(t.queue, { sweepAfterMs: 0 }, () => begin).run(t.database.db);
      expect(due.begun).toBe(1);
      expect(await inQueue(job.id)).toBe(true);
      await startOn(t, 'n-h4', 'p-h4', [job.id]);
    });

    it('gives a held job with a begin time its wait back at its release', async () => {
      const job = await submit('p-h5', { hold: true, begin: 'tomorrow' });
      expect(job.reason).toBe('JobHeldUser');
      const released = await json(t.call('POST', `/v1/jobs/${job.id}/release`), 200);
      expect(released.job.reason).toBe('BeginTime');
      expect(await inQueue(job.id)).toBe(false);
    });

    it('starts a job whose begin time has passed at once', async () => {
      const job = await submit('p-h5', { begin: 'now-1hour' });
      expect(job.reason).toBe('Priority');
      expect(await inQueue(job.id)).toBe(true);
      expect(new Date(job.eligible_time).getTime()).toBeGreaterThanOrEqual(new Date(job.submit_time).getTime());
    });

    it('reads -H and --begin from the script', async () => {
      const held = await json(
        t.call('POST', '/v1/jobs', { body: { job: smallJob('p-h5'), script: '#!/bin/bash\n#SBATCH -H\ntrue' } }),
        201,
      );
      expect(held.reason).toBe('JobHeldUser');
      const later = await json(
        t.call('POST', '/v1/jobs', {
          body: { job: smallJob('p-h5'), script: '#!/bin/bash\n#SBATCH --begin=now+1day\ntrue' },
        }),
        201,
      );
      expect(later.reason).toBe('BeginTime');
      expect(later.directives).toEqual([{ line: 2, option: '--begin=now+1day' }]);
      expect(await t.queue.missing([Number(held.id), Number(later.id)])).toHaveLength(2);
    });

    it('makes one held job of a submit retried with its Idempotency-Key', async () => {
      const body = { job: smallJob('p-h6', { hold: true, begin: 'now+1hour' }), script };
      const send = async () =>
        t.app.request('/v1/jobs', {
          method: 'POST',
          headers: {
            Authorization: `Bearer ${alice}`,
            'Content-Type': 'application/json',
            'Idempotency-Key': `holds-${setup.name}`,
          },
          body: JSON.stringify(body),
        });
      const first = await json(send(), 201);
      const retried = await send();
      expect(retried.headers.get('Idempotent-Replayed')).toBe('true');
      expect((await json(Promise.resolve(retried), 201)).id).toBe(first.id);
      const list = await json(t.call('GET', '/v1/jobs?partition=p-h6', { token: alice }), 200);
      expect(list.jobs.map((job: { id: string }) => job.id)).toEqual([first.id]);
      expect(list.jobs[0].reason).toBe('JobHeldUser');
      expect(await inQueue(first.id)).toBe(false);
    });

    it('refuses a begin that is no time, naming job.begin', async () => {
      const refused = await json(
        t.call('POST', '/v1/jobs', { body: { job: smallJob('p-h5', { begin: 'soonish' }), script } }),
        422,
      );
      expect(refused.errors).toEqual([expect.objectContaining({ field: 'job.begin' })]);
      expect(refused.errors[0].message).toMatch(/not a begin time/);
    });
  });
}
