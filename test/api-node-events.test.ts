import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { backends } from './helpers/test-databases.js';
import { moveJob } from './helpers/job-states.js';
import { parseMemorySize } from '../shared/job/memory-size.js';

const capacity = { partitions: ['batch'], cpus: 8, memory_mb: 64_000 };

for (const backend of await backends()) {
  describe.skipIf(backend.skip)(`node events on ${backend.name}`, () => {
    let t: TestApp;
    let n1: string;
    let n2: string;
    beforeAll(async () => {
      t = await createTestApp(backend);
      n1 = await t.token('node', 'n1');
      n2 = await t.token('node', 'n2');
      for (const [node, token] of [
        ['n1', n1],
        ['n2', n2],
      ] as const) {
        await t.call('POST', `/v1/nodes/${node}/heartbeat`, { token, body: capacity });
      }
    });
    afterAll(() => t?.close());

    /** A job RUNNING on the node, through the real claim and confirm. */
    async function runningOn(node: string, token: string): Promise<string> {
      await t.database.db.execute(sql`DELETE FROM queue_refs`);
      const id = await t.submit();
      const claim = { ...capacity, free_cpus: 8, free_memory_mb: 64_000 };
      await t.call('POST', `/v1/nodes/${node}/claim`, { token, body: claim });
      const confirmed = await (
        await t.call('POST', `/v1/nodes/${node}/confirm`, { token, body: { job_ids: [id] } })
      ).json();
      expect(confirmed.jobs).toHaveLength(1);
      return id;
    }

    const report = async (events: unknown[], node = 'n1', token = n1) => {
      const response = await t.call('POST', `/v1/nodes/${node}/events`, { token, body: { events } });
      expect(response.status).toBe(200);
      return ((await response.json()).results as { result: string }[]).map((r) => r.result);
    };
    const job = async (id: string) => (await t.call('GET', `/v1/jobs/${id}`)).json();

    it('applies started and finished once each; a retried batch is all duplicates', async () => {
      const id = await runningOn('n1', n1);
      const batch = [
        { kind: 'started', job_id: id, attempt: 1, pid: 4242, cpu_ids: [0, 1] },
        { kind: 'finished', job_id: id, attempt: 1, state: 'COMPLETED', exit_status: 0, exit_signal: null },
      ];
      expect(await report(batch)).toEqual(['applied', 'applied']);
      expect(await report(batch)).toEqual(['duplicate', 'duplicate']);
      expect(await job(id)).toMatchObject({
        state: 'COMPLETED',
        cpu_ids: [0, 1],
        exit_code: { status: 0, signal: null },
      });
      const events = (await (await t.call('GET', `/v1/jobs/${id}/events`)).json()).events;
      expect(events.map((e: { to_state: string }) => e.to_state)).toEqual([
        'PENDING',
        'RUNNING',
        'RUNNING',
        'COMPLETED',
      ]);
      expect(events[2].reason).toContain('process 4242');
    });

    it('keeps exit status and signal apart', async () => {
      const id = await runningOn('n1', n1);
      await report([
        {
          kind: 'finished',
          job_id: id,
          attempt: 1,
          state: 'FAILED',
          exit_status: null,
          exit_signal: 9,
          error_msg: 'killed',
        },
      ]);
      expect(await job(id)).toMatchObject({
        state: 'FAILED',
        exit_code: { status: null, signal: 9 },
        error_msg: 'killed',
      });
      expect((await (await t.call('GET', `/jobs/query/${id}`)).json()).detail.exit_code).toBe('0:9');
    });

    it("keeps a job's own launch failure (FAILED, status 0, no signal) as launch_failed: job, 0:0; a node's not", async () => {
      const lastReason = async (id: string) =>
        (await (await t.call('GET', `/v1/jobs/${id}/events`)).json()).events.at(-1).reason;
      const own = await runningOn('n1', n1);
      const error_msg = 'cannot start on n1: cannot open output /proc/slurm-1.out: Permission denied';
      const finished = { kind: 'finished', attempt: 1, state: 'FAILED', exit_signal: null, error_msg };
      expect(await report([{ ...finished, job_id: own, exit_status: 0 }])).toEqual(['applied']);
      expect(await job(own)).toMatchObject({ state: 'FAILED', exit_code: { status: 0, signal: null }, error_msg });
      expect((await (await t.call('GET', `/jobs/query/${own}`)).json()).detail.exit_code).toBe('0:0');
      expect(await lastReason(own)).toBe(`launch_failed: job: ${error_msg}`);
      const node = await runningOn('n1', n1);
      const cores = 'not enough free cores on n1 (0 free)';
      await report([{ ...finished, job_id: node, exit_status: null, error_msg: cores }]);
      expect(await lastReason(node)).toBe(cores);
    });

    it("refuses for good an old attempt's report, and another node's", async () => {
      const id = await runningOn('n1', n1);
      // The job was requeued and started again, on n2, as attempt 2.
      await moveJob(t.database.db, id, 'PENDING');
      await t.queue.enqueue([
        {
          id: Number(id),
          partition: 'batch',
          cpus: 4,
          memoryMb: 16384,
          priority: 0,
          exclusive: false,
          user: null,
          timeLimitSeconds: null,
        },
      ]);
      await t.call('POST', '/v1/nodes/n2/claim', {
        token: n2,
        body: { ...capacity, free_cpus: 8, free_memory_mb: 64_000 },
      });
      await t.call('POST', '/v1/nodes/n2/confirm', { token: n2, body: { job_ids: [id] } });
      expect((await job(id)).attempt).toBe(2);

      const old = { kind: 'finished', job_id: id, attempt: 1, state: 'COMPLETED', exit_status: 0, exit_signal: null };
      expect(await report([old])).toEqual(['refused']);
      expect(await report([{ ...old, attempt: 2 }])).toEqual(['refused']);
      expect(await job(id)).toMatchObject({ state: 'RUNNING', node: 'n2', attempt: 2 });
      expect(await report([{ ...old, attempt: 2 }], 'n2', n2)).toEqual(['applied']);
    });

    it('refuses events of a job that does not exist', async () => {
      expect(await report([{ kind: 'started', job_id: '987654', attempt: 1, pid: 1, cpu_ids: [0] }])).toEqual([
        'refused',
      ]);
    });

    it('keeps what a run used once, from its own node only; an end without it (an older daemon) is accepted', async () => {
      const id = await runningOn('n1', n1);
      const usage = {
        cpu_user_ms: 1500,
        cpu_system_ms: 500,
        max_rss_bytes: 200 * 2 ** 20,
        wall_ms: 4000,
        cpu_source: 'cgroup',
        memory_source: 'rusage',
      };
      const finished = {
        kind: 'finished',
        job_id: id,
        attempt: 1,
        state: 'COMPLETED',
        exit_status: 0,
        exit_signal: null,
      };
      // Another node's report of the run: refused, and what it says it used is not kept either.
      expect(await report([{ ...finished, usage: { ...usage, wall_ms: 1 } }], 'n2', n2)).toEqual(['refused']);
      expect(await job(id)).toMatchObject({ usage: null, efficiency: null });
      expect(await report([{ ...finished, usage }])).toEqual(['applied']);
      // A retried report changes nothing, whatever it says.
      expect(await report([{ ...finished, usage: { ...usage, wall_ms: 1 } }])).toEqual(['duplicate']);
      const shown = await job(id);
      expect(shown.usage).toEqual({ ...usage, attempt: 1, node: 'n1' });
      // seff: (user + system) / (wall × CPUs); max RSS / memory asked for.
      const memoryBytes = parseMemorySize(shown.memory_per_node) * 2 ** 20;
      expect(shown.efficiency).toEqual({
        cpu_percent: Math.round((10_000 * 2000) / (4000 * shown.cpus)) / 100,
        memory_percent: Math.round((10_000 * 200 * 2 ** 20) / memoryBytes) / 100,
      });
      const listed = (await (await t.call('GET', '/v1/jobs')).json()).jobs.find((j: { id: string }) => j.id === id);
      expect(listed).toMatchObject({ usage: shown.usage, efficiency: shown.efficiency });

      const older = await runningOn('n1', n1);
      expect(await report([{ ...finished, job_id: older }])).toEqual(['applied']);
      expect(await job(older)).toMatchObject({ state: 'COMPLETED', usage: null, efficiency: null });
    });

    it('ends a job whose cancel was asked for as CANCELLED', async () => {
      const id = await runningOn('n1', n1);
      await t.call('POST', `/v1/jobs/${id}/cancel`);
      await report([
        { kind: 'finished', job_id: id, attempt: 1, state: 'CANCELLED', exit_status: null, exit_signal: 15 },
      ]);
      expect(await job(id)).toMatchObject({ state: 'CANCELLED', cancel_requested: true });
    });

    it.each([
      [
        { kind: 'finished', job_id: '1', attempt: 1, state: 'PENDING', exit_status: null, exit_signal: null },
        'events.0',
      ],
      [{ kind: 'started', job_id: '1', attempt: 0, pid: 1, cpu_ids: [] }, 'events.0.attempt'],
      [{ kind: 'started', job_id: '1', attempt: 1, pid: 1, cpu_ids: [], extra: 1 }, 'events.0.extra'],
      [{ kind: 'paused', job_id: '1', attempt: 1 }, 'events.0.kind'],
      [
        {
          kind: 'finished',
          job_id: '1',
          attempt: 1,
          state: 'COMPLETED',
          exit_status: 0,
          exit_signal: null,
          usage: {
            cpu_user_ms: -1,
            cpu_system_ms: 0,
            max_rss_bytes: null,
            wall_ms: 0,
            cpu_source: 'rusage',
            memory_source: null,
          },
        },
        'events.0.usage.cpu_user_ms',
      ],
    ])('refuses event %j naming %s', async (event, field) => {
      const response = await t.call('POST', '/v1/nodes/n1/events', { token: n1, body: { events: [event] } });
      expect(response.status).toBe(422);
      const fields = (await response.json()).errors.map((e: { field: string }) => e.field);
      expect(fields.some((f: string) => f.startsWith(field))).toBe(true);
    });

    it('keeps a node to its own events endpoint', async () => {
      const event = { kind: 'started', job_id: '1', attempt: 1, pid: 1, cpu_ids: [0] };
      expect((await t.call('POST', '/v1/nodes/n2/events', { token: n1, body: { events: [event] } })).status).toBe(403);
    });
  });
}
