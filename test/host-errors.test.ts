/**
 * Issue 16, item 3: one table of failures, run against both hosts as they run in production, the Node host as its own
 * process and the Worker in workerd. Each answers with the same status and problem `code`: bad requests, then the
 * services going away for real (the log store down from the start, then Redis, then Postgres, each behind a relay the
 * test closes), met by each host's own drivers (pg and ioredis; Neon's and Upstash's).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from '../shared/protocol/protocol-version.js';
import { MAX_BODY_BYTES } from '../api/app.js';
import { bundled } from './helpers/bundled.js';
import { freePort, startChildServer } from './helpers/child-server.js';
import { startTcpRelay, type TcpRelay } from './helpers/tcp-relay.js';
import { ADMIN_TOKEN, validJob } from './helpers/test-app.js';
import { backends, createTestDatabase, type TestDatabase } from './helpers/test-databases.js';
import { deleteKeys, REDIS_URL, redisUnreachable } from './helpers/test-redis.js';
import { startWorkerHost } from './helpers/worker-host.js';

const ROOT = new URL('..', import.meta.url).pathname;
const COMMITTED_CONTRACT = JSON.parse(readFileSync(new URL('../api/openapi.json', import.meta.url), 'utf8'));

const [, postgres] = await backends();
const serversAway = postgres!.skip ?? (await redisUnreachable());

/** A host under test, with its services behind relays the test closes. */
interface ErrorHost {
  url: string;
  loseQueue(): Promise<void>;
  loseDatabase(): Promise<void>;
  stop(): Promise<void>;
}

/** What both hosts are given: a migrated database and Redis keys of their own, each reached through a relay. */
interface Services {
  database: TestDatabase;
  postgresRelay: TcpRelay;
  redisRelay: TcpRelay;
  redisPrefix: string;
  /** An S3 endpoint nothing listens on: the store is down from the start. */
  s3: Record<string, string>;
  close(): Promise<void>;
}

async function services(): Promise<Services> {
  const database = await createTestDatabase(postgres!);
  const postgresUrl = new URL(database.url!);
  const redisUrl = new URL(REDIS_URL);
  const postgresRelay = await startTcpRelay({ host: postgresUrl.hostname, port: Number(postgresUrl.port || 5432) });
  const redisRelay = await startTcpRelay({ host: redisUrl.hostname, port: Number(redisUrl.port || 6379) });
  const redisPrefix = `test:host-errors:${Math.random().toString(36).slice(2, 8)}:`;
  return {
    database,
    postgresRelay,
    redisRelay,
    redisPrefix,
    s3: {
      CONDUCTOR_S3_ENDPOINT: `http://127.0.0.1:${await freePort('127.0.0.1')}`,
      CONDUCTOR_S3_BUCKET: 'conductor-logs',
      CONDUCTOR_S3_ACCESS_KEY_ID: 'nobody',
      CONDUCTOR_S3_SECRET_ACCESS_KEY: 'nothing-at-all',
    },
    async close() {
      await Promise.all([postgresRelay.close(), redisRelay.close()]);
      await database.destroy();
      await deleteKeys(redisPrefix);
    },
  };
}

