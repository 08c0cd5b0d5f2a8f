/**
 * Retry policies (issue 20) through the API: the policy a submit stores, and what each way a run ends does with it,
 * as a node reports the end (the daemon's own forms: worker-node/job-ending.ts) or as the reconciler settles a lost
 * node. The real failures on real daemons are in retry-runs.test.ts.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Reconciler } from '../api/reconciler.js';
import { queryRows } from '../shared/db/query-rows.js';
import { DEFAULT_RETRY_POLICY } from '../shared/job/retry-policy.js';
import { createTestApp, validJob, type TestApp } from './helpers/test-app.js';
import { backends } from './helpers/test-databases.js';

const capacity = { partitions: ['batch'], cpus: 8, memory_mb: 64_000 };
const claim = { ...capacity, free_cpus: 8, free_memory_mb: 64_000 };

for (const backend of await backends()) {
  describe.skipIf(backend.skip)(`retry policies on ${backend.name}`, () => {
    let t: TestApp;
    let n1: string;
    beforeAll(async () => {
      t = await createTestApp(backend);
      n1 = await t.token('node', 'n1');
    });
    beforeEach(async () => {
      await t.call('POST', '/v1/nodes/n1/heartbeat', { token: n1, body: capacity });
    });
    afterAll(() => t?.close());

    const job = async (id: string) => (await t.call('GET', `/v1/jobs/${id}`)).json();
    const events = async (id: string) =>
      (await (await t.call('GET', `/v1/jobs/${id}/events`)).json()).events as {
        attempt: number;
        to_state: string;
        reason: string;
        actor: string;
      }[];

    /** Starts the job's next attempt on n1, through the real claim and confirm; answers the attempt. */
    async function start(id: string): Promise<number> {
      await t.database.db.execute(sql`DELETE FROM queue_refs WHERE job_id <> ${Number(id)}`);
      await t.call('POST', '/v1/nodes/n1/claim', { token: n1, body: claim });
      const confirmed = await (
        await t.call('POST', '/v1/nodes/n1/confirm', { token: n1, body: { job_ids: [id] } })
      ).json();
      expect(confirmed.jobs).toHaveLength(1);
      return confirmed.jobs[0].attempt as number;
    }
    const submitRunning = async (fields: Record<string, unknown> = {}) => {
      const id = await t.submit(validJob(fields));
      await start(id);
      return id;
    };
    /** n1 reports the end of the job's attempt, as its daemon would. */
    async function end(id: string, attempt: number, outcome: Record<string, unknown>): Promise<string> {
      const response = await t.call('POST', '/v1/nodes/n1/events', {
        token: n1,
        body: { events: [{ kind: 'finished', job_id: id, attempt, exit_status: null, exit_signal: null, ...outcome }] },
      });
      expect(response.status).toBe(200);
      return (await response.json()).results[0].result;
    }
    const jobCount = async () =>
      Number((await queryRows(t.database.db, sql`SELECT count(*) AS count FROM jobs`))[0]!.count);
    const exit = (status: number) => ({ state: 'FAILED', exit_status: status, error_msg: `exit status ${status}` });
    const nodeLaunch = { state: 'FAILED', error_msg: 'cannot start on n1: fork: Resource temporarily unavailable' };
    const jobLaunch = { state: 'FAILED', exit_status: 0, error_msg: 'cannot start on n1: cannot chdir to /nowhere' };
    const leaseEnd = { state: 'NODE_FAIL', exit_signal: 9, error_msg: 'stopped at its lease end' };

    describe('at submit', () => {
      it('stores the default policy; a body policy over it; none with requeue false', async () => {
        const detail = async (id: string) => (await job(id)).retry;
        expect(await detail(await t.submit(validJob()))).toEqual(DEFAULT_RETRY_POLICY);
        expect(await detail(await t.submit(validJob({ requeue: true })))).toEqual(DEFAULT_RETRY_POLICY);
        expect(await detail(await t.submit(validJob({ retry: { on: ['timeout'], exit_codes: [75] } })))).toEqual({
          ...DEFAULT_RETRY_POLICY,
          on: ['timeout'],
          exit_codes: [75],
        });
        const off = await t.submit(validJob({ requeue: false }));
        expect(await job(off)).toMatchObject({ requeue: false, retry: null });
      });

      it.each([
        [{ on: ['node_fail', 'gremlins'] }, 'job.retry.on.1', /"gremlins" is not a class: give node_fail/],
        [{ on: ['oom', 'oom'] }, 'job.retry.on.1', /"oom" is named twice/],
        // A class where a list is wanted: one problem, not a second about the string's length.
        [{ on: 'timeout' }, 'job.retry.on', /must be a list of classes, such as \["timeout"\]/],
        [{ exit_codes: [0] }, 'job.retry.exit_codes.0', /whole number \(an exit status\) from 1 to 255/],
        [{ exit_codes: [75, 256] }, 'job.retry.exit_codes.1', /from 1 to 255/],
        [{ exit_codes: 75 }, 'job.retry.exit_codes', /must be a list of exit statuses/],
        [{ max_attempts: 0 }, 'job.retry.max_attempts', /whole number of attempts from 1 to 100/],
        [{ max_attempts: 2.5 }, 'job.retry.max_attempts', /whole number of attempts from 1 to 100/],
        [{ max_attempts: -1.5 }, 'job.retry.max_attempts', /whole number of attempts from 1 to 100/],
        [{ max_attempts: '3' }, 'job.retry.max_attempts', /whole number of attempts from 1 to 100/],
        [{ backoff_seconds: -1 }, 'job.retry.backoff_seconds', /whole number of seconds from 0 to 86400/],
        [{ backoff_seconds: 0.5 }, 'job.retry.backoff_seconds', /whole number of seconds from 0 to 86400/],
        [{ oom_memory_factor: 0.5 }, 'job.retry.oom_memory_factor', /a number from 1 to 16/],
        [{ oom_memory_factor: 'x' }, 'job.retry.oom_memory_factor', /a number from 1 to 16/],
        [{ tries: 3 }, 'job.retry.tries', /unknown field/],
        ['timeout', 'job.retry', /must be an object/],
      ])('refuses retry %j with one 422 problem naming %s, and makes no job', async (retry, field, message) => {
        const before = await jobCount();
        const response = await t.call('POST', '/v1/jobs', {
          body: { job: validJob({ retry }), script: '#!/bin/bash' },
        });
        expect(response.status).toBe(422);
        const problem = await response.json();
        expect(problem.errors).toEqual([expect.objectContaining({ field, message: expect.stringMatching(message) })]);
        const after = await jobCount();
        expect(after).toBe(before);
      });

      it('refuses a policy beside requeue false', async () => {
        const response = await t.call('POST', '/v1/jobs', {
          body: { job: validJob({ requeue: false, retry: { on: ['oom'] } }), script: '#!/bin/bash' },
        });
        expect(response.status).toBe(422);
        expect((await response.json()).errors[0]).toMatchObject({ field: 'job.retry' });
      });

      it('the original path keeps its meaning: no retry unless requeue true', async () => {
        const submit = async (fields: Record<string, unknown>) => {
          const response = await t.call('POST', '/jobs/submit', {
            body: { job: validJob(fields), script: '#!/bin/bash\ntrue' },
          });
          expect(response.status).toBe(201);
          return String((await response.json()).job_id);
        };
        expect((await job(await submit({}))).retry).toBeNull();
        expect((await job(await submit({ requeue: true }))).retry).toEqual(DEFAULT_RETRY_POLICY);
      });
    });

    describe('by default', () => {
      it('a run stopped at its lease end (NODE_FAIL) is retried: PENDING, its attempt counted at its next start', async () => {
        const id = await submitRunning();
        expect(await end(id, 1, leaseEnd)).toBe('applied');
        expect(await job(id)).toMatchObject({ state: 'PENDING', reason: 'Priority', node: null, attempt: 1 });
        const retry = (await events(id)).at(-1)!;
        expect(retry).toMatchObject({ attempt: 1, to_state: 'PENDING' });
        expect(retry.reason).toBe('stopped at its lease end: retried (node_fail) as attempt 2 of 6');
        // Its ref was pushed with the report: it starts again as attempt 2, and attempt 1's reports are refused.
        expect(await start(id)).toBe(2);
        expect(await end(id, 1, { state: 'COMPLETED', exit_status: 0 })).toBe('refused');
        expect(await end(id, 2, { state: 'COMPLETED', exit_status: 0 })).toBe('applied');
        expect(await job(id)).toMatchObject({ state: 'COMPLETED', attempt: 2 });
      });

      it('a job lost with its node is retried; one whose cancel was asked ends CANCELLED', async () => {
        const lost = await submitRunning();
        const cancelled = await submitRunning();
        await t.call('POST', `/v1/jobs/${cancelled}/cancel`);
        await t.database.db.execute(sql`UPDATE nodes SET lease_expires_at = now() - interval '1 ms' WHERE name = 'n1'`);
        const result = await new Reconciler(t.queue).run(t.database.db);
        expect(result).toMatchObject({ nodesDown: ['n1'], requeued: 1 });
        expect(await job(lost)).toMatchObject({ state: 'PENDING', attempt: 1 });
        expect((await events(lost)).at(-1)).toMatchObject({
          actor: 'reconciler',
          reason: 'node n1 lost: retried (node_fail) as attempt 2 of 6',
        });
        expect(await job(cancelled)).toMatchObject({ state: 'CANCELLED' });
      });

      it('a launch its node could not make is retried; one the job made fail is not', async () => {
        const node = await submitRunning();
        expect(await end(node, 1, nodeLaunch)).toBe('applied');
        expect(await job(node)).toMatchObject({ state: 'PENDING' });
        expect((await events(node)).at(-1)!.reason).toMatch(
          /^cannot start on n1: fork: .*: retried \(node_launch_failed\) as attempt 2 of 6$/,
        );
        const own = await submitRunning();
        expect(await end(own, 1, jobLaunch)).toBe('applied');
        expect(await job(own)).toMatchObject({ state: 'FAILED', exit_code: { status: 0, signal: null } });
      });

      it('an application failure, a time limit, memory and a signal stand', async () => {
        for (const outcome of [
          exit(1),
          exit(75),
          { state: 'TIMEOUT', exit_signal: 15, error_msg: 'time limit' },
          { state: 'OUT_OF_MEMORY', exit_signal: 9, error_msg: 'memory' },
          { state: 'FAILED', exit_signal: 9, error_msg: 'killed by signal 9' },
        ]) {
          const id = await submitRunning();
          expect(await end(id, 1, outcome)).toBe('applied');
          expect((await job(id)).state).toBe(outcome.state);
        }
      });
    });

    it('requeue false: nothing is retried, not even a lost node', async () => {
      const id = await submitRunning({ requeue: false });
      expect(await end(id, 1, leaseEnd)).toBe('applied');
      expect(await job(id)).toMatchObject({ state: 'NODE_FAIL', error_msg: 'stopped at its lease end' });
      const launch = await submitRunning({ requeue: false });
      await end(launch, 1, nodeLaunch);
      expect((await job(launch)).state).toBe('FAILED');
    });

    it('exit codes named are retried, others stand; a time limit when asked', async () => {
      const retry = { exit_codes: [75], on: ['timeout'] };
      const tempfail = await submitRunning({ retry });
      await end(tempfail, 1, exit(75));
      expect(await job(tempfail)).toMatchObject({ state: 'PENDING' });
      expect((await events(tempfail)).at(-1)!.reason).toBe('exit status 75: retried (exit code 75) as attempt 2 of 6');
      const failed = await submitRunning({ retry });
      await end(failed, 1, exit(1));
      expect(await job(failed)).toMatchObject({ state: 'FAILED', exit_code: { status: 1, signal: null } });
      const timeout = await submitRunning({ retry });
      await end(timeout, 1, { state: 'TIMEOUT', exit_signal: 15, error_msg: 'time limit of 60 s reached' });
      expect(await job(timeout)).toMatchObject({ state: 'PENDING' });
      // node_fail is not in its `on`: a policy's classes replace the default ones.
      const lost = await submitRunning({ retry });
      await end(lost, 1, leaseEnd);
      expect((await job(lost)).state).toBe('NODE_FAIL');
    });

    it('max_attempts: the last attempt’s end stands', async () => {
      const id = await submitRunning({ retry: { max_attempts: 2 } });
      await end(id, 1, leaseEnd);
      expect(await start(id)).toBe(2);
      await end(id, 2, leaseEnd);
      expect(await job(id)).toMatchObject({ state: 'NODE_FAIL', attempt: 2 });
      const once = await submitRunning({ retry: { max_attempts: 1 } });
      await end(once, 1, leaseEnd);
      expect((await job(once)).state).toBe('NODE_FAIL');
    });

    it('an OOM retry asks for the factor more memory, at most what the partition and its nodes allow', async () => {
      const id = await submitRunning({ memory_per_node: '10G', retry: { on: ['oom'], oom_memory_factor: 1.5 } });
      const oom = { state: 'OUT_OF_MEMORY', exit_signal: 9, error_msg: 'used more than its 10240 MB of memory' };
      await end(id, 1, oom);
      expect(await job(id)).toMatchObject({ state: 'PENDING', memory_per_node: '15G' });
      expect((await events(id)).at(-1)!.reason).toBe(
        `${oom.error_msg}: retried (oom) as attempt 2 of 6, with 15360 MB of memory (was 10240 MB)`,
      );
      // Next: 22.5G, over the partition's maximum of 20G.
      await t.call('PUT', '/v1/partitions/batch', { body: { max_memory_per_job: '20G' } });
      try {
        expect(await start(id)).toBe(2);
        await end(id, 2, oom);
        expect(await job(id)).toMatchObject({ state: 'PENDING', memory_per_node: '20G' });
        // The nodes of the partition have 64 000 MB at most: a partition without a maximum is bounded by them.
        await t.call('PUT', '/v1/partitions/batch', { body: { max_memory_per_job: null } });
        const big = await submitRunning({ memory_per_node: '50000M', retry: { on: ['oom'], oom_memory_factor: 2 } });
        await end(big, 1, oom);
        expect(await job(big)).toMatchObject({ state: 'PENDING', memory_per_node: '64000M' });
      } finally {
        await t.call('PUT', '/v1/partitions/batch', { body: { max_memory_per_job: null } });
      }
    });

    it('a backoff waits out of the queue (BeginTime) until its time, then the reconciler queues it', async () => {
      const id = await submitRunning({ retry: { backoff_seconds: 30 } });
      const before = Date.now();
      await end(id, 1, leaseEnd);
      const waiting = await job(id);
      expect(waiting).toMatchObject({ state: 'PENDING', reason: 'BeginTime' });
      const eligible = Date.parse(waiting.eligible_time);
      expect(eligible).toBeGreaterThanOrEqual(before + 29_000);
      expect((await events(id)).at(-1)!.reason).toBe(
        'stopped at its lease end: retried (node_fail) as attempt 2 of 6, after 30 s',
      );
      const refs = async () =>
        (await queryRows(t.database.db, sql`SELECT job_id FROM queue_refs WHERE job_id = ${Number(id)}`)).length;
      expect(await refs()).toBe(0);
      // Before its time the reconciler leaves it; at its time it is queued, and starts as attempt 2.
      await new Reconciler(t.queue, { sweepAfterMs: 0 }, () => new Date(eligible - 1000)).run(t.database.db);
      expect(await job(id)).toMatchObject({ reason: 'BeginTime' });
      await new Reconciler(t.queue, { sweepAfterMs: 0 }, () => new Date(eligible + 1000)).run(t.database.db);
      expect((await job(id)).reason).not.toBe('BeginTime');
      expect(await refs()).toBe(1);
      expect(await start(id)).toBe(2);
    });
  });
}
