/**
 * The original SCNS-Conductor's paths keep its meanings (../shared/original-contract.md): time limits read its way,
 * unknown fields ignored, its states, exit codes, CPU figures, timestamps and messages. The shapes themselves are
 * held to JSON schemas on both hosts in original-contract.test.ts.
 */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../api/app.js';
import { jobs, nodes } from '../shared/db/schema.js';
import type { JobState } from '../shared/job/job-state.js';
import { PostgresJobQueue } from '../shared/queue/postgres-job-queue.js';
import { moveJob } from './helpers/job-states.js';
import { ADMIN_TOKEN, createTestApp, validJob, type TestApp } from './helpers/test-app.js';
import { backends, createTestDatabase } from './helpers/test-databases.js';

const script = '#!/bin/bash\ntrue';
// Naive UTC, as the original's pydantic wrote it: no zone designator, six digits of fraction or none.
const ORIGINAL_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$/;

for (const backend of await backends()) {
  describe.skipIf(backend.skip)(`original paths on ${backend.name}`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(backend);
    });
    afterAll(() => t?.close());

    const submitOriginal = async (job: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
      const response = await t.call('POST', '/jobs/submit', { body: { job, script, ...extra } });
      expect(response.status, await response.clone().text()).toBe(201);
      return ((await response.json()) as { job_id: string }).job_id;
    };
    const query = async (id: string | number) => (await t.call('GET', `/jobs/query/${id}`)).json();
    const v1Job = async (id: string | number) => (await t.call('GET', `/v1/jobs/${id}`)).json();
    const setJob = (id: string | number, { state, ...values }: Partial<typeof jobs.$inferInsert>) =>
      moveJob(t.database.db, id, state ?? 'PENDING', values);

    it('POST /jobs/submit answers 201 {"job_id": "<id>"}', async () => {
      const response = await t.call('POST', '/jobs/submit', { body: { job: validJob(), script } });
      expect(response.status).toBe(201);
      const body = await response.json();
      expect(Object.keys(body)).toEqual(['job_id']);
      expect(body.job_id).toMatch(/^[1-9]\d*$/);
    });

    // [time_limit as the original's client sends it, the limit in seconds, its limit_time]
    it.each([
      ['30', 1800, '0:30:00'],
      ['1:30', 5400, '1:30:00'],
      ['1:30:15', 5415, '1:30:15'],
      ['2-12', 216000, '2-12:00:00'],
      ['2-12:30', 217800, '2-12:30:00'],
      ['2-12:30:15', 217815, '2-12:30:15'],
      ['1:90', 9000, '2:30:00'],
      [' 45 ', 2700, '0:45:00'],
      ['+2', 7200, '2:00:00'],
      ['1_0', 36000, '10:00:00'],
      ['0', null, 'UNLIMITED'],
      ['0:00', null, 'UNLIMITED'],
      ['0-0', null, 'UNLIMITED'],
    ])('reads time_limit %j as the original did', async (timeLimit, seconds, limitTime) => {
      const id = await submitOriginal(validJob({ time_limit: timeLimit }));
      expect((await query(id)).time.limit_time).toBe(limitTime);
      const [row] = await t.database.db
        .select()
        .from(jobs)
        .where(eq(jobs.id, Number(id)));
      expect(row!.timeLimitSeconds).toBe(seconds);
    });

    it('reads "1:30" as an hour and a half on the original path and as 90 seconds on /v1', async () => {
      const original = await submitOriginal(validJob({ time_limit: '1:30' }));
      const slurm = await t.submit(validJob({ time_limit: '1:30' }));
      expect((await v1Job(original)).time_limit).toBe('0-01:30:00');
      expect((await v1Job(slurm)).time_limit).toBe('0-00:01:30');
      expect((await query(slurm)).time.limit_time).toBe('0:01:30');
    });

    it('ignores unknown fields as the original did, and names them in the warnings /v1 shows', async () => {
      const id = await submitOriginal(validJob({ time_limt: '10', qos: 'high' }), { callback_url: 'http://x' });
      expect((await v1Job(id)).warnings).toEqual([
        'unknown field "callback_url" ignored',
        'unknown field "job.time_limt" ignored',
        'unknown field "job.qos" ignored',
      ]);
      expect((await v1Job(await t.submit())).warnings).toEqual([]);
    });

    it("ignores /v1's own fields as unknown ones, valid or not (a bad one once crashed the submit)", async () => {
      const id = await submitOriginal(validJob({ signal: false, open_mode: 'append' }));
      expect(await v1Job(id)).toMatchObject({
        signal: null,
        open_mode: 'truncate',
        warnings: ['unknown field "job.signal" ignored', 'unknown field "job.open_mode" ignored'],
      });
    });

    it('takes the fields added since the original when valid, and ignores them, named, when not', async () => {
      const valid = await submitOriginal(validJob({ priority: 7, requeue: true }));
      expect(await v1Job(valid)).toMatchObject({ priority: 7, requeue: true, warnings: [] });
      const invalid = await submitOriginal(validJob({ priority: 'high', requeue: 'sometimes' }));
      const job = await v1Job(invalid);
      expect(job).toMatchObject({ priority: 0, requeue: false });
      expect(job.warnings).toEqual([
        expect.stringMatching(/^field "job.priority" ignored: /),
        expect.stringMatching(/^field "job.requeue" ignored: /),
      ]);
    });

    it("takes numbers and booleans as pydantic's lax mode did", async () => {
      const id = await submitOriginal(validJob({ ntasks_per_node: ' 2 ', cpus_per_task: '3', exclusive: 'yes' }));
      expect(await v1Job(id)).toMatchObject({ ntasks_per_node: 2, cpus_per_task: 3, cpus: 6, exclusive: true });
      const other = await submitOriginal(validJob({ ntasks_per_node: true, cpus_per_task: 2.0, exclusive: 0 }));
      expect(await v1Job(other)).toMatchObject({ ntasks_per_node: 1, cpus_per_task: 2, exclusive: false });
    });

    it('names a "__proto__" field it ignored too, and takes nothing from it', async () => {
      const raw = `{"job": {"name": "p", "__proto__": {"account": "other", "cpus_per_task": 64}}, "__proto__": {}, "script": "true"}`;
      const response = await t.call('POST', '/jobs/submit', { rawBody: raw });
      expect(response.status).toBe(201);
      const job = await v1Job((await response.json()).job_id);
      expect(job).toMatchObject({ account: 'default', cpus_per_task: 1 });
      expect(job.warnings).toEqual(['unknown field "__proto__" ignored', 'unknown field "job.__proto__" ignored']);
    });

    it('names at most 20 unknown fields, escaped, and counts the rest', async () => {
      const many = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`f${i}`, i]));
      const id = await submitOriginal(validJob({ ...many, 'a\u0000b': 1 }));
      const { warnings } = await v1Job(id);
      expect(warnings).toHaveLength(21);
      expect(warnings[20]).toBe('6 more unknown fields ignored');
      const odd = await submitOriginal(validJob({ 'a\u0000b\nc': 1 }));
      expect((await v1Job(odd)).warnings).toEqual(['unknown field "job.a\\u0000b\\nc" ignored']);
    });

    it('GET /jobs/query/{id} gives a PENDING job the meanings the original gave it', async () => {
      const id = await submitOriginal(validJob({ name: 'q', current_working_directory: '/scratch/q' }));
      const body = await query(id);
      expect(body).toMatchObject({
        job_id: id,
        state: 'PENDING',
        slurm_state: 'PENDING',
        error_msg: null,
        time: { elapsed_time: '0-00:00:00', limit_time: '1-02:03:04', start_time: null, end_time: null },
        detail: {
          job_name: 'q',
          user: 'physics',
          partition: 'batch',
          account: 'physics',
          work_dir: '/scratch/q',
          exit_code: ':',
          allocated_cpus: 4, // ntasks_per_node × cpus_per_task, from submit on, as the original set it
          allocated_nodes: 1,
          node_list: '',
          data_source: 'API',
        },
      });
      expect(body.time.submit_time).toMatch(ORIGINAL_TIME);
      expect(body.time.eligible_time).toMatch(ORIGINAL_TIME);
      expect(new Date(`${body.time.submit_time}Z`).getTime()).toBeGreaterThan(Date.now() - 3_600_000);
      // No log store here: the original's error line, still a string.
      expect(body.job_log).toEqual({
        stdout: '[读取日志文件出错: this API has no log store configured]',
        stderr: '[读取日志文件出错: this API has no log store configured]',
      });
    });

    it('takes a job id as the original took an int: leading zeros, a sign, spaces, "_", a zero fraction', async () => {
      const id = await t.submit();
      for (const form of [`00${id}`, `%2B${id}`, `%20${id}%20`, `${id}.0`]) expect((await query(form)).job_id).toBe(id);
      // "_" between digits is an integer too: no such job, not a bad request.
      expect((await t.call('GET', '/jobs/query/9_999_999')).status).toBe(404);
    });

    it('GET /jobs/query shows a finished job with its exit code, node, naive times and elapsed time', async () => {
      const id = await t.submit();
      await setJob(id, {
        state: 'FAILED',
        nodeName: 'n7',
        exitStatus: 3,
        exitSignal: null,
        startTime: new Date('2026-01-01T00:00:00Z'),
        endTime: new Date('2026-01-02T01:02:03.450Z'),
        errorMsg: 'exit status 3',
      });
      expect(await query(id)).toMatchObject({
        state: 'FAILED',
        error_msg: 'exit status 3',
        time: {
          elapsed_time: '1-01:02:03',
          start_time: '2026-01-01T00:00:00',
          end_time: '2026-01-02T01:02:03.450000',
        },
        detail: { exit_code: '3:0', node_list: 'n7', allocated_cpus: 4, allocated_nodes: 1 },
      });
    });

    it.each([
      ['TIMEOUT', 'time limit of 60 s reached', 0, 15],
      ['OUT_OF_MEMORY', 'used more than its 100 MB of memory', 0, 9],
      ['NODE_FAIL', 'node n1 stopped answering', null, null],
    ] as [JobState, string, number | null, number | null][])(
      "shows a %s job as FAILED, the original's word, with the real state beside it",
      async (state, errorMsg, exitStatus, exitSignal) => {
        const id = await t.submit();
        await setJob(id, { state, errorMsg, exitStatus, exitSignal, startTime: new Date(), endTime: new Date() });
        const body = await query(id);
        expect(body).toMatchObject({ state: 'FAILED', slurm_state: state, error_msg: `${state}: ${errorMsg}` });
        expect(body.detail.exit_code).toBe(exitStatus === null ? ':' : `${exitStatus}:${exitSignal}`);
      },
    );

    it('POST /jobs/cancel/{id} answers the original\'s {"msg": "取消成功"}, whatever the job was', async () => {
      const id = await t.submit();
      const first = await t.call('POST', `/jobs/cancel/${id}`);
      expect(first.status).toBe(200);
      expect(await first.json()).toEqual({ msg: '取消成功', effect: 'cancelled' });
      const again = await t.call('POST', `/jobs/cancel/${id}`);
      expect(await again.json()).toEqual({ msg: '取消成功', effect: 'none' });

      const running = await t.submit();
      await setJob(running, { state: 'RUNNING', nodeName: 'n1', startTime: new Date() });
      expect(await (await t.call('POST', `/jobs/cancel/${running}`)).json()).toEqual({
        msg: '取消成功',
        effect: 'cancel_requested',
      });

      // Cancelled before it ran, it has no exit code of its own: the original's, for a job it cancelled.
      expect((await query(id)).detail.exit_code).toBe('-1:15');

      // An ended job: the original answered 200 and changed nothing; /v1 answers 409.
      const done = await t.submit();
      await setJob(done, { state: 'COMPLETED', exitStatus: 0, endTime: new Date() });
      const ended = await t.call('POST', `/jobs/cancel/${done}`);
      expect(ended.status).toBe(200);
      expect(await ended.json()).toEqual({ msg: '取消成功', effect: 'none' });
      expect((await v1Job(done)).state).toBe('COMPLETED');
      expect((await t.call('POST', `/v1/jobs/${done}/cancel`)).status).toBe(409);

      expect((await t.call('POST', '/jobs/cancel/31337')).status).toBe(404);
    });

    it('GET / answers what the original answered, with no token', async () => {
      const response = await t.call('GET', '/', { token: null });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ service: 'SCNS-Conductor API', version: '1.0.0', status: 'running' });
    });

    it('GET /health answers the original with no token, and 503 unhealthy when the database does not answer', async () => {
      const ok = await t.call('GET', '/health', { token: null });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ status: 'healthy', service: 'scns-conductor-api' });

      const database = await createTestDatabase(backend);
      const app = createApp({ db: database.db, queue: new PostgresJobQueue(database.db), adminToken: ADMIN_TOKEN });
      await database.close();
      await database.destroy();
      const down = await app.request('/health');
      expect(down.status).toBe(503);
      expect(await down.json()).toEqual({
        status: 'unhealthy',
        service: 'scns-conductor-api',
        error: 'the database did not answer',
      });
    });
  });

  describe.skipIf(backend.skip)(`the dashboards on ${backend.name}`, () => {
    let t: TestApp;
    let ids: Record<'low' | 'high' | 'low2' | 'mid' | 'run1' | 'run2' | 'late', number>;
    beforeAll(async () => {
      t = await createTestApp(backend);
      const { db } = t.database;
      await db.insert(nodes).values([
        { name: 'n1', partitions: ['batch'], cpus: 8, memoryMb: 32768, state: 'UP', lastHeartbeat: new Date() },
        { name: 'n2', partitions: ['batch', 'gpu'], cpus: 4, memoryMb: 16384, state: 'DRAINING' },
        { name: 'n3', partitions: ['batch'], cpus: 16, memoryMb: 65536, state: 'DOWN' },
      ]);
      const submit = async (job: Record<string, unknown>) => Number(await t.submit(validJob(job)));
      ids = {
        low: await submit({ priority: 0, name: 'low' }),
        high: await submit({ priority: 10, name: 'high' }),
        low2: await submit({ priority: 0, name: 'low2' }),
        mid: await submit({ priority: 5, name: 'mid' }),
        run1: await submit({ cpus_per_task: 3, ntasks_per_node: 1, memory_per_node: '4G' }),
        run2: await submit({ cpus_per_task: 1, ntasks_per_node: 2, memory_per_node: '1G' }),
        late: await submit({ name: 'timed-out' }),
      };
      await moveJob(db, ids.run1, 'RUNNING', { startTime: new Date('2026-01-01T00:00:00Z'), nodeName: 'n1' });
      await moveJob(db, ids.run2, 'RUNNING', { startTime: new Date('2026-01-01T01:00:00Z'), nodeName: 'n2' });
      await moveJob(db, ids.late, 'TIMEOUT');
      await t.call('POST', `/v1/jobs/${ids.low2}/cancel`);
    });
    afterAll(() => t?.close());

    it('GET /dashboard: exact counts in the original names, TIMEOUT counted as failed', async () => {
      const body = await (await t.call('GET', '/dashboard')).json();
      expect(body.job_stats).toEqual({
        total: 7,
        running: 2,
        pending: 3,
        completed: 0,
        failed: 1,
        cancelled: 1,
        by_state: {
          PENDING: 3,
          RUNNING: 2,
          COMPLETED: 0,
          FAILED: 0,
          CANCELLED: 1,
          TIMEOUT: 1,
          OUT_OF_MEMORY: 0,
          NODE_FAIL: 0,
        },
      });
    });

    it('GET /dashboard: CPU figures from the real nodes, per node and in all', async () => {
      const body = await (await t.call('GET', '/dashboard')).json();
      // DOWN nodes offer nothing; DRAINING ones take no new work, so only UP nodes' free cores are available.
      expect(body.resource_stats).toEqual({
        total_cpus: 12,
        allocated_cpus: 5,
        available_cpus: 5,
        utilization_rate: 41.67,
      });
      expect(body.node_info).toEqual([
        {
          node_name: 'n1',
          partition: 'batch',
          total_cpus: 8,
          allocated_cpus: 3,
          available_cpus: 5,
          available: true,
          utilization_rate: 37.5,
          state: 'UP',
        },
        {
          node_name: 'n2',
          partition: 'batch,gpu',
          total_cpus: 4,
          allocated_cpus: 2,
          available_cpus: 0,
          available: false,
          utilization_rate: 50,
          state: 'DRAINING',
        },
        {
          node_name: 'n3',
          partition: 'batch',
          total_cpus: 16,
          allocated_cpus: 0,
          available_cpus: 0,
          available: false,
          utilization_rate: 0,
          state: 'DOWN',
        },
      ]);
    });

    it('GET /dashboard: pending jobs in queue order, running ones newest first, with integer job ids', async () => {
      const body = await (await t.call('GET', '/dashboard')).json();
      expect(body.pending_jobs.map((j: { job_id: number }) => j.job_id)).toEqual([ids.high, ids.mid, ids.low]);
      expect(body.running_jobs.map((j: { job_id: number }) => j.job_id)).toEqual([ids.run2, ids.run1]);
      expect(body.running_jobs[1]).toMatchObject({
        job_id: ids.run1,
        state: 'RUNNING',
        allocated_cpus: 3,
        start_time: '2026-01-01T00:00:00',
        node: 'n1',
      });
      expect(body.pending_jobs[0].submit_time).toMatch(ORIGINAL_TIME);
      expect(body.pending_jobs[0].start_time).toBeNull();
    });

    it('GET /v1/dashboard keeps the richer view: states, memory, node states', async () => {
      const response = await t.call('GET', '/v1/dashboard');
      expect(response.status).toBe(200);
      const body = await response.json();
      expect(body.jobs).toMatchObject({ total: 7, by_state: { PENDING: 3, RUNNING: 2, CANCELLED: 1, TIMEOUT: 1 } });
      expect(body.resources).toEqual({
        nodes: { total: 3, up: 1, draining: 1, down: 1 },
        cpus: { total: 12, allocated: 5, idle: 5 },
        memory_mb: { total: 49152, allocated: 5120, idle: 28672 },
      });
      expect(body.nodes.map((n: { name: string; cpus_allocated: number }) => [n.name, n.cpus_allocated])).toEqual([
        ['n1', 3],
        ['n2', 2],
        ['n3', 0],
      ]);
      expect(body.pending.map((j: { job_id: string }) => Number(j.job_id))).toEqual([ids.high, ids.mid, ids.low]);
      expect(body.running.map((j: { job_id: string }) => Number(j.job_id))).toEqual([ids.run2, ids.run1]);
    });

    it("GET /dashboard counts past the original's cap of 1,000 per state, and lists 20", async () => {
      const many = await createTestApp(backend);
      try {
        const template = Number(await many.submit());
        await many.database.db.execute(sql`
          INSERT INTO jobs (account, name, partition, state, submitted_by, script, stdout_pattern, stderr_pattern,
                            environment, ntasks_per_node, cpus_per_task, cpus, memory_mb, time_limit_seconds)
          SELECT account, name, partition, state, submitted_by, script, stdout_pattern, stderr_pattern,
                 environment, ntasks_per_node, cpus_per_task, cpus, memory_mb, time_limit_seconds
          FROM jobs, generate_series(1, 1100) WHERE id = ${template}`);
        const body = await (await many.call('GET', '/dashboard')).json();
        expect(body.job_stats).toMatchObject({ total: 1101, pending: 1101 });
        expect(body.pending_jobs).toHaveLength(20);
      } finally {
        await many.close();
      }
    });
  });
}

describe('a database that went away', async () => {
  const [pglite] = await backends();
  it('makes every route answer 503 problem+json, not a 500', async () => {
    const database = await createTestDatabase(pglite!);
    const app = createApp({ db: database.db, queue: new PostgresJobQueue(database.db), adminToken: ADMIN_TOKEN });
    await database.close();
    await database.destroy();
    const response = await app.request('/v1/jobs', {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ job: validJob(), script: 'true' }),
    });
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ code: 'database_unavailable' });
  });
});
