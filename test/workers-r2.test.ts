/**
 * The Worker's R2 binding path, in workerd: job output that node daemons shipped to R2 (here put straight into the
 * bucket through Miniflare's R2 API, under the names a daemon gives its chunks, DESIGN §7:
 * `{cluster id}/jobs/{id}/{attempt}/{stdout|stderr}/{offset, 15 digits}`), read back through the Worker's own
 * endpoints against a real Postgres schema and Redis, and deleted by its Cron reconciler once retention ends.
 */
import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readClusterId } from '../shared/db/cluster-id.js';
import { loadMigrations } from '../shared/db/migration-files.js';
import { migrate } from '../shared/db/migrator.js';
import { openNodeDatabase, type NodeDatabase } from '../shared/db/node-database.js';
import { jobs } from '../shared/db/schema.js';
import { expectConsoleServed } from './helpers/console-served.js';
import { moveJob } from './helpers/job-states.js';
import { startMiniflareWorker, type MiniflareWorker } from './helpers/miniflare-worker.js';
import { configurePartition } from './helpers/configure-partition.js';
import { ADMIN_TOKEN, validJob } from './helpers/test-app.js';
import { adminQuery, backends, POSTGRES_URL } from './helpers/test-databases.js';
import { deleteKeys, REDIS_URL, redisUnreachable } from './helpers/test-redis.js';

const DAY_MS = 86_400_000;
const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const encode = (text: string) => new TextEncoder().encode(text);

// What the job wrote, as its daemon shipped it: stdout in two chunks, stderr in one.
const STDOUT = ['line one\nline two\n', 'line three\nline four\n'];
const STDERR = 'oops\n';

const postgres = (await backends()).find((backend) => backend.name === 'postgres')!;
const serversAway = postgres.skip ?? (await redisUnreachable());

