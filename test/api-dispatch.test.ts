import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Reconciler } from '../api/reconciler.js';
import { queryRows } from '../shared/db/query-rows.js';
import { CLUSTER_ID_PROTOCOL, PROTOCOL_HEADER, PROTOCOL_VERSION } from '../shared/protocol/protocol-version.js';
import { jobs } from '../shared/db/schema.js';
import { ioredisClient } from '../shared/queue/redis/ioredis-client.js';
import { DEFAULT_QUEUE_TUNING } from '../shared/queue/job-queue.js';
import { RedisJobQueue } from '../shared/queue/redis/redis-job-queue.js';
import { createTestApp, validJob, type TestApp } from './helpers/test-app.js';
import { backends } from './helpers/test-databases.js';
import { deleteKeys, REDIS_URL, redisUnreachable } from './helpers/test-redis.js';
import { moveJob } from './helpers/job-states.js';

const claimBody = { partitions: ['batch'], cpus: 8, memory_mb: 64_000, free_cpus: 8, free_memory_mb: 64_000 };

const claimCapacity = {
  node: 'n1',
  partitions: ['batch'],
  cpus: 8,
  memoryMb: 64_000,
  freeCpus: 8,
  freeMemoryMb: 64_000,
  runsAs: { any_user: true, users: [], unnamed: true },
};

/** Registers a node, as its daemon's first heartbeat does (the admin token may speak for any node). */
async function heartbeat(t: TestApp, node: string) {
  const response = await t.call('POST', `/v1/nodes/${node}/heartbeat`, {
    body: { partitions: ['batch'], cpus: 8, memory_mb: 64_000 },
  });
  if (response.status !== 200) throw new Error(`heartbeat: ${response.status} ${await response.text()}`);
}

