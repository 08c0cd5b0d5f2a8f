/**
 * Job output end to end: real bash jobs on a real daemon, shipped to a real store (the filesystem, and an S3 server),
 * read back through the API over HTTP: byte-exact, live, across a daemon killed with -9, and across a store outage.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedEnd } from '../shared/logs/log-reader.js';
import { FileLogStore } from '../shared/logs/file-log-store.js';
import { LogStoreUnavailable, type LogChunk, type LogStore, type LogStream } from '../shared/logs/log-store.js';
import type { ChildServer } from './helpers/child-server.js';
import { ADMIN_TOKEN, createTestApp } from './helpers/test-app.js';
import {
  sleep,
  startTestApi,
  testNodes,
  waitFor,
  waitForState,
  type TestApi,
  type TestNodes,
} from './helpers/test-node.js';
import { startTestS3, type TestS3 } from './helpers/test-s3.js';
import { moveJob } from './helpers/job-states.js';

const MAX_READ = 8 * 2 ** 20;
const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe.each(['filesystem', 'S3 (s3rver)'] as const)('job output, stored on %s', (kind) => {
  let s3: TestS3 | undefined;
  let api: TestApi;
  let nodes: TestNodes;
  let daemon: ChildServer;
  let work: string;
  let storeEnv: Record<string, string>;

  beforeAll(async () => {
    s3 = kind === 'filesystem' ? undefined : await startTestS3();
    api = await startTestApi(s3 ? { logs: s3.store() } : {});
    nodes = testNodes(api);
    work = nodes.dir();
    storeEnv = s3 ? { ...s3.env, CONDUCTOR_LOG_DIR: '' } : {};
    daemon = await nodes.start('out', { CONDUCTOR_NODE_CPUS: '2', ...storeEnv });
  }, 60_000);
  afterAll(async () => {
    await nodes?.cleanup();
    await api?.close();
    await s3?.close();
  });

  // Two files, as the streams' stores are what these tests read (one file for both: output-files.test.ts).
  const submit = (script: string, job: Record<string, unknown> = {}) =>
    api.t.submit(
      { name: 'out', current_working_directory: work, standard_error: 'slurm-%j.err', ...job },
      `#!/bin/bash\n${script}`,
    );
  const file = (id: string, stream: LogStream) => join(work, `slurm-${id}.${stream === 'stdout' ? 'out' : 'err'}`);
  const logs = (id: string, stream: LogStream, query = '') =>
    fetch(`${api.url}/v1/jobs/${id}/logs/${stream}${query}`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });

  /** The whole stream through the API, page by page, as a client resumes: by the next offset. */
  async function readStream(id: string, stream: LogStream): Promise<Uint8Array> {
    const parts: Buffer[] = [];
    let offset = 0;
    for (;;) {
      const answer = await logs(id, stream, `?offset=${offset}&limit=${MAX_READ}`);
      expect(answer.status).toBe(200);
      const body = Buffer.from(await answer.arrayBuffer());
      parts.push(body);
      expect(Number(answer.headers.get('Conductor-Log-Offset'))).toBe(offset);
      offset = Number(answer.headers.get('Conductor-Next-Offset'));
      if (answer.headers.get('Conductor-Log-Complete') === 'true') return Buffer.concat(parts);
      expect(body.length).toBeGreaterThan(0);
    }
  }

  async function chunksOf(id: string, stream: LogStream): Promise<LogChunk[]> {
    const all: LogChunk[] = [];
    for await (const chunk of api.logs.list({ cluster: api.clusterId, jobId: Number(id), attempt: 1, stream }))
      all.push(chunk);
    return all;
  }

  /** No gap and no overlap: each chunk starts where the one before ended. */
  function expectContiguous(chunks: LogChunk[]): void {
    chunks.forEach((chunk, index) =>
      expect(chunk.offset).toBe(index === 0 ? 0 : chunks[index - 1]!.offset + chunks[index - 1]!.size),
    );
  }

  it('stores 50 MB of mixed text and binary byte-exact, all of it before the job is reported ended', async () => {
    const id = await submit(
      'for i in $(seq 1 50); do printf "text line %d\\n" $i; head -c 1000000 /dev/urandom; done; echo done >&2',
      { memory_per_node: '256M' },
    );
    await waitForState(api.t, id, ['COMPLETED', 'FAILED'], 120_000);
    const written = readFileSync(file(id, 'stdout'));
    expect(written.length).toBeGreaterThan(50_000_000);
    // Reported ended: by then every byte was stored.
    const id1 = { cluster: api.clusterId, jobId: Number(id), attempt: 1 };
    expect(await storedEnd(api.logs, { ...id1, stream: 'stdout' })).toBe(written.length);
    expect(await storedEnd(api.logs, { ...id1, stream: 'stderr' })).toBe(5);
    const read = await readStream(id, 'stdout');
    expect(read.length).toBe(written.length);
    expect(sha(read)).toBe(sha(written));
    expectContiguous(await chunksOf(id, 'stdout'));
  }, 180_000);

  it('keeps interleaved stdout and stderr apart, each exact', async () => {
    const id = await submit('for i in $(seq 1 300); do echo "out $i"; echo "err $i" >&2; done');
    await waitForState(api.t, id, ['COMPLETED']);
    expect(Buffer.from(await readStream(id, 'stdout')).toString()).toBe(readFileSync(file(id, 'stdout'), 'utf8'));
    expect(Buffer.from(await readStream(id, 'stderr')).toString()).toBe(readFileSync(file(id, 'stderr'), 'utf8'));
    expect(readFileSync(file(id, 'stderr'), 'utf8')).toMatch(/^err 1\nerr 2\n[\s\S]*err 300\n$/);
  });

  it('streams a running job to a follower, each line within 2 s of being written, until the job ends', async () => {
    const id = await submit('for i in $(seq 1 8); do echo "tick $i $(date +%s%3N)"; sleep 0.4; done');
    // Followed from before it starts: the follower waits for the first attempt.
    const answer = await logs(id, 'stdout', '?follow=true');
    expect(answer.status).toBe(200);
    const lags: number[] = [];
    let text = '';
    const decoder = new TextDecoder();
    const reader = answer.body!.getReader();
    for (let piece = await reader.read(); !piece.done; piece = await reader.read()) {
      const received = Date.now();
      text += decoder.decode(piece.value, { stream: true });
      const lines = text.split('\n').slice(0, -1);
      for (const line of lines.slice(lags.length)) lags.push(received - Number(line.split(' ')[2]));
    }
    // The answer ended by itself: the job is over, and the follower has all of it.
    expect((await api.t.call('GET', `/v1/jobs/${id}`).then((r) => r.json())).state).toBe('COMPLETED');
    expect(text).toBe(readFileSync(file(id, 'stdout'), 'utf8'));
    expect(lags).toHaveLength(8);
    expect(Math.max(...lags)).toBeLessThan(2000);
  }, 30_000);

  it('resumes a follow from the offset reached before a disconnect: no byte lost or repeated', async () => {
    const id = await submit('for i in $(seq 1 12); do echo "line $i"; sleep 0.2; done');
    await waitForState(api.t, id, ['RUNNING', 'COMPLETED']);
    const first = new AbortController();
    const answer = await fetch(`${api.url}/v1/jobs/${id}/logs/stdout?follow=1`, {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      signal: first.signal,
    });
    const reader = answer.body!.getReader();
    const before: Uint8Array[] = [];
    let received = 0;
    while (received < 20) {
      const { value } = await reader.read();
      before.push(value!);
      received += value!.length;
    }
    first.abort();
    const again = await logs(id, 'stdout', `?follow=true&offset=${received}`);
    expect(again.headers.get('Conductor-Log-Offset')).toBe(String(received));
    const rest = Buffer.from(await again.arrayBuffer());
    expect(Buffer.concat([...before, rest]).toString()).toBe(readFileSync(file(id, 'stdout'), 'utf8'));
  }, 30_000);

  it('after kill -9 of the daemon in the middle of heavy output, the stored stream equals the file', async () => {
    const id = await submit('for i in $(seq 1 40); do head -c 1000000 /dev/urandom | base64; sleep 0.05; done', {
      memory_per_node: '256M',
    });
    const stdout = { cluster: api.clusterId, jobId: Number(id), attempt: 1, stream: 'stdout' as const };
    await waitFor('some output stored', async () =>
      (await storedEnd(api.logs, stdout)) > 4_000_000 ? true : undefined,
    );
    daemon.kill('SIGKILL');
    await daemon.exited;
    // The job writes on while the daemon is away (or ends): output its next start must find unshipped.
    const atKill = statSync(file(id, 'stdout')).size;
    const ended = () => existsSync(join(nodes.nodeDir('out'), 'runs', `${id}-1`, 'status'));
    await waitFor('more output while the daemon is away', () =>
      statSync(file(id, 'stdout')).size > atKill + 1_000_000 || ended() ? true : undefined,
    );
    daemon = await nodes.start('out', { CONDUCTOR_NODE_CPUS: '2', ...storeEnv });
    await waitForState(api.t, id, ['COMPLETED', 'FAILED'], 60_000);
    const written = readFileSync(file(id, 'stdout'));
    expect(written.length).toBeGreaterThan(50_000_000);
    expect(await storedEnd(api.logs, stdout)).toBe(written.length);
    expect(sha(await readStream(id, 'stdout'))).toBe(sha(written));
    expectContiguous(await chunksOf(id, 'stdout'));
  }, 120_000);

  it('stores only what this run appended to an output file that already had content (open_mode append)', async () => {
    // Appended to, as asked: another job wrote there first.
    const job = { standard_output: 'shared.log', open_mode: 'append' };
    const first = await submit('echo "first run"', job);
    await waitForState(api.t, first, ['COMPLETED']);
    const second = await submit('echo "second run"', job);
    await waitForState(api.t, second, ['COMPLETED']);
    expect(readFileSync(join(work, 'shared.log'), 'utf8')).toBe('first run\nsecond run\n');
    expect(Buffer.from(await readStream(first, 'stdout')).toString()).toBe('first run\n');
    expect(Buffer.from(await readStream(second, 'stdout')).toString()).toBe('second run\n');
  });

  // The endpoints' own behaviour: the same for any store, so tried on one.
  if (kind === 'filesystem') {
    it('answers a tail by lines or bytes, and an offset past the end with nothing', async () => {
      const id = await submit('printf "one\\ntwo\\nthree\\nfour\\n"');
      await waitForState(api.t, id, ['COMPLETED']);
      const lines = await logs(id, 'stdout', '?tail_lines=2');
      expect(await lines.text()).toBe('three\nfour\n');
      expect(lines.headers.get('Conductor-Log-Offset')).toBe('8');
      expect(lines.headers.get('Conductor-Next-Offset')).toBe('19');
      expect(lines.headers.get('Conductor-Log-Complete')).toBe('true');
      expect(lines.headers.get('Conductor-Attempt')).toBe('1');
      expect(await (await logs(id, 'stdout', '?tail_bytes=5')).text()).toBe('four\n');
      expect(await (await logs(id, 'stdout', '?offset=4&limit=3')).text()).toBe('two');
      const partial = await logs(id, 'stdout', '?offset=4&limit=3');
      expect(partial.headers.get('Conductor-Next-Offset')).toBe('7');
      expect(partial.headers.get('Conductor-Log-Complete')).toBe('false');
      const past = await logs(id, 'stdout', '?offset=1000');
      expect(await past.text()).toBe('');
      expect(past.headers.get('Conductor-Next-Offset')).toBe('1000');
      // The original query shows the same output, as text.
      const query = await (await api.t.call('GET', `/jobs/query/${id}`)).json();
      expect(query.job_log).toEqual({ stdout: 'one\ntwo\nthree\nfour\n', stderr: '' });
    });

    it('refuses bad reads with a 422 naming the field', async () => {
      const id = await submit('echo hi');
      await waitForState(api.t, id, ['COMPLETED']);
      const cases: [string, string, string][] = [
        ['stdout', '?tail_lines=2&offset=3', 'offset'],
        ['stdout', '?tail_lines=2&tail_bytes=3', 'tail_bytes'],
        ['stdout', '?follow=true&limit=10', 'limit'],
        ['stdout', '?limit=0', 'limit'],
        ['stdout', '?offset=-1', 'offset'],
        ['stdout', '?offset=', 'offset'],
        ['stdout', '?tail_lines=1.5', 'tail_lines'],
        ['stdout', '?follow=maybe', 'follow'],
        ['stdout', '?attempt=2', 'attempt'],
        ['stdin', '', 'stream'],
      ];
      for (const [stream, query, field] of cases) {
        const answer = await logs(id, stream as LogStream, query);
        expect(answer.status, `${stream}${query}`).toBe(422);
        expect(answer.headers.get('Content-Type')).toMatch(/application\/problem\+json/);
        const problem = await answer.json();
        expect(problem.errors.map((error: { field: string }) => error.field)).toContain(field);
      }
    });

    it("shows a user only their own account's output", async () => {
      const id = await submit('echo private');
      const job = await waitForState(api.t, id, ['COMPLETED']);
      const { account } = (await (await api.t.call('GET', `/v1/jobs/${id}`)).json()) as { account: string };
      expect(job.state).toBe('COMPLETED');
      const read = async (token: string) =>
        fetch(`${api.url}/v1/jobs/${id}/logs/stdout`, { headers: { Authorization: `Bearer ${token}` } });
      const own = await read(await api.t.token('user', account));
      expect(await own.text()).toBe('private\n');
      const other = await read(await api.t.token('user', 'someone-else'));
      expect(other.status).toBe(404);
      const query = await fetch(`${api.url}/jobs/query/${id}`, {
        headers: { Authorization: `Bearer ${await api.t.token('user', 'someone-else')}` },
      });
      expect(query.status).toBe(404);
    });
  }

  // A store that can be taken away and brought back.
  if (kind !== 'filesystem') {
    it('the store down for a while and back: the job is reported ended only once its output is all stored', async () => {
      const id = await submit('for i in $(seq 1 10); do echo "line $i"; sleep 0.1; done');
      await waitForState(api.t, id, ['RUNNING']);
      await s3!.down();
      try {
        // The job's own process ends meanwhile; its end waits for its output.
        const written = () => (existsSync(file(id, 'stdout')) ? readFileSync(file(id, 'stdout'), 'utf8') : '');
        await waitFor('the job process to end', () => (written().endsWith('line 10\n') ? true : undefined));
        // Its wrapper has written its exit status, and the daemon has failed to store its output.
        const status = join(nodes.nodeDir('out'), 'runs', `${id}-1`, 'status');
        await waitFor('the exit status written', () => (existsSync(status) ? true : undefined));
        await waitFor('the daemon to retry the output', () =>
          daemon.stdout().join('\n').includes(`job ${id}: output not stored, retrying`) ? true : undefined,
        );
        // A window for what must not happen (the end reported without its output); a busy machine only makes it
        // see less.
        await sleep(2500);
        // Its end waits for its output: still RUNNING while the output is not stored.
        expect((await api.t.call('GET', `/v1/jobs/${id}`).then((r) => r.json())).state).toBe('RUNNING');
      } finally {
        await s3!.up();
      }
      await waitForState(api.t, id, ['COMPLETED']);
      expect(Buffer.from(await readStream(id, 'stdout')).toString()).toBe(readFileSync(file(id, 'stdout'), 'utf8'));
    }, 60_000);
  }
});

