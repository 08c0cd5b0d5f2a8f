/**
 * The API's narrow windows (issue 15, item 1), each failed by its fault point (api/fault-points.ts) as if the process
 * died right after the commit, then retried as a client or a daemon retries: the outcome is exact. One job per
 * submit, dispatched once; one attempt per confirm, answered again to its node; one applied event per report.
 */
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Reconciler } from '../api/reconciler.js';
import type { FaultPoint } from '../api/fault-points.js';
import { queryRows } from '../shared/db/query-rows.js';
import { jobEvents, jobs } from '../shared/db/schema.js';
import { ioredisClient } from '../shared/queue/redis/ioredis-client.js';
import { RedisJobQueue } from '../shared/queue/redis/redis-job-queue.js';
import { ADMIN_TOKEN, createTestApp, validJob, type TestApp } from './helpers/test-app.js';
import { deleteKeys, REDIS_URL, redisUnreachable } from './helpers/test-redis.js';

const capacity = { partitions: ['batch'], cpus: 8, memory_mb: 64_000 };
const claimBody = { ...capacity, free_cpus: 8, free_memory_mb: 64_000 };
const body = { job: validJob(), script: '#!/bin/bash\ntrue' };

class InjectedCrash extends Error {}

describe.skipIf(await redisUnreachable())('the API cut off right after a commit', () => {
  let t: TestApp;
  let queue: RedisJobQueue;
  const prefix = `test:faults:${Date.now().toString(36)}:`;
  /** The points armed to fail once, at their next pass. */
  const armed = new Set<FaultPoint>();
  /** What runs once at a point's next pass, instead of a crash: another request landing in that window. */
  const actions = new Map<FaultPoint, () => Promise<void>>();
  let node: string;

  beforeAll(async () => {
    // Each injected crash is logged as the fault it stands for; the test asserts its outcome instead.
    vi.spyOn(console, 'error').mockImplementation(() => {});
    queue = new RedisJobQueue(ioredisClient(REDIS_URL), prefix);
    t = await createTestApp(
      { name: 'pglite', skip: undefined },
      {
        queue,
        faults: async (point) => {
          const action = actions.get(point);
          if (action) {
            actions.delete(point);
            return action();
          }
          if (armed.delete(point)) throw new InjectedCrash(`injected at ${point}`);
        },
      },
    );
    node = await t.token('node', 'n1');
    await t.call('POST', '/v1/nodes/n1/heartbeat', { token: node, body: capacity });
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await t?.close();
    await queue?.close();
    await deleteKeys(prefix);
  });

  const submit = (key: string) =>
    Promise.resolve(
      t.app.request('/v1/jobs', {
        method: 'POST',
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json', 'Idempotency-Key': key },
        body: JSON.stringify(body),
      }),
    );
  const claim = async () =>
    (
      (await (await t.call('POST', '/v1/nodes/n1/claim', { token: node, body: claimBody })).json()).refs as {
        id: string;
      }[]
    ).map((ref) => ref.id);
  const confirm = (ids: string[]) => t.call('POST', '/v1/nodes/n1/confirm', { token: node, body: { job_ids: ids } });
  const jobRow = async (id: string) =>
    (
      await t.database.db
        .select()
        .from(jobs)
        .where(eq(jobs.id, Number(id)))
    )[0]!;

  it('submit: committed, never pushed: the retry is the same job, and the reconciler dispatches it once', async () => {
    armed.add('submit.committed');
    const cut = await submit('cut-after-commit');
    expect(cut.status).toBe(500);
    const [made] = await queryRows(t.database.db, sql`SELECT max(id) AS id FROM jobs`);
    const id = String(made!.id);
    // Committed, PENDING, and not in the queue: no node can see it yet.
    expect(await jobRow(id)).toMatchObject({ state: 'PENDING' });
    expect(await queue.missing([Number(id)])).toEqual([Number(id)]);

    const retry = await submit('cut-after-commit');
    expect(retry.status).toBe(201);
    expect((await retry.json()).id).toBe(id);
    expect(await queryRows(t.database.db, sql`SELECT id FROM jobs WHERE id > ${Number(id)}`)).toEqual([]);

    // The sweep finds the job missing from the queue and pushes it; a second run finds it there.
    const reconciler = new Reconciler(queue, { sweepAfterMs: 0 });
    expect((await reconciler.run(t.database.db)).swept).toBe(1);
    expect((await new Reconciler(queue, { sweepAfterMs: 0 }).run(t.database.db)).swept).toBe(0);
    expect(await claim()).toEqual([id]);
    expect(await claim()).toEqual([]);
    expect((await (await confirm([id])).json()).jobs.map((job: { id: string }) => job.id)).toEqual([id]);
  });

  it('confirm: the attempt is committed, its answer lost: the retried confirm answers the same attempt', async () => {
    const id = await t.submit(validJob());
    expect(await claim()).toEqual([id]);
    armed.add('confirm.committed');
    expect((await confirm([id])).status).toBe(500);
    expect(await jobRow(id)).toMatchObject({ state: 'RUNNING', attempt: 1, nodeName: 'n1' });

    const retried = await (await confirm([id])).json();
    expect(retried.jobs).toMatchObject([{ id, attempt: 1 }]);
    expect(retried.dropped).toEqual([]);
    expect(await jobRow(id)).toMatchObject({ state: 'RUNNING', attempt: 1 });
    const starts = await t.database.db
      .select()
      .from(jobEvents)
      .where(and(eq(jobEvents.jobId, Number(id)), eq(jobEvents.toState, 'RUNNING')));
    expect(starts).toHaveLength(1);
  });

  it('events: applied, the acknowledgement lost: the retried batch is acknowledged as duplicates, applied once', async () => {
    const id = await t.submit(validJob());
    expect(await claim()).toEqual([id]);
    await confirm([id]);
    const events = [
      { kind: 'started', job_id: id, attempt: 1, pid: 4242, cpu_ids: [0] },
      { kind: 'finished', job_id: id, attempt: 1, state: 'COMPLETED', exit_status: 0, exit_signal: null },
    ];
    const report = () => t.call('POST', '/v1/nodes/n1/events', { token: node, body: { events } });
    armed.add('events.committed');
    expect((await report()).status).toBe(500);
    expect(await jobRow(id)).toMatchObject({ state: 'COMPLETED', exitStatus: 0 });

    const retried = await report();
    expect(retried.status).toBe(200);
    expect((await retried.json()).results.map((r: { result: string }) => r.result)).toEqual(['duplicate', 'duplicate']);
    const ends = await t.database.db
      .select()
      .from(jobEvents)
      .where(and(eq(jobEvents.jobId, Number(id)), eq(jobEvents.toState, 'COMPLETED')));
    expect(ends).toHaveLength(1);
  });
  it("hold: a release committed before the hold takes out the job's ref keeps its new ref in the queue", async () => {
    const id = (await (await submit('held-then-released')).json()).id as string;
    actions.set('hold.committed', async () => {
      expect((await t.call('POST', `/v1/jobs/${id}/release`)).status).toBe(200);
    });
    expect((await t.call('POST', `/v1/jobs/${id}/hold`)).status).toBe(200);
    expect((await jobRow(id)).reason).toBe('Priority');
    expect(await queue.missing([Number(id)])).toEqual([]);
    expect(await claim()).toEqual([id]);
    expect((await confirm([id])).status).toBe(200);
  });
  it("hold of an array: a release committed before the hold takes out the tasks' refs keeps their new refs", async () => {
    const submitted = await t.call('POST', '/v1/jobs', { body: { ...body, job: { ...body.job, array: '0-2' } } });
    const first = (await submitted.json()).id as string;
    actions.set('hold.committed', async () => {
      expect((await t.call('POST', `/v1/jobs/${first}/release`)).status).toBe(200);
    });
    expect((await t.call('POST', `/v1/jobs/${first}/hold`)).status).toBe(200);
    const tasks = await t.database.db
      .select()
      .from(jobs)
      .where(eq(jobs.arrayJobId, Number(first)));
    expect(tasks.map((task) => task.reason)).toEqual(['Priority', 'Priority', 'Priority']);
    expect(await queue.missing(tasks.map((task) => task.id))).toEqual([]);
    await t.call('POST', `/v1/jobs/${first}/cancel`);
  });
});
