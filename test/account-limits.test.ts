/**
 * Accounts with limits (issue 19, item 2), through the API in-process, on the Postgres queue and on the Redis queue:
 * the admin API, each submit-time refusal (429 naming the limit, with Retry-After) on every submit path, and the
 * running limits holding a claimed job PENDING with Slurm's reason until a run of its account ends.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Reconciler } from '../api/reconciler.js';
import { queryRows } from '../shared/db/query-rows.js';
import { validJob, type TestApp } from './helpers/test-app.js';
import { appsOnQueues } from './helpers/test-app-queues.js';
import { DEFAULT_RETENTION } from '../shared/config/retention-settings.js';

// Each test its own account and partition (named alike): what one test leaves queued no other claims.
const ACCOUNTS = ['limits', 'pend', 'rate', 'bytes', 'jobcap', 'cpucap', 'bigcap', 'netcap', 'lostcap'];
const NODE = { partitions: ACCOUNTS, cpus: 8, memory_mb: 64_000 };

for (const setup of await appsOnQueues()) {
  describe.skipIf(setup.skip)(`account limits on ${setup.name}`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await setup.open();
      const beat = await t.call('POST', '/v1/nodes/n1/heartbeat', { body: NODE });
      expect(beat.status).toBe(200);
    });
    afterAll(() => t?.close());

    const put = (name: string, body: unknown, token?: string) =>
      t.call('PUT', `/v1/accounts/${name}`, { body, ...(token ? { token } : {}) });
    const submitAs = (account: string, path = '/v1/jobs', headers: Record<string, string> = {}) =>
      t.app.request(path, {
        method: 'POST',
        headers: {
          Authorization: `Bearer test-admin-token-0123456789abcdef0123456789`,
          'Content-Type': 'application/json',
          ...headers,
        },
        body: JSON.stringify({
          job: validJob({ account, partition: account, ntasks_per_node: 1, cpus_per_task: 1 }),
          script: '#!/bin/bash\ntrue',
        }),
      });
    const problem = async (response: Response) => ({
      status: response.status,
      retryAfter: response.headers.get('Retry-After'),
      body: (await response.json()) as { code: string; detail: string; errors?: { field: string }[] },
    });
    const jobRow = async (id: number) =>
      (await queryRows(t.database.db, sql`SELECT state, reason, enqueued FROM jobs WHERE id = ${id}`))[0]!;
    /** Claims for n1 what the queue gives it in this partition, as its daemon would. */
    const claim = async (partition: string, node = 'n1') =>
      (
        await t.queue.claim({
          node,
          partitions: [partition],
          cpus: 8,
          memoryMb: 64_000,
          freeCpus: 8,
          freeMemoryMb: 64_000,
          runsAs: { any_user: true, users: [], unnamed: true },
        })
      ).map((ref) => ref.id);
    const confirm = async (ids: number[], node = 'n1') => {
      const response = await t.call('POST', `/v1/nodes/${node}/confirm`, { body: { job_ids: ids.map(String) } });
      expect(response.status).toBe(200);
      return ((await response.json()) as { jobs: { id: string }[] }).jobs.map((job) => Number(job.id));
    };
    const finish = async (id: number, extra: Record<string, unknown> = {}) => {
      const response = await t.call('POST', '/v1/nodes/n1/events', {
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
              ...extra,
            },
          ],
        },
      });
      expect(response.status).toBe(200);
    };

    it('sets, shows and deletes limits (admin); a user token reads its own account only; bad values are 422s naming the field', async () => {
      const set = await put('limits', { max_running_cpus: 16, max_pending_jobs: 100, fairshare_shares: 3 });
      expect(set.status).toBe(200);
      expect(await set.json()).toMatchObject({
        name: 'limits',
        max_running_cpus: 16,
        max_running_jobs: null,
        max_pending_jobs: 100,
        fairshare_shares: 3,
        usage: { running_cpus: 0, running_jobs: 0, pending_jobs: 0, submits_last_minute: 0, stored_output_bytes: 0 },
      });
      // A PUT replaces every limit: what it leaves out is none.
      expect(await (await put('limits', { max_running_jobs: 2 })).json()).toMatchObject({
        max_running_cpus: null,
        max_running_jobs: 2,
        fairshare_shares: 1,
      });
      const bad = await problem(await put('limits', { max_running_cpus: -1, fairshare_shares: 0, max_gpus: 1 }));
      expect(bad.status).toBe(422);
      expect(bad.body.errors!.map((error) => error.field).sort()).toEqual(
        expect.arrayContaining(['max_running_cpus', 'fairshare_shares']),
      );
      const user = await t.token('user', 'limits');
      expect((await put('limits', {}, user)).status).toBe(403);
      expect((await t.call('GET', '/v1/accounts/limits', { token: user })).status).toBe(200);
      expect((await t.call('GET', '/v1/accounts/physics', { token: user })).status).toBe(404);
      const own = (await (await t.call('GET', '/v1/accounts', { token: user })).json()) as {
        accounts: { name: string }[];
      };
      expect(own.accounts.map((account) => account.name)).toEqual(['limits']);
      const all = (await (await t.call('GET', '/v1/accounts')).json()) as { accounts: { name: string }[] };
      expect(all.accounts.map((account) => account.name)).toContain('limits');
      expect((await t.call('DELETE', '/v1/accounts/limits')).status).toBe(200);
      expect(await (await t.call('GET', '/v1/accounts/limits')).json()).toMatchObject({
        max_running_jobs: null,
        updated_at: null,
      });
      expect((await t.call('DELETE', '/v1/accounts/limits')).status).toBe(404);
      expect((await t.call('GET', '/v1/accounts/nobody-knows-me')).status).toBe(404);
    });

    it('refuses a submit over max_pending_jobs with a 429 naming it, on /v1, with an idempotency key, and on the original path', async () => {
      await put('pend', { max_pending_jobs: 2 });
      expect((await submitAs('pend')).status).toBe(201);
      expect((await submitAs('pend', '/v1/jobs', { 'Idempotency-Key': 'pend-1' })).status).toBe(201);
      for (const refused of [
        await submitAs('pend'),
        await submitAs('pend', '/v1/jobs', { 'Idempotency-Key': 'pend-2' }),
        await submitAs('pend', '/jobs/submit'),
      ]) {
        const { status, retryAfter, body } = await problem(refused);
        expect(status).toBe(429);
        expect(retryAfter).toBe('30');
        expect(body.code).toBe('max_pending_jobs');
        expect(body.detail).toContain('2 pending jobs');
        expect(body.detail).toContain('max_pending_jobs is 2');
      }
      // A refused submit kept no key: the same key makes the job once there is room.
      await put('pend', { max_pending_jobs: 3 });
      expect((await submitAs('pend', '/v1/jobs', { 'Idempotency-Key': 'pend-2' })).status).toBe(201);
      expect(await (await t.call('GET', '/v1/accounts/pend')).json()).toMatchObject({ usage: { pending_jobs: 3 } });
    });

    it('refuses a submit over max_submits_per_minute until the oldest leaves the window, and says when', async () => {
      await put('rate', { max_submits_per_minute: 2 });
      expect((await submitAs('rate')).status).toBe(201);
      expect((await submitAs('rate')).status).toBe(201);
      const refused = await problem(await submitAs('rate'));
      expect(refused.status).toBe(429);
      expect(refused.body.code).toBe('max_submits_per_minute');
      expect(refused.body.detail).toContain('max_submits_per_minute is 2');
      expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
      // The oldest submit 50 s ago: it leaves the window in 10 s, and Retry-After says so (not a fixed value).
      await t.database.db.execute(
        sql`UPDATE jobs SET submit_time = now() - interval '50 seconds'
            WHERE id = (SELECT min(id) FROM jobs WHERE account = 'rate')`,
      );
      const later = await problem(await submitAs('rate', '/jobs/submit'));
      expect(later.body.code).toBe('max_submits_per_minute');
      expect(Number(later.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(later.retryAfter)).toBeLessThanOrEqual(10);
      // Once it has left, there is room for one.
      await t.database.db.execute(
        sql`UPDATE jobs SET submit_time = now() - interval '61 seconds'
            WHERE id = (SELECT min(id) FROM jobs WHERE account = 'rate')`,
      );
      expect((await submitAs('rate', '/v1/jobs', { 'Idempotency-Key': 'rate-1' })).status).toBe(201);
    });

    it('counts the output a run stored against max_stored_output_bytes until retention deletes it', async () => {
      await put('bytes', { max_stored_output_bytes: 1000 });
      const id = Number(await (await submitAs('bytes')).json().then((job: { id: string }) => job.id));
      const claimed = await claim('bytes');
      expect(await confirm(claimed)).toEqual([id]);
      await finish(id, { output_bytes: 1500 });
      expect(await (await t.call('GET', '/v1/accounts/bytes')).json()).toMatchObject({
        usage: { stored_output_bytes: 1500 },
      });
      const refused = await problem(await submitAs('bytes'));
      expect(refused.status).toBe(429);
      expect(refused.retryAfter).toBe('30');
      expect(refused.body.code).toBe('max_stored_output_bytes');
      expect(refused.body.detail).toContain('1500 bytes');
      // Retention deletes its output: the space is free again.
      const reconciler = new Reconciler(t.queue, { retention: { ...DEFAULT_RETENTION, outputMs: 0, jobMs: null } });
      await reconciler.run(t.database.db);
      expect(await (await t.call('GET', '/v1/accounts/bytes')).json()).toMatchObject({
        usage: { stored_output_bytes: 0 },
      });
      expect((await submitAs('bytes')).status).toBe(201);
    });

    it('holds a claimed job over max_running_jobs PENDING (AssocMaxJobsLimit) without its ref, and starts it when a run of its account ends', async () => {
      await put('jobcap', { max_running_jobs: 1 });
      const ids: number[] = [];
      for (let i = 0; i < 2; i++) ids.push(Number(((await (await submitAs('jobcap')).json()) as { id: string }).id));
      expect(await confirm(await claim('jobcap'))).toEqual([ids[0]]);
      expect(await jobRow(ids[1]!)).toMatchObject({ state: 'PENDING', reason: 'AssocMaxJobsLimit' });
      const shown = (await (await t.call('GET', `/v1/jobs/${ids[1]}`)).json()) as { reason: string };
      expect(shown.reason).toBe('AssocMaxJobsLimit');
      // Neither the reconciler's push nor its sweep puts its ref back: no node would spin on it.
      await new Reconciler(t.queue, { sweepAfterMs: 0 }).run(t.database.db);
      expect(await t.queue.missing([ids[1]!])).toEqual([ids[1]]);
      expect(await (await t.call('GET', '/v1/accounts/jobcap')).json()).toMatchObject({
        usage: { running_jobs: 1, pending_jobs: 1, held_jobs: 1 },
      });
      // The run ends: the held job is released and its ref pushed at once.
      await finish(ids[0]!);
      expect(await jobRow(ids[1]!)).toMatchObject({ state: 'PENDING', reason: 'Priority', enqueued: true });
      expect(await t.queue.missing([ids[1]!])).toEqual([]);
      expect(await confirm(await claim('jobcap'))).toEqual([ids[1]]);
    });

    it('holds a job over max_running_cpus (AssocGrpCpuLimit), and a raised limit starts it', async () => {
      await put('cpucap', { max_running_cpus: 3 });
      const submit4 = async () => {
        const response = await t.call('POST', '/v1/jobs', {
          body: {
            job: validJob({ account: 'cpucap', partition: 'cpucap', ntasks_per_node: 2, cpus_per_task: 1 }),
            script: '#!/bin/bash\ntrue',
          },
        });
        return Number(((await response.json()) as { id: string }).id);
      };
      const [first, second] = [await submit4(), await submit4()];
      expect(await confirm(await claim('cpucap'))).toEqual([first]);
      expect(await jobRow(second)).toMatchObject({ state: 'PENDING', reason: 'AssocGrpCpuLimit' });
      await put('cpucap', { max_running_cpus: 4 });
      expect(await jobRow(second)).toMatchObject({ reason: 'Priority' });
      expect(await confirm(await claim('cpucap'))).toEqual([second]);
    });

    it('refuses a job larger than its account may ever run (422), and a held one the limit shrank below does not block smaller ones', async () => {
      await put('bigcap', { max_running_cpus: 6 });
      const submit = async (cpus: number) =>
        t.call('POST', '/v1/jobs', {
          body: {
            job: validJob({ account: 'bigcap', partition: 'bigcap', ntasks_per_node: 1, cpus_per_task: cpus }),
            script: '#!/bin/bash\ntrue',
          },
        });
      const refused = await submit(7);
      expect(refused.status).toBe(422);
      const problem = (await refused.json()) as { errors: { field: string; message: string }[] };
      expect(problem.errors[0]).toMatchObject({ field: 'job.cpus_per_task' });
      expect(problem.errors[0]!.message).toContain('max_running_cpus');
      const id = async (cpus: number) => Number(((await (await submit(cpus)).json()) as { id: string }).id);
      const [big, small] = [await id(6), await id(2)];
      // Both held (as confirms over the limit would leave them), then the limit shrinks below the big one.
      await t.database.db.execute(sql`UPDATE jobs SET reason = 'AssocGrpCpuLimit' WHERE id IN (${big}, ${small})`);
      await t.queue.remove([big, small]);
      await put('bigcap', { max_running_cpus: 4 });
      expect(await jobRow(big)).toMatchObject({ state: 'PENDING', reason: 'AssocGrpCpuLimit' });
      expect(await jobRow(small)).toMatchObject({ state: 'PENDING', reason: 'Priority' });
      expect(await confirm(await claim('bigcap'))).toEqual([small]);
    });

    it('the reconciler releases what a race left held: a held job whose account has room', async () => {
      await put('netcap', { max_running_jobs: 1 });
      const id = Number(((await (await submitAs('netcap')).json()) as { id: string }).id);
      // As a confirm that counted a run whose end committed just after: held, with nothing running.
      await t.database.db.execute(sql`UPDATE jobs SET reason = 'AssocMaxJobsLimit' WHERE id = ${id}`);
      await t.queue.remove([id]);
      const run = await new Reconciler(t.queue).run(t.database.db);
      expect(run.heldReleased).toBeGreaterThanOrEqual(1);
      expect(await t.queue.missing([id])).toEqual([]);
      expect(await confirm(await claim('netcap'))).toEqual([id]);
    });
    it('releases a held job when a run of its account ends with a lost node', async () => {
      await put('lostcap', { max_running_jobs: 1 });
      const beat = await t.call('POST', '/v1/nodes/n-lost/heartbeat', { body: { ...NODE, partitions: ['lostcap'] } });
      expect(beat.status).toBe(200);
      const ids: number[] = [];
      for (let i = 0; i < 2; i++) ids.push(Number(((await (await submitAs('lostcap')).json()) as { id: string }).id));
      expect(await confirm(await claim('lostcap', 'n-lost'), 'n-lost')).toEqual([ids[0]]);
      expect(await jobRow(ids[1]!)).toMatchObject({ reason: 'AssocMaxJobsLimit' });
      // Its lease ends: the reconciler settles its run, and the held job goes back to the queue.
      await t.database.db.execute(
        sql`UPDATE nodes SET lease_expires_at = now() - interval '1 second' WHERE name = 'n-lost'`,
      );
      await new Reconciler(t.queue).run(t.database.db);
      // Retried by default (a node-side failure): its run has ended all the same.
      expect(await jobRow(ids[0]!)).toMatchObject({ state: 'PENDING' });
      expect(await jobRow(ids[1]!)).toMatchObject({ state: 'PENDING', reason: 'Priority', enqueued: true });
      expect(await t.queue.missing([ids[1]!])).toEqual([]);
    });
  });
}