const hosts: { name: string; start(s: Services): Promise<ErrorHost> }[] = [
  {
    name: 'the Node host (pg, ioredis)',
    async start(s) {
      const dataDir = mkdtempSync(join(tmpdir(), 'conductor-host-errors-'));
      const server = await startChildServer('node host', bundled('hostBundle', 'api/hosts/node/main.ts'), ROOT, {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: s.postgresRelay.through(s.database.url!),
        REDIS_URL: s.redisRelay.through(REDIS_URL),
        CONDUCTOR_REDIS_PREFIX: s.redisPrefix,
        CONDUCTOR_ADMIN_TOKEN: ADMIN_TOKEN,
        CONDUCTOR_DATA_DIR: dataDir,
        CONDUCTOR_LOCAL_NODE: 'off',
        PORT: String(await freePort('127.0.0.1')),
        ...s.s3,
      });
      return {
        url: server.url,
        loseQueue: () => s.redisRelay.close(),
        loseDatabase: () => s.postgresRelay.close(),
        async stop() {
          await server.stop();
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'the Workers host (workerd: Neon driver, Upstash client)',
    async start(s) {
      const worker = await startWorkerHost({
        databaseUrl: s.postgresRelay.through(s.database.url!),
        redisUrl: REDIS_URL,
        redisPrefix: s.redisPrefix,
        adminToken: ADMIN_TOKEN,
        vars: s.s3,
      });
      return {
        url: worker.url,
        // Upstash's REST endpoint gone: the client's own fetch fails, as when Upstash is unreachable.
        loseQueue: () => worker.bridge.close(),
        // Neon's WebSocket proxy gone: the driver cannot open its socket. (Postgres gone behind a running proxy is
        // pg's own "Connection terminated unexpectedly", as on the Node host.)
        loseDatabase: () => worker.proxy.close(),
        stop: () => worker.stop(),
      };
    },
  },
];

interface Call {
  method?: string;
  path: string;
  /** Bearer token; the admin's unless said. */
  token?: string | null;
  body?: unknown;
  /**
   * A body sent as it is, streamed (chunked, with no Content-Length): the host then reads it up to its limit before it
   * refuses it, so the client is not cut off while it still writes (EPIPE instead of the answer).
   */
  raw?: string;
}

interface Case {
  name: string;
  call: (state: { jobId: string }) => Call;
  status: number;
  /** The problem's code; absent for an answer that is not a problem. */
  code?: string;
  check?: (body: Record<string, unknown>) => void;
}

const node = 'n1';
const capacity = { partitions: ['batch'], cpus: 8, memory_mb: 64_000 };
const claim = { ...capacity, free_cpus: 8, free_memory_mb: 64_000 };
const notReady = (body: Record<string, unknown>) =>
  // Public: it says no more than that.
  expect(body.detail).toBe('This API process cannot serve requests now');

/** The table: phases in order, each entered by making a service go away, with the answers due in it. */
const phases: { name: string; enter?: (host: ErrorHost) => Promise<void>; cases: Case[] }[] = [
  {
    name: 'with the database and the queue up, and the log store down',
    cases: [
      { name: 'an unknown path', call: () => ({ path: '/no/such/path' }), status: 404, code: 'route_not_found' },
      { name: 'no token', call: () => ({ path: '/v1/jobs', token: null }), status: 401, code: 'unauthenticated' },
      {
        name: 'an unknown token',
        call: () => ({ path: '/v1/jobs', token: 'not-a-token-of-this-api-0123456789abcdef' }),
        status: 401,
        code: 'unauthenticated',
      },
      {
        name: 'a body with a bad field',
        call: () => ({
          method: 'POST',
          path: '/v1/jobs',
          body: { job: validJob({ cpus_per_task: 'two' }), script: 'true' },
        }),
        status: 422,
        code: 'validation_failed',
        check: (body) => expect(body.errors).toContainEqual(expect.objectContaining({ field: 'job.cpus_per_task' })),
      },
      {
        name: 'a body too large',
        call: () => ({ method: 'POST', path: '/v1/jobs', raw: `{"script": "${'x'.repeat(MAX_BODY_BYTES)}"}` }),
        status: 413,
        code: 'payload_too_large',
      },
      {
        name: 'a read of stored output',
        call: ({ jobId }) => ({ path: `/v1/jobs/${jobId}/logs/stdout` }),
        status: 503,
        code: 'log_store_unavailable',
      },
      { name: 'readiness', call: () => ({ path: '/readyz', token: null }), status: 200 },
    ],
  },
  {
    name: 'with the queue gone',
    enter: (host) => host.loseQueue(),
    cases: [
      {
        name: "a node's claim",
        call: () => ({ method: 'POST', path: `/v1/nodes/${node}/claim`, body: claim }),
        status: 503,
        code: 'queue_unavailable',
      },
      {
        name: 'readiness',
        call: () => ({ path: '/readyz', token: null }),
        status: 503,
        code: 'not_ready',
        check: notReady,
      },
    ],
  },
  {
    name: 'with the database gone',
    enter: (host) => host.loseDatabase(),
    cases: [
      { name: 'a list of jobs', call: () => ({ path: '/v1/jobs' }), status: 503, code: 'database_unavailable' },
      {
        name: 'an original submit',
        call: () => ({ method: 'POST', path: '/jobs/submit', body: { job: validJob(), script: 'true' } }),
        status: 503,
        code: 'database_unavailable',
      },
      {
        name: 'readiness',
        call: () => ({ path: '/readyz', token: null }),
        status: 503,
        code: 'not_ready',
        check: notReady,
      },
      {
        name: "the original's health",
        call: () => ({ path: '/health', token: null }),
        status: 503,
        check: (body) => expect(body).toMatchObject({ status: 'unhealthy', service: 'scns-conductor-api' }),
      },
      { name: 'liveness', call: () => ({ path: '/livez', token: null }), status: 200 },
      {
        name: 'the contract',
        call: () => ({ path: '/openapi.json', token: null }),
        status: 200,
        check: (body) => expect(body).toEqual(COMMITTED_CONTRACT),
      },
    ],
  },
];

async function send(url: string, call: Call): Promise<Response> {
  const token = call.token === undefined ? ADMIN_TOKEN : call.token;
  const body =
    call.raw === undefined
      ? call.body === undefined
        ? undefined
        : JSON.stringify(call.body)
      : new Blob([call.raw]).stream();
  // `duplex` is Node's fetch's option for a streamed body (not in the DOM's RequestInit type).
  const init: RequestInit & { duplex: 'half' } = {
    duplex: 'half',
    method: call.method ?? 'GET',
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      // A connection of its own: a host may close one whose request body it refused unread (413) while the client
      // sends the next request on it.
      Connection: 'close',
      [PROTOCOL_HEADER]: String(PROTOCOL_VERSION),
    },
    body,
  };
  return fetch(`${url}${call.path}`, init);
}

for (const host of hosts) {
  describe.skipIf(serversAway)(`errors of ${host.name}`, () => {
    let s: Services | undefined;
    let h: ErrorHost | undefined;
    const state = { jobId: '' };
    beforeAll(async () => {
      s = await services();
      h = await host.start(s);
      // A node to claim for, and a job whose output is read.
      expect((await send(h.url, { method: 'POST', path: `/v1/nodes/${node}/heartbeat`, body: capacity })).status).toBe(
        200,
      );
      const submitted = await send(h.url, {
        method: 'POST',
        path: '/v1/jobs',
        body: { job: validJob(), script: 'true' },
      });
      expect(submitted.status).toBe(201);
      state.jobId = String(((await submitted.json()) as { id: unknown }).id);
    }, 120_000);
    afterAll(async () => {
      await h?.stop();
      await s?.close();
    }, 60_000);

    for (const phase of phases) {
      describe(phase.name, () => {
        beforeAll(() => phase.enter?.(h!));
        for (const c of phase.cases) {
          it(`${c.name}: ${c.status}${c.code ? ` ${c.code}` : ''}`, async () => {
            const response = await send(h!.url, c.call(state));
            const text = await response.text();
            expect(response.status, text.slice(0, 500)).toBe(c.status);
            expect(text).not.toMatch(/\n\s+at /); // never a stack
            const body = JSON.parse(text) as Record<string, unknown>;
            if (c.code) {
              expect(response.headers.get('content-type')).toBe('application/problem+json');
              expect(body).toMatchObject({ status: c.status, code: c.code, type: `urn:conductor:problem:${c.code}` });
            }
            c.check?.(body);
          }, 150_000);
        }
      });
    }
  });
}