for (const backend of await backends()) {
  describe.skipIf(backend.skip)(`dispatch through the API on ${backend.name}`, () => {
    let t: TestApp;
    let n1: string;
    beforeAll(async () => {
      t = await createTestApp(backend);
      n1 = await t.token('node', 'n1');
      for (const name of ['n1', 'n2', 'n3']) await heartbeat(t, name);
    });
    afterAll(() => t?.close());

    /** Empties the queue, so that each test claims only its own jobs. */
    const drain = () => t.database.db.execute(sql`DELETE FROM queue_refs`);

    it('pushes the ref of a submitted job, and removes it when the job is cancelled', async () => {
      const id = Number(await t.submit());
      expect(await t.queue.missing([id])).toEqual([]);
      await t.call('POST', `/v1/jobs/${id}/cancel`);
      expect(await t.queue.missing([id])).toEqual([id]);
    });

    it('marks a job confirmed to a daemon of protocol 3 (which knows no cluster id) as having its output at the old keys', async () => {
      const legacy = async (id: number) =>
        (await queryRows(t.database.db, sql`SELECT legacy_log_keys AS legacy FROM jobs WHERE id = ${id}`))[0]!.legacy;
      for (const protocol of [CLUSTER_ID_PROTOCOL - 1, PROTOCOL_VERSION]) {
        await drain();
        const id = await t.submit();
        const speak = (path: string, body: unknown) =>
          t.app.request(`/v1/nodes/n1/${path}`, {
            method: 'POST',
            headers: {
              Authorization: `Bearer ${n1}`,
              'Content-Type': 'application/json',
              [PROTOCOL_HEADER]: String(protocol),
            },
            body: JSON.stringify(body),
          });
        expect((await (await speak('claim', claimBody)).json()).refs).toMatchObject([{ id }]);
        expect((await (await speak('confirm', { job_ids: [id] })).json()).jobs).toMatchObject([{ id: String(id) }]);
        expect(await legacy(Number(id))).toBe(protocol < CLUSTER_ID_PROTOCOL);
      }
    });

    it('claims and confirms for a node: RUNNING there as attempt 1, with the script; a retried confirm gets it again until its start is reported', async () => {
      await drain();
      const id = await t.submit(
        validJob({ cpus_per_task: 2, ntasks_per_node: 1, memory_per_node: '2G' }),
        '#!/bin/bash\necho hi',
      );
      const claim = await t.call('POST', '/v1/nodes/n1/claim', { token: n1, body: claimBody });
      expect(claim.status).toBe(200);
      expect((await claim.json()).refs).toEqual([
        {
          id,
          partition: 'batch',
          cpus: 2,
          memory_mb: 2048,
          priority: 0,
          exclusive: false,
          user: null,
          // Written with the job (validJob's 1-02:03:04), for backfill.
          time_limit_seconds: 93_784,
        },
      ]);
      const confirm = await t.call('POST', '/v1/nodes/n1/confirm', { token: n1, body: { job_ids: [id] } });
      expect(confirm.status).toBe(200);
      const body = await confirm.json();
      expect(body.dropped).toEqual([]);
      expect(body.jobs).toMatchObject([
        {
          id,
          attempt: 1,
          script: '#!/bin/bash\necho hi',
          cpus: 2,
          memory_mb: 2048,
          standard_output: `out-${id}-relax.log`,
        },
      ]);
      const job = await (await t.call('GET', `/v1/jobs/${id}`)).json();
      expect(job).toMatchObject({ state: 'RUNNING', node: 'n1', attempt: 1, reason: null });
      expect(job.start_time).toMatch(/Z$/);
      const events = (await (await t.call('GET', `/v1/jobs/${id}/events`)).json()).events;
      expect(events.at(-1)).toMatchObject({
        from_state: 'PENDING',
        to_state: 'RUNNING',
        attempt: 1,
        actor: 'node:node-n1',
      });
      // The ref was settled with the confirm.
      expect(await t.queue.missing([Number(id)])).toEqual([Number(id)]);
      // The answer was lost, say: the same confirm again gets the same run (same attempt), and no second one.
      const confirmAgain = () => t.call('POST', '/v1/nodes/n1/confirm', { token: n1, body: { job_ids: [id] } });
      const again = await (await confirmAgain()).json();
      expect(again.dropped).toEqual([]);
      expect(again.jobs).toMatchObject([{ id, attempt: 1 }]);
      // Another node gets nothing of it.
      const other = await t.call('POST', '/v1/nodes/n2/confirm', { body: { job_ids: [id] } });
      expect(await other.json()).toEqual({
        jobs: [],
        dropped: [id],
        sequence: expect.any(Number),
        cluster_id: expect.any(String),
      });
      // Once the node has reported the start, a confirm drops it: the node runs it already.
      const started = await t.call('POST', '/v1/nodes/n1/events', {
        token: n1,
        body: { events: [{ kind: 'started', job_id: id, attempt: 1, pid: 4242, cpu_ids: [0, 1] }] },
      });
      expect(started.status).toBe(200);
      expect(await (await confirmAgain()).json()).toEqual({
        jobs: [],
        dropped: [id],
        sequence: expect.any(Number),
        cluster_id: expect.any(String),
      });
      expect((await (await t.call('GET', `/v1/jobs/${id}`)).json()).attempt).toBe(1);
    });

    it('drops a claimed ref whose job was cancelled before the confirm', async () => {
      await drain();
      const id = await t.submit();
      await t.call('POST', '/v1/nodes/n1/claim', { token: n1, body: claimBody });
      await t.call('POST', `/v1/jobs/${id}/cancel`);
      const body = await (await t.call('POST', '/v1/nodes/n1/confirm', { token: n1, body: { job_ids: [id] } })).json();
      expect(body).toEqual({ jobs: [], dropped: [id], sequence: expect.any(Number), cluster_id: expect.any(String) });
      expect((await (await t.call('GET', `/v1/jobs/${id}`)).json()).state).toBe('CANCELLED');
    });

    it("drops what the node did not claim: another node's claim, or no claim at all", async () => {
      await drain();
      const n2 = await t.token('node', 'n2');
      const claimedByN2 = await t.submit();
      await t.call('POST', '/v1/nodes/n2/claim', { token: n2, body: claimBody });
      const unclaimed = await t.submit();
      await t.call('POST', '/v1/nodes/n2/claim', { token: n2, body: { ...claimBody, partitions: ['elsewhere'] } });
      const body = await (
        await t.call('POST', '/v1/nodes/n1/confirm', { token: n1, body: { job_ids: [claimedByN2, unclaimed] } })
      ).json();
      expect(body).toEqual({
        jobs: [],
        dropped: [claimedByN2, unclaimed],
        sequence: expect.any(Number),
        cluster_id: expect.any(String),
      });
      // n2's claim is untouched: it can still confirm its job.
      const mine = await (
        await t.call('POST', '/v1/nodes/n2/confirm', { token: n2, body: { job_ids: [claimedByN2] } })
      ).json();
      expect(mine.jobs.map((j: { id: string }) => j.id)).toEqual([claimedByN2]);
      expect((await (await t.call('GET', `/v1/jobs/${unclaimed}`)).json()).state).toBe('PENDING');
    });

    it('removes the claimed ref of a job that is no longer PENDING when it is dropped', async () => {
      await drain();
      const id = await t.submit();
      await t.call('POST', '/v1/nodes/n1/claim', { token: n1, body: claimBody });
      // Started elsewhere, as if by a duplicate ref: the cancel path would remove the ref itself, this does not.
      await moveJob(t.database.db, id, 'RUNNING');
      const body = await (await t.call('POST', '/v1/nodes/n1/confirm', { token: n1, body: { job_ids: [id] } })).json();
      expect(body).toEqual({ jobs: [], dropped: [id], sequence: expect.any(Number), cluster_id: expect.any(String) });
      expect(await t.queue.missing([Number(id)])).toEqual([Number(id)]);
      expect(await t.queue.requeueNode('n1')).toBe(0);
    });

    it("keeps a node token to its own node's endpoints, and users out", async () => {
      const alice = await t.token('user', 'physics');
      for (const [token, status] of [
        [n1, 403],
        [alice, 403],
      ] as const) {
        expect((await t.call('POST', '/v1/nodes/n2/claim', { token, body: claimBody })).status).toBe(status);
        expect((await t.call('POST', '/v1/nodes/n2/confirm', { token, body: { job_ids: [] } })).status).toBe(status);
      }
      expect((await t.call('POST', '/v1/nodes/n2/claim', { token: null, body: claimBody })).status).toBe(401);
    });

    it.each([
      [{ ...claimBody, free_cpus: 9 }, 'free_cpus'],
      [{ ...claimBody, partitions: [] }, 'partitions'],
      [{ ...claimBody, cpus: 0 }, 'cpus'],
      [{ ...claimBody, extra: 1 }, 'extra'],
      [{ ...claimBody, partitions: ['batch', 'batch'] }, 'partitions'],
      [{ ...claimBody, running: [{ cpus: 1, memory_mb: 1, ends_in_ms: -1 }] }, 'running.0.ends_in_ms'],
    ])('refuses claim body %j naming %s', async (body, field) => {
      const response = await t.call('POST', '/v1/nodes/n1/claim', { token: n1, body });
      expect(response.status).toBe(422);
      expect((await response.json()).errors.map((e: { field: string }) => e.field)).toContain(field);
    });

    it('writes job and ref in one statement on the Postgres queue: no job without its ref', async () => {
      // A real fault: the queue's table is gone while the job is submitted.
      const before = await t.database.db.$count(jobs);
      await t.database.db.execute(sql`ALTER TABLE queue_refs RENAME TO queue_refs_away`);
      try {
        const response = await t.call('POST', '/jobs/submit', { body: { job: validJob(), script: 'true' } });
        expect(response.status).toBe(500);
      } finally {
        await t.database.db.execute(sql`ALTER TABLE queue_refs_away RENAME TO queue_refs`);
      }
      expect(await t.database.db.$count(jobs)).toBe(before);
    });

    it('sweeps PENDING jobs the queue lost, and only those', async () => {
      const fresh = await createTestApp(backend);
      try {
        const [lost, kept, running, alsoKept] = [
          Number(await fresh.submit()),
          Number(await fresh.submit()),
          Number(await fresh.submit()),
          Number(await fresh.submit()),
        ];
        await moveJob(fresh.database.db, running!, 'RUNNING');
        // As if the process died between the commit and the push, or Redis lost its data.
        await fresh.queue.remove([lost!, running!]);
        // Its clock an hour on: every job is old enough to sweep, however fast or slow this machine is.
        const hourOn = () => new Date(Date.now() + 3_600_000);
        const reconciler = new Reconciler(fresh.queue, { sweepAfterMs: 0, batchSize: 2 }, hourOn);
        let swept = 0;
        // Small batches: the sweep resumes where it stopped until it has seen every job.
        for (let run = 0; run < 4; run++) swept += (await reconciler.run(fresh.database.db)).swept;
        expect(swept).toBe(1);
        expect(await fresh.queue.missing([lost!, kept!, running!, alsoKept!])).toEqual([running]);
      } finally {
        await fresh.close();
      }
    });

    it('puts back the refs of a node that claimed and never confirmed', async () => {
      await drain();
      const id = Number(await t.submit());
      await t.call('POST', '/v1/nodes/n1/claim', { token: n1, body: claimBody });
      // Time passing, not a condition awaited: the claim is then older than the 10 ms asked below (a busy machine
      // only makes it older).
      await new Promise((resolve) => setTimeout(resolve, 20));
      const { released } = await new Reconciler(t.queue, { staleClaimMs: 10 }).run(t.database.db);
      expect(released).toBe(1);
      const n3 = await t.token('node', 'n3');
      const claim = await (await t.call('POST', '/v1/nodes/n3/claim', { token: n3, body: claimBody })).json();
      expect(claim.refs.map((r: { id: string }) => Number(r.id))).toEqual([id]);
    });

    it('leaves young PENDING jobs to their own push', async () => {
      const fresh = await createTestApp(backend);
      try {
        const id = Number(await fresh.submit());
        await fresh.queue.remove([id]);
        // The reconciler's clock stopped at the job's submit: the job is young by its own time, not by how long this
        // machine took to get here (a busy one took longer than the sweep's 30 s).
        const [row] = await fresh.database.db.select().from(jobs).where(eq(jobs.id, id));
        const atSubmit = () => row!.submitTime;
        expect((await new Reconciler(fresh.queue, {}, atSubmit).run(fresh.database.db)).swept).toBe(0);
      } finally {
        await fresh.close();
      }
    });
  });
}

