/**
 * The node daemon as a real process, running real bash, against the API over HTTP: every ending, the process tree
 * gone after a cancel or a timeout, and what a job sees of its node.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ioredisClient } from '../shared/queue/redis/ioredis-client.js';
import { RedisJobQueue } from '../shared/queue/redis/redis-job-queue.js';
import { processStartTime } from '../worker-node/process-table.js';
import type { ChildServer } from './helpers/child-server.js';
import {
  processTree,
  startTestApi,
  testNodes,
  treePids,
  waitFor,
  waitForState,
  type TestApi,
  type TestNodes,
} from './helpers/test-node.js';

const SECRET = 'daemon-secret-that-no-job-may-see';
const ROOT = new URL('..', import.meta.url).pathname;
const run = promisify(execFile);

describe('the node daemon runs jobs', () => {
  let api: TestApi;
  let nodes: TestNodes;
  let daemon: ChildServer;
  let work: string;

  beforeAll(async () => {
    api = await startTestApi();
    nodes = testNodes(api);
    work = nodes.dir();
    daemon = await nodes.start('n1', {
      CONDUCTOR_NODE_CPUS: '2',
      CONDUCTOR_MEMORY_POLL_SECONDS: '0.2',
      // Only the job's own environment and the node's variables reach a job, never the daemon's.
      DAEMON_SECRET: SECRET,
    });
  });
  afterAll(async () => {
    await nodes.cleanup();
    await api.close();
  });

  const submit = (script: string, job: Record<string, unknown> = {}) =>
    api.t.submit({ name: 'job', current_working_directory: work, ...job }, `#!/bin/bash\n${script}`);

  it('registers with its capacity and shows in /v1/nodes', async () => {
    const node = await waitFor('node n1 UP', async () => {
      const { nodes: list } = await (await api.t.call('GET', '/v1/nodes')).json();
      return list.find((n: { name: string; state: string }) => n.name === 'n1' && n.state === 'UP');
    });
    expect(node).toMatchObject({ cpus: 2, memory_mb: 4096, partitions: ['default'] });
    expect(daemon.stdout().join('\n')).toMatch(/node n1 started: cores \d,\d/);
  });

  it('exit 0 is COMPLETED, in the working directory, with %j and %x output paths and the job environment', async () => {
    const id = await submit(
      'echo "$CONDUCTOR_JOB_ID $SLURM_JOB_ID $SLURM_JOB_NAME $SLURM_CPUS_PER_TASK $OMP_NUM_THREADS $SLURM_NTASKS $CONDUCTOR_CPUS $GREETING"; pwd; env; tr "\\0" "\\n" < /proc/$PPID/environ',
      {
        name: 'envy',
        current_working_directory: join(work, 'made-for-it'),
        standard_output: 'logs/%x-%j.out',
        cpus_per_task: 2,
        environment: { GREETING: 'hi' },
      },
    );
    const job = await waitForState(api.t, id, ['COMPLETED', 'FAILED']);
    expect(job).toMatchObject({ state: 'COMPLETED', exit_code: { status: 0, signal: null }, node: 'n1', attempt: 1 });
    expect(job.cpu_ids).toHaveLength(2);
    const out = readFileSync(join(work, 'made-for-it', 'logs', `envy-${id}.out`), 'utf8');
    const [first, cwd] = out.split('\n');
    expect(first).toBe(`${id} ${id} envy 2 2 1 2 hi`);
    expect(cwd).toBe(join(work, 'made-for-it'));
    expect(out).toContain(`CONDUCTOR_CPU_IDS=${job.cpu_ids!.join(',')}`);
    expect(out).not.toContain(SECRET);
    expect(out).not.toMatch(/CONDUCTOR_NODE_TOKEN|CONDUCTOR_API_URL/);
  });

  it('pins the job to its cores', async () => {
    const id = await submit('grep Cpus_allowed_list /proc/self/status', { name: 'pin' });
    const job = await waitForState(api.t, id, ['COMPLETED', 'FAILED']);
    expect(readFileSync(join(work, `slurm-${id}.out`), 'utf8').trim()).toBe(`Cpus_allowed_list:\t${job.cpu_ids![0]}`);
  });

  it('a non-zero exit is FAILED with its code; a signal is FAILED with the signal', async () => {
    const code = await submit('echo failing >&2; exit 3');
    const signal = await submit('kill -KILL $$');
    expect(await waitForState(api.t, code, ['COMPLETED', 'FAILED'])).toMatchObject({
      state: 'FAILED',
      exit_code: { status: 3, signal: null },
      error_msg: 'exit status 3',
    });
    // stderr goes to stdout's file, as sbatch's default.
    expect(readFileSync(join(work, `slurm-${code}.out`), 'utf8')).toBe('failing\n');
    expect(await waitForState(api.t, signal, ['COMPLETED', 'FAILED'])).toMatchObject({
      state: 'FAILED',
      exit_code: { status: null, signal: 9 },
    });
  });

  // How soon a cancel reaches the node (its next heartbeat, every interval while a job runs) is the heartbeat loop's,
  // tested with a fake clock in heartbeat-loop.test.ts; a wall clock here would only measure how busy the machine is.
  it('a cancel of a RUNNING job reaches the node and ends the whole tree: CANCELLED', async () => {
    const id = await submit(processTree(), { name: 'tree' });
    const pids = await treePids(work, id);
    expect((await api.t.call('POST', `/v1/jobs/${id}/cancel`)).status).toBe(200);
    const job = await waitForState(api.t, id, ['CANCELLED']);
    expect(job.exit_code?.signal).toBe(15);
    expect(pids.filter((pid) => processStartTime(pid) !== undefined)).toEqual([]);
  });

  it('the time limit: SIGTERM, the grace period, SIGKILL for what ignores it: TIMEOUT, the tree gone', async () => {
    const id = await submit(processTree(true), { name: 'slow', time_limit: '0:02' });
    const pids = await treePids(work, id);
    const job = await waitForState(api.t, id, ['TIMEOUT', 'COMPLETED', 'FAILED'], 10_000);
    expect(job).toMatchObject({ state: 'TIMEOUT', exit_code: { status: null, signal: 9 } });
    expect(job.error_msg).toBe('time limit of 2 s reached');
    expect(pids.filter((pid) => processStartTime(pid) !== undefined)).toEqual([]);
  });

  it('memory over the request is OUT_OF_MEMORY', async () => {
    const id = await submit(`python3 -c "a = bytearray(200 * 1024 * 1024); import time; time.sleep(60)"`, {
      memory_per_node: '64M',
    });
    const job = await waitForState(api.t, id, ['OUT_OF_MEMORY', 'COMPLETED', 'FAILED'], 10_000);
    expect(job.state).toBe('OUT_OF_MEMORY');
    expect(job.error_msg).toBe('used more than its 64 MB of memory');
  });

  it('a job that cannot start (its directory cannot be made) is FAILED with the reason', async () => {
    writeFileSync(join(work, 'a-file'), '');
    const id = await submit('true', { current_working_directory: join(work, 'a-file', 'below') });
    const job = await waitForState(api.t, id, ['COMPLETED', 'FAILED']);
    expect(job.error_msg).toMatch(/^cannot start on n1: /);
  });
});

describe('the node daemon ending a stopped job', () => {
  let api: TestApi;
  let nodes: TestNodes;

  beforeAll(async () => {
    api = await startTestApi();
    nodes = testNodes(api);
    // A grace long enough for the trap to run on a busy machine: what is tested is that it runs at all.
    await nodes.start('stopper', { CONDUCTOR_KILL_GRACE_SECONDS: '10' });
  });
  afterAll(async () => {
    await nodes.cleanup();
    await api.close();
  });

  it('continues a job stopped (SIGSTOP) at its time limit before SIGTERM, so its TERM trap runs, as under Slurm', async () => {
    const work = nodes.dir();
    const trapped = join(work, 'trapped');
    const id = await api.t.submit(
      { name: 'stopped', current_working_directory: work, time_limit: '0:02' },
      `#!/bin/bash\ntrap 'echo trapped > ${trapped}; exit 3' TERM\nkill -STOP $$\nsleep 600`,
    );
    const job = await waitForState(api.t, id, ['TIMEOUT', 'COMPLETED', 'FAILED']);
    expect(job).toMatchObject({ state: 'TIMEOUT', exit_code: { status: 3, signal: null } });
    expect(readFileSync(trapped, 'utf8')).toBe('trapped\n');
  });
});

describe('a node daemon claiming from Redis directly', async () => {
  const { REDIS_URL, redisUnreachable, deleteKeys } = await import('./helpers/test-redis.js');
  const unreachable = await redisUnreachable();
  const prefix = `test:daemon:${process.pid}:`;
  let api: TestApi;
  let nodes: TestNodes;
  let queue: RedisJobQueue;

  beforeAll(async () => {
    if (unreachable) return;
    queue = new RedisJobQueue(ioredisClient(REDIS_URL), prefix);
    api = await startTestApi({ queue });
    nodes = testNodes(api);
  });
  afterAll(async () => {
    if (unreachable) return;
    await nodes.cleanup();
    await api.close();
    await deleteKeys(prefix);
    await queue.close();
  });

  it.skipIf(unreachable)(
    'claims from the queue the API pushed to, woken by the submit, and confirms through the API',
    async () => {
      // That a wake ends the longest backoff at once is claim-pacer.test.ts's, with the real subscriber and no clock:
      // here, that the daemon listens on the channel the API wakes, and takes and confirms the job.
      const daemon = await nodes.start('rd1', {
        REDIS_URL,
        CONDUCTOR_REDIS_PREFIX: prefix,
        CONDUCTOR_CLAIM_IDLE_MAX_SECONDS: '60',
      });
      // What it really talks to: the queue's host, and the API it confirms through.
      expect(daemon.stdout().join('\n')).toContain(`claiming from Redis at redis://${new URL(REDIS_URL).host}`);
      expect(daemon.stdout().join('\n')).toContain(`reporting to the API at ${api.url}/`);
      await waitFor('node UP', () => (daemon.stdout().join('\n').includes('is UP') ? true : undefined));
      const { redis } = ioredisClient(REDIS_URL);
      try {
        await waitFor('the daemon listening for wakes', async () => {
          const [, listeners] = (await redis.call('PUBSUB', 'NUMSUB', queue.wakeChannel)) as [string, number];
          return listeners > 0 ? true : undefined;
        });
      } finally {
        redis.disconnect();
      }
      const work = nodes.dir();
      const id = await api.t.submit({ name: 'fast', current_working_directory: work }, '#!/bin/bash\necho ran');
      const job = await waitForState(api.t, id, ['COMPLETED', 'FAILED']);
      expect(job).toMatchObject({ state: 'COMPLETED', node: 'rd1' });
      expect(readFileSync(join(work, `slurm-${id}.out`), 'utf8')).toBe('ran\n');
    },
  );
});

describe('npm run node with a bad configuration', () => {
  it.each([
    ['CONDUCTOR_API_URL', 'not a url', 'CONDUCTOR_API_URL'],
    ['CONDUCTOR_NODE_CPUS', '100000', 'CONDUCTOR_NODE_CPUS'],
    ['CONDUCTOR_NODE_PARTITIONS', 'a,a', 'CONDUCTOR_NODE_PARTITIONS'],
    ['UPSTASH_REDIS_REST_URL', 'https://example.upstash.io', 'UPSTASH_REDIS_REST_TOKEN'],
    // No log store at all: a node's output would go nowhere the API reads.
    ['CONDUCTOR_LOG_DIR', '', 'CONDUCTOR_LOG_DIR'],
    ['CONDUCTOR_S3_ENDPOINT', 'https://s3.example.com', 'CONDUCTOR_S3_BUCKET'],
    ['CONDUCTOR_LOG_CHUNK_BYTES', '100000000', 'CONDUCTOR_LOG_CHUNK_BYTES'],
    ['CONDUCTOR_LOG_SPOOL_BYTES', '-1', 'CONDUCTOR_LOG_SPOOL_BYTES'],
    ['CONDUCTOR_MIN_UID', '-1', 'CONDUCTOR_MIN_UID'],
    ['CONDUCTOR_ALLOW_ROOT_JOBS', 'maybe', 'CONDUCTOR_ALLOW_ROOT_JOBS'],
  ])('stops at start-up when %s=%s, naming %s', async (name, value, named) => {
    const env = {
      PATH: process.env.PATH,
      CONDUCTOR_API_URL: 'http://127.0.0.1:1',
      CONDUCTOR_NODE_TOKEN: 'node-token-0123456789abcdef',
      CONDUCTOR_LOG_DIR: tmpdir(),
      // An S3 endpoint replaces the directory; here it comes with its keys, and without its bucket.
      ...(name === 'CONDUCTOR_S3_ENDPOINT'
        ? { CONDUCTOR_LOG_DIR: '', CONDUCTOR_S3_ACCESS_KEY_ID: 'key', CONDUCTOR_S3_SECRET_ACCESS_KEY: 'secret' }
        : {}),
      [name]: value,
    };
    const started = run(process.execPath, ['--import', 'tsx', 'worker-node/main.ts'], { cwd: ROOT, env });
    const failure = await started.then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(2);
    // The message names the variable, and only what is wrong.
    expect(failure?.stderr.trim().split('\n').slice(1)).toEqual([expect.stringMatching(new RegExp(`^  ${named}: `))]);
  });
});