describe('an API without a log store, or with one that is away', () => {
  it("answers 503 logs_not_configured for output, and the original's error line as job_log", async () => {
    const t = await createTestApp({ name: 'pglite', skip: undefined });
    try {
      const id = await t.submit();
      const answer = await t.call('GET', `/v1/jobs/${id}/logs/stdout`);
      expect(answer.status).toBe(503);
      expect((await answer.json()).type).toBe('urn:conductor:problem:logs_not_configured');
      const none = '[读取日志文件出错: this API has no log store configured]';
      expect((await (await t.call('GET', `/jobs/query/${id}`)).json()).job_log).toEqual({ stdout: none, stderr: none });
    } finally {
      await t.close();
    }
  });

  it('answers the original query with its error line, as text, while the store does not answer', async () => {
    const away: LogStore = {
      put: async () => {
        throw new LogStoreUnavailable('away');
      },
      read: async () => {
        throw new LogStoreUnavailable('away');
      },
      deleteJob: async () => {
        throw new LogStoreUnavailable('away');
      },
      // eslint-disable-next-line require-yield -- a listing that fails before its first name
      list: async function* () {
        throw new LogStoreUnavailable('away');
      },
    };
    const t = await createTestApp({ name: 'pglite', skip: undefined }, { logs: away });
    try {
      const id = await t.submit();
      // A job that has started has output to read.
      await moveJob(t.database.db, id, 'RUNNING', { attempt: 1 });
      const query = await t.call('GET', `/jobs/query/${id}`);
      expect(query.status).toBe(200);
      const line = '[读取日志文件出错: the log store did not answer]';
      expect((await query.json()).job_log).toEqual({ stdout: line, stderr: line });
    } finally {
      await t.close();
    }
  });
});