describe.skipIf(serversAway)('the Worker reads job output through its R2 binding (workerd, Miniflare R2)', () => {
  const schema = `test_workers_r2_${randomBytes(4).toString('hex')}`;
  const redisPrefix = `test:${schema}:`;
  let database: NodeDatabase;
  let worker: MiniflareWorker;
  let cluster: string;

  beforeAll(async () => {
    await adminQuery(`CREATE SCHEMA ${schema}`);
    database = await openNodeDatabase({ url: POSTGRES_URL, searchPath: schema, poolSize: 1 });
    // The Worker does not migrate (npm run migrate does, before a deploy).
    await migrate(database.migrations, await loadMigrations());
    cluster = await readClusterId(database.db);
    worker = await startMiniflareWorker({
      databaseUrl: `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      redisUrl: REDIS_URL,
      redisPrefix,
      adminToken: ADMIN_TOKEN,
    });
    await configurePartition(worker.url, ADMIN_TOKEN);
  }, 180_000);

  afterAll(async () => {
    await worker?.stop();
    await database?.close();
    await adminQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await deleteKeys(redisPrefix);
  });

  /** A job submitted through the Worker, running its first attempt (nothing shipped yet). */
  async function runningJob(): Promise<number> {
    const answer = await fetch(`${worker.url}/v1/jobs`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ job: validJob(), script: '#!/bin/bash\necho hi' }),
    });
    expect(answer.status).toBe(201);
    const id = Number(((await answer.json()) as { id: number | string }).id);
    await moveJob(database.db, id, 'RUNNING', { attempt: 1, nodeName: 'n1' });
    return id;
  }

  /** Ships a chunk of attempt 1 of the job, named as its daemon names it. */
  const ship = (id: number, stream: string, offset: number, text: string) =>
    worker.logs.put(`${cluster}/jobs/${id}/1/${stream}/${String(offset).padStart(15, '0')}`, encode(text));

  /** A job run once (attempt 1) and finished, its output in the bucket. */
  async function finishedJobWithOutput(): Promise<number> {
    const id = await runningJob();
    await ship(id, 'stdout', 0, STDOUT[0]!);
    await ship(id, 'stdout', STDOUT[0]!.length, STDOUT[1]!);
    await ship(id, 'stderr', 0, STDERR);
    await moveJob(database.db, id, 'COMPLETED');
    return id;
  }

  const logs = (id: number, stream: string, query = '') =>
    fetch(`${worker.url}/v1/jobs/${id}/logs/${stream}${query}`, { headers: auth });

  it('serves a byte range across the chunks, with the offsets to resume from', async () => {
    const id = await finishedJobWithOutput();
    const whole = STDOUT.join('');
    const range = await logs(id, 'stdout', '?offset=14&limit=10');
    expect(range.status).toBe(200);
    expect(await range.text()).toBe(whole.slice(14, 24));
    expect(range.headers.get('Conductor-Log-Offset')).toBe('14');
    expect(range.headers.get('Conductor-Next-Offset')).toBe('24');
    expect(range.headers.get('Conductor-Log-Complete')).toBe('false');

    const all = await logs(id, 'stdout');
    expect(await all.text()).toBe(whole);
    expect(all.headers.get('Conductor-Next-Offset')).toBe(String(whole.length));
    expect(all.headers.get('Conductor-Log-Complete')).toBe('true');
    expect(all.headers.get('Conductor-Attempt')).toBe('1');
    expect(await (await logs(id, 'stderr')).text()).toBe(STDERR);
  });

  it('serves a tail of lines and of bytes', async () => {
    const id = await finishedJobWithOutput();
    const tail = await logs(id, 'stdout', '?tail_lines=2');
    expect(await tail.text()).toBe('line three\nline four\n');
    expect(tail.headers.get('Conductor-Log-Offset')).toBe(String(STDOUT[0]!.length));
    expect(await (await logs(id, 'stdout', '?tail_bytes=5')).text()).toBe('four\n');
  });

  it("follows a finished job's output to its end and closes", async () => {
    const id = await finishedJobWithOutput();
    const followed = await logs(id, 'stdout', '?follow=true&offset=9');
    expect(followed.status).toBe(200);
    expect(await followed.text()).toBe(STDOUT.join('').slice(9));
  });

  it("follows a running job's output as its chunks are shipped, and ends when the job does", async () => {
    const id = await runningJob();
    await ship(id, 'stdout', 0, STDOUT[0]!);
    const followed = await logs(id, 'stdout', '?follow=true');
    expect(followed.status).toBe(200);
    const reader = followed.body!.getReader();
    let received = '';
    const decoder = new TextDecoder();
    const readUntil = async (length: number) => {
      while (received.length < length) {
        const { done, value } = await reader.read();
        if (done) break;
        received += decoder.decode(value, { stream: true });
      }
    };
    await readUntil(STDOUT[0]!.length);
    expect(received).toBe(STDOUT[0]);
    await ship(id, 'stdout', STDOUT[0]!.length, STDOUT[1]!);
    await moveJob(database.db, id, 'COMPLETED');
    await readUntil(Infinity);
    expect(received).toBe(STDOUT.join(''));
  });

  it("answers the original /jobs/query with the job's output as its job_log", async () => {
    const id = await finishedJobWithOutput();
    const query = await fetch(`${worker.url}/jobs/query/${id}`, { headers: auth });
    expect(query.status).toBe(200);
    expect(((await query.json()) as { job_log: unknown }).job_log).toEqual({ stdout: STDOUT.join(''), stderr: STDERR });
  });

  it("deletes a job's output from the bucket once its retention ends (the Cron reconciler), then answers 410", async () => {
    const id = await finishedJobWithOutput();
    const kept = await finishedJobWithOutput();
    // Ended 31 days ago: past the default output retention (30 days), within the job retention (365).
    await database.db
      .update(jobs)
      .set({ endTime: new Date(Date.now() - 31 * DAY_MS) })
      .where(eq(jobs.id, id));
    const listed = async (job: number) => (await worker.logs.list({ prefix: `${cluster}/jobs/${job}/` })).objects;
    expect(await listed(id)).toHaveLength(3);

    await worker.scheduled();

    expect(await listed(id)).toEqual([]);
    expect(await listed(kept)).toHaveLength(3);
    const gone = await logs(id, 'stdout');
    expect(gone.status).toBe(410);
    expect(gone.headers.get('Content-Type')).toMatch(/^application\/problem\+json/);
    expect(((await gone.json()) as { code: string }).code).toBe('output_expired');
    expect(await (await logs(kept, 'stdout')).text()).toBe(STDOUT.join(''));
    // The row is kept: the job's own retention has not ended.
    expect((await fetch(`${worker.url}/v1/jobs/${id}`, { headers: auth })).status).toBe(200);
  });

  it('serves the web console from the Static Assets binding wrangler.toml gives it', async () => {
    await expectConsoleServed(worker.url, ADMIN_TOKEN);
  });
});
