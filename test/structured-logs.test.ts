/**
 * The service's own logs (shared/log/): the Node host and a node daemon, each its own process, write one JSON object a
 * line, with the request id, job id and node as fields, and nothing of a job's script or environment; the level and
 * the pretty form as configured. The loggers themselves are checked in-process on a file.
 */
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLinesLogger } from '../shared/log/json-lines-logger.js';
import { pinoLogger, type PinoLoggerOptions } from '../shared/log/pino-logger.js';
import { startNodeHostDeployment, type NodeHostDeployment } from './fixtures/node-host-deployment.js';
import { startWorkerNode, type WorkerNode } from './fixtures/worker-node.js';
import { backends } from './helpers/test-databases.js';
import { redisUnreachable } from './helpers/test-redis.js';
import { waitFor } from './helpers/wait-for.js';

const postgres = (await backends()).find((backend) => backend.name === 'postgres');
const away = postgres!.skip ?? (await redisUnreachable());
const MARKER = 'do-not-log-7f3a9c';
const NODE = 'logs1';

type Line = Record<string, unknown> & { level: string; time: string; msg: string };

/** Every line parsed as JSON: a line that is not fails the test, naming it. */
function parsed(lines: string[]): Line[] {
  return lines.map((line) => {
    try {
      return JSON.parse(line) as Line;
    } catch {
      throw new Error(`not a JSON log line: ${line}`);
    }
  });
}

describe.skipIf(away)('the Node host and a daemon as processes, in JSON', () => {
  let d: NodeHostDeployment;
  let node: WorkerNode;
  beforeAll(async () => {
    d = await startNodeHostDeployment('structured_logs', { CONDUCTOR_LOG_FORMAT: 'json' });
    node = await startWorkerNode(d, NODE, 1, { CONDUCTOR_LOG_FORMAT: 'json' });
  }, 120_000);
  afterAll(async () => {
    await node?.stop();
    await d?.stop();
  });

  it('logs each request with its id and who asked, job lines with job_id and node, and no script or environment', async () => {
    const response = await d.call('POST', '/v1/jobs', {
      body: {
        job: {
          name: 'marked',
          partition: 'default',
          current_working_directory: node.work,
          environment: { SECRET_THING: MARKER },
          time_limit: '5',
        },
        script: `#!/bin/bash\necho ${MARKER} "$SECRET_THING"`,
      },
    });
    expect(response.status).toBe(201);
    const requestId = response.headers.get('x-request-id');
    expect(requestId).toBeTruthy();
    const { id } = (await response.json()) as { id: string };
    await waitFor('the job to end', async () => {
      const job = await d.json<{ state: string }>(200, 'GET', `/v1/jobs/${id}`);
      return job.state === 'COMPLETED' ? job : undefined;
    });
    const ended = await waitFor('the daemon to log the end', () =>
      parsed(node.daemon.rawStdout()).find((line) => line.msg === `job ${id}: ended`),
    );

    const host = parsed(d.process.rawStdout());
    const submit = host.find((line) => line.msg === 'request' && line.request_id === requestId)!;
    expect(submit).toMatchObject({
      level: 'info',
      method: 'POST',
      route: '/v1/jobs',
      status: 201,
      principal_kind: 'admin',
    });
    expect(submit.duration_ms).toEqual(expect.any(Number));
    expect(submit.time).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
    // The daemon's confirm is a request of the node's own.
    expect(host).toContainEqual(
      expect.objectContaining({
        msg: 'request',
        route: '/v1/nodes/:node/confirm',
        principal_kind: 'node',
        status: 200,
      }),
    );
    expect(host.find((line) => line.msg.includes('listening on'))).toMatchObject({ url: d.apiUrl });

    const daemon = parsed(node.daemon.rawStdout());
    expect(daemon.every((line) => line.node === NODE)).toBe(true);
    expect(daemon.find((line) => line.msg === `job ${id}: launched`)).toMatchObject({
      job_id: Number(id),
      attempt: 1,
      node: NODE,
      pid: expect.any(Number),
    });
    expect(ended).toMatchObject({ job_id: Number(id), attempt: 1, node: NODE, state: 'COMPLETED', exit_status: 0 });
    // The job ran with them: the marker is in its output, and in no line of either process.
    const output = await d.call('GET', `/v1/jobs/${id}/logs/stdout`);
    expect(await output.text()).toContain(MARKER);
    for (const raw of [...d.process.rawStdout(), ...node.daemon.rawStdout()]) expect(raw).not.toContain(MARKER);
    for (const raw of [...d.process.stderrTail(), ...node.daemon.stderrTail()]) expect(raw).not.toContain(MARKER);
    expect(host.some((line) => JSON.stringify(line).includes(id))).toBe(true);
  });
});