describe('a follow whose store fails before its first byte', () => {
  it('breaks the transfer: a client never takes it for a clean, empty answer', async () => {
    const store = new FileLogStore(mkdtempSync(join(tmpdir(), 'conductor-unread-')));
    const failing: LogStore = {
      put: (...args) => store.put(...args),
      read: (...args) => store.read(...args),
      deleteJob: (job) => store.deleteJob(job),
      // eslint-disable-next-line require-yield -- a listing that fails before its first name
      list: async function* () {
        throw new LogStoreUnavailable('the store is away');
      },
    };
    const api = await startTestApi({ logs: failing });
    const nodes = testNodes(api);
    try {
      await nodes.start('away', { CONDUCTOR_LOG_DIR: store.dir });
      const work = nodes.dir();
      const id = await api.t.submit({ name: 'x', current_working_directory: work }, '#!/bin/bash\nsleep 3');
      await waitForState(api.t, id, ['RUNNING']);
      const answer = await fetch(`${api.url}/v1/jobs/${id}/logs/stdout?follow=true`, {
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(answer.headers.get('Content-Length')).toBeNull();
      await expect(answer.arrayBuffer()).rejects.toThrow();
      // A range read says so plainly.
      const range = await fetch(`${api.url}/v1/jobs/${id}/logs/stdout`, {
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(range.status).toBe(503);
      expect(range.headers.get('Conductor-Log-Offset')).toBeNull();
      expect((await range.json()).type).toBe('urn:conductor:problem:log_store_unavailable');
      await waitForState(api.t, id, ['COMPLETED'], 20_000);
    } finally {
      await nodes.cleanup();
      await api.close();
      rmSync(store.dir, { recursive: true, force: true });
    }
  }, 60_000);
});