describe('a Redis queue that is away', async () => {
  const [pglite] = await backends();
  const unreachable = await redisUnreachable();
  it.skipIf(unreachable)(
    'keeps submits working (the job waits, not enqueued), answers node claims 503, and the reconciler pushes later',
    async () => {
      const prefix = `test:away:${Math.random().toString(36).slice(2, 8)}:`;
      // Nothing listens on port 1: every command fails after one retry, as with a Redis that is down.
      const away = new RedisJobQueue(ioredisClient('redis://127.0.0.1:1', { maxRetriesPerRequest: 1 }), prefix);
      const back = new RedisJobQueue(ioredisClient(REDIS_URL), prefix);
      const t = await createTestApp(pglite!, { queue: away });
      try {
        await heartbeat(t, 'n1');
        const submitted = await t.call('POST', '/jobs/submit', { body: { job: validJob(), script: 'true' } });
        expect(submitted.status).toBe(201);
        const id = Number((await submitted.json()).job_id);
        const [row] = await t.database.db.select().from(jobs).where(eq(jobs.id, id));
        expect(row).toMatchObject({ state: 'PENDING', enqueued: false });
        const claim = await t.call('POST', '/v1/nodes/n1/claim', { body: claimBody });
        expect(claim.status).toBe(503);
        expect(await claim.json()).toMatchObject({ code: 'queue_unavailable' });

        // Redis is back (the same keys, reached again): the reconciler's next run pushes the job.
        expect((await new Reconciler(back).run(t.database.db)).pushed).toBe(1);
        expect(await back.missing([id])).toEqual([]);
        const [after] = await t.database.db.select().from(jobs).where(eq(jobs.id, id));
        expect(after!.enqueued).toBe(true);
        // With its time limit, for backfill.
        expect(await back.claim(claimCapacity, { max: 1 })).toMatchObject([{ id, timeLimitSeconds: 93_784 }]);
      } finally {
        await t.close();
        await away.close();
        await back.close();
        await deleteKeys(prefix);
      }
    },
  );
});