describe.skipIf(away)('a daemon asked for the pretty form', () => {
  it('writes for people, not JSON', async () => {
    const d = await startNodeHostDeployment('structured_logs_pretty');
    try {
      const node = await startWorkerNode(d, 'logs2', 1, { CONDUCTOR_LOG_FORMAT: 'pretty' });
      try {
        const lines = node.daemon.rawStdout();
        expect(lines.find((line) => line.includes('node logs2 started'))).toMatch(
          /^\[[\d:.]+\] INFO: node logs2 started/,
        );
        expect(lines.filter((line) => line.startsWith('{'))).toEqual([]);
      } finally {
        await node.stop();
      }
    } finally {
      await d.stop();
    }
  });
});

describe('the loggers', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'conductor-logger-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** What a pino logger with `options` wrote to a file, line by line, after `write`. */
  const written = (
    name: string,
    options: Omit<PinoLoggerOptions, 'destination'>,
    write: (log: ReturnType<typeof pinoLogger>) => void,
  ) => {
    const path = join(dir, name);
    const fd = openSync(path, 'w');
    try {
      write(pinoLogger({ ...options, destination: { fd } }));
    } finally {
      closeSync(fd);
    }
    return readFileSync(path, 'utf8').split('\n').filter(Boolean);
  };

  it('writes what its level lets through, as JSON lines with the fields bound and given', () => {
    const lines = written('level', { level: 'warn', format: 'json' }, (log) => {
      const job = log.child({ node: 'n1', job_id: 7 });
      job.debug('not this');
      job.info('nor this');
      job.warn('this', { attempt: 2 });
      job.error('and this');
    });
    expect(parsed(lines).map(({ time: _time, ...line }) => line)).toEqual([
      { level: 'warn', node: 'n1', job_id: 7, attempt: 2, msg: 'this' },
      { level: 'error', node: 'n1', job_id: 7, msg: 'and this' },
    ]);
  });

  it('never writes a token, a secret, an authorization header, a script or an environment', () => {
    const fields = {
      headers: { authorization: `Bearer ${MARKER}` },
      token: MARKER,
      body: { script: MARKER, environment: { A: MARKER }, secret: MARKER },
    };
    const pino = written('redact', { level: 'info', format: 'json' }, (log) => log.info('request', fields));
    const web: string[] = [];
    jsonLinesLogger('info', {}, (line) => web.push(line)).info('request', fields);
    for (const line of [...pino, ...web]) {
      expect(line).not.toContain(MARKER);
      expect(JSON.parse(line)).toMatchObject({ headers: { authorization: '[Redacted]' }, token: '[Redacted]' });
    }
  });

  it('is pretty when asked, and not JSON', () => {
    const lines = written('pretty', { level: 'info', format: 'pretty' }, (log) =>
      log.child({ node: 'n1' }).info('node n1 started', { job_id: 3 }),
    );
    expect(lines[0]).toMatch(/INFO.*node n1 started/);
    expect(() => JSON.parse(lines[0]!)).toThrow();
    expect(lines.join('\n')).toMatch(/job_id: 3/);
  });

  it('on the Worker, writes the same names as pino', () => {
    const web: string[] = [];
    const log = jsonLinesLogger('info', { request_id: 'r1' }, (line) => web.push(line));
    log.debug('not this');
    log.child({ job_id: 5 }).warn('refs not removed', { error: 'down' });
    expect(web.map((line) => JSON.parse(line) as Line).map(({ time: _time, ...line }) => line)).toEqual([
      { level: 'warn', request_id: 'r1', job_id: 5, error: 'down', msg: 'refs not removed' },
    ]);
  });
});
