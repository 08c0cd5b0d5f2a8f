/**
 * `npm run dev:workers` as a developer runs it: one command that migrates a database, starts the Worker in workerd
 * against the local Postgres and Redis, and prints its URL and admin token; a job submitted through it is stored, and
 * its output read from the S3 server the CONDUCTOR_S3_* variables name; Ctrl-C (SIGINT to its whole process group,
 * as a terminal sends it) stops everything it started.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { readClusterId } from '../shared/db/cluster-id.js';
import { openNodeDatabase } from '../shared/db/node-database.js';
import { freePort } from './helpers/child-server.js';
import { moveJob } from './helpers/job-states.js';
import { configurePartition } from './helpers/configure-partition.js';
import { validJob } from './helpers/test-app.js';
import { adminQuery, backends, POSTGRES_URL } from './helpers/test-databases.js';
import { deleteKeys, REDIS_URL, redisUnreachable } from './helpers/test-redis.js';
import { startTestS3 } from './helpers/test-s3.js';
import { waitFor, waitUntil } from './helpers/wait-for.js';

const ROOT = new URL('..', import.meta.url).pathname;

/** Whether any process of the group is left (a zombie not yet reaped counts). */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

const postgres = (await backends()).find((backend) => backend.name === 'postgres')!;
const serversAway = postgres.skip ?? (await redisUnreachable());

describe.skipIf(serversAway)('npm run dev:workers', () => {
  it('migrates, serves the Worker with a printed admin token, takes a submit, reads S3, and stops on Ctrl-C', async () => {
    const schema = `test_dev_workers_${randomBytes(4).toString('hex')}`;
    const redisPrefix = `test:${schema}:`;
    const state = mkdtempSync(join(tmpdir(), 'conductor-dev-workers-state-'));
    await adminQuery(`CREATE SCHEMA ${schema}`);
    const s3 = await startTestS3();
    const url = new URL(POSTGRES_URL);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: url.toString(),
      REDIS_URL,
      PORT: String(await freePort('127.0.0.1')),
      CONDUCTOR_REDIS_PREFIX: redisPrefix,
      ...s3.env,
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      WRANGLER_SEND_METRICS: 'false',
    };
    // Its own process group, as a terminal's foreground job is: the SIGINT below reaches every process in it.
    const child = spawn('npm', ['run', 'dev:workers', '--', '--persist-to', state], {
      cwd: ROOT,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<string>((done) =>
      child.once('exit', (code, signal) => done(signal ? `signal ${signal}` : `code ${code}`)),
    );
    const lines: string[] = [];
    createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
    createInterface({ input: child.stderr! }).on('line', (line) => lines.push(line));
    const found = (pattern: RegExp) => lines.map((line) => pattern.exec(line)?.[1]).find(Boolean);
    try {
      const workerUrl = await waitFor('the Worker URL', () => found(/Worker \(workerd\) on (http:\/\/\S+),/), 90_000);
      // Printed just after the URL, in a write of its own: waited for, not assumed read with it.
      const token = await waitFor('the admin token', () => found(/^admin token: (\S+)$/));
      expect(lines).toContainEqual(expect.stringMatching(/^migrations applied: 0001_initial, /));
      await configurePartition(workerUrl, token);

      const answer = await fetch(`${workerUrl}/v1/jobs`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ job: validJob(), script: '#!/bin/bash\ntrue' }),
      });
      expect(answer.status).toBe(201);
      const { id } = (await answer.json()) as { id: string };
      expect(await adminQuery(`SELECT state FROM ${schema}.jobs WHERE id = $1`, [id])).toEqual([{ state: 'PENDING' }]);

      // Its output, as a daemon shipping to that S3 server stores it, read back through the Worker.
      const database = await openNodeDatabase({ url: POSTGRES_URL, searchPath: schema, poolSize: 1 });
      try {
        await moveJob(database.db, id, 'RUNNING', { attempt: 1, nodeName: 'n1' });
        const cluster = await readClusterId(database.db);
        await s3.store().put({ cluster, jobId: Number(id), attempt: 1, stream: 'stdout' }, 0, Buffer.from('hello\n'));
        await moveJob(database.db, id, 'COMPLETED');
      } finally {
        await database.close();
      }
      const output = await fetch(`${workerUrl}/v1/jobs/${id}/logs/stdout`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(await output.text()).toBe('hello\n');

      process.kill(-child.pid!, 'SIGINT');
      // npm ends itself by the signal it was sent once its script has ended.
      expect(['code 0', 'signal SIGINT']).toContain(await exited);
      await waitUntil('every process of dev:workers to end', () => !groupAlive(child.pid!));
      const stopped = 'stopped: wrangler, the WebSocket proxy and the REST bridge';
      await waitUntil('dev:workers to say it stopped everything', () => lines.includes(stopped));
    } finally {
      if (groupAlive(child.pid!)) process.kill(-child.pid!, 'SIGKILL');
      rmSync(state, { recursive: true, force: true });
      await s3.close();
      await adminQuery(`DROP SCHEMA ${schema} CASCADE`);
      await deleteKeys(redisPrefix);
    }
  }, 150_000);
});