describe.skipIf(await redisUnreachable())('backfill through the claim endpoint', async () => {
  const [pglite] = await backends();
  it("passes the node's running jobs to the queue: a job that ends before the reserved head can start starts", async () => {
    const prefix = `test:backfill:${Math.random().toString(36).slice(2, 8)}:`;
    // Every head is reserved at once.
    const queue = new RedisJobQueue(ioredisClient(REDIS_URL), prefix, { ...DEFAULT_QUEUE_TUNING, starvationMs: 0 });
    const t = await createTestApp(pglite!, { queue });
    try {
      await heartbeat(t, 'n1');
      await t.submit(validJob({ ntasks_per_node: 1, cpus_per_task: 8, time_limit: '10' }));
      const short = await t.submit(validJob({ ntasks_per_node: 1, cpus_per_task: 1, time_limit: '1' }));
      await t.submit(validJob({ ntasks_per_node: 1, cpus_per_task: 1, time_limit: 'UNLIMITED' }));
      const body = { ...claimBody, free_cpus: 2 };
      // Its running jobs unknown (an older daemon): the head's start is not known, and nothing passes it.
      expect((await (await t.call('POST', '/v1/nodes/n1/claim', { body })).json()).refs).toEqual([]);
      const running = [{ cpus: 6, memory_mb: 100, ends_in_ms: 120_000 }];
      const claim = await t.call('POST', '/v1/nodes/n1/claim', { body: { ...body, running } });
      expect((await claim.json()).refs).toMatchObject([{ id: short, time_limit_seconds: 60 }]);
    } finally {
      await t.close();
      await queue.close();
      await deleteKeys(prefix);
    }
  });
});
