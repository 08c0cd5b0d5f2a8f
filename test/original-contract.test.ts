/**
 * The original SCNS-Conductor's clients keep working: every original path, driven through a job's whole life, is
 * held to a JSON schema of the original's answer (contract/original-api.schema.json, written from
 * ../shared/original-contract.md; added fields allowed), on each host: the embedded default's app, the Node host on
 * Postgres and Redis, and the Worker in workerd on Neon's driver and Upstash's client.
 */
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from '../shared/protocol/protocol-version.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrations } from '../shared/db/migration-files.js';
import { migrate } from '../shared/db/migrator.js';
import { openNodeDatabase } from '../shared/db/node-database.js';
import { bundled } from './helpers/bundled.js';
import { freePort, startChildServer } from './helpers/child-server.js';
import { ADMIN_TOKEN, createTestApp } from './helpers/test-app.js';
import { adminQuery, backends, POSTGRES_URL } from './helpers/test-databases.js';
import { deleteKeys, REDIS_URL, redisUnreachable } from './helpers/test-redis.js';
import { startWorkerHost } from './helpers/worker-host.js';

const ROOT = new URL('..', import.meta.url).pathname;
const schemaDocument = JSON.parse(
  readFileSync(new URL('./contract/original-api.schema.json', import.meta.url), 'utf8'),
);
const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
ajv.addSchema(schemaDocument);

type Answer =
  | 'Root'
  | 'Health'
  | 'Unhealthy'
  | 'JobSubmitResponse'
  | 'JobQueryResponse'
  | 'JobCancelResponse'
  | 'DashboardResponse'
  | 'NotFound'
  | 'ValidationError';

/** Whether `body` is the original's answer `name`; the errors say where it is not. */
function check(name: Answer, body: unknown): { valid: boolean; errors: string[] } {
  const validate = ajv.getSchema(`urn:scns-conductor:original-api#/$defs/${name}`)!;
  const valid = validate(body) as boolean;
  return { valid, errors: (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`) };
}

function expectAnswer(name: Answer, body: unknown): void {
  expect(check(name, body).errors, `${name}: ${JSON.stringify(body).slice(0, 400)}`).toEqual([]);
}

interface Host {
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Makes the database unreachable for the app, where the test can (the embedded app's own database). */
  loseDatabase?: () => Promise<void>;
  stop(): Promise<void>;
}

/** A fresh schema on the Postgres server and fresh Redis keys, for a host to work in; gone on stop. */
async function serverScratch(name: string) {
  const schema = `test_${name}_${Math.random().toString(36).slice(2, 8)}`;
  await adminQuery(`CREATE SCHEMA ${schema}`);
  return {
    schema,
    databaseUrl: `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    redisPrefix: `test:${schema}:`,
    async drop() {
      await adminQuery(`DROP SCHEMA ${schema} CASCADE`);
      await deleteKeys(`test:${schema}:`);
    },
  };
}

const [, postgres] = await backends();
const serversAway = postgres!.skip ?? (await redisUnreachable());

const hosts: { name: string; skip: string | undefined; start(): Promise<Host> }[] = [
  {
    name: 'the embedded default (PGlite, in process)',
    skip: undefined,
    async start() {
      const t = await createTestApp({ name: 'pglite', skip: undefined });
      let closed = false;
      const close = async () => {
        if (!closed) await t.close();
        closed = true;
      };
      const loseDatabase = async () => {
        await t.database.close();
        await close();
      };
      return { fetch: async (path, init) => t.app.request(path, init), loseDatabase, stop: close };
    },
  },
  {
    name: 'the Node host (Postgres and Redis servers)',
    skip: serversAway,
    async start() {
      const scratch = await serverScratch('contract_node');
      const dataDir = mkdtempSync(join(tmpdir(), 'conductor-contract-'));
      const server = await startChildServer('node host', bundled('hostBundle', 'api/hosts/node/main.ts'), ROOT, {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: scratch.databaseUrl,
        REDIS_URL,
        CONDUCTOR_REDIS_PREFIX: scratch.redisPrefix,
        CONDUCTOR_ADMIN_TOKEN: ADMIN_TOKEN,
        CONDUCTOR_DATA_DIR: dataDir,
        CONDUCTOR_LOCAL_NODE: 'off',
        PORT: String(await freePort('127.0.0.1')),
      }).catch(async (error: Error) => {
        await scratch.drop();
        throw error;
      });
      return {
        fetch: (path, init) => fetch(`${server.url}${path}`, init),
        async stop() {
          await server.stop();
          await scratch.drop();
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'the Workers host (workerd: Neon driver, Upstash client)',
    skip: serversAway,
    async start() {
      const scratch = await serverScratch('contract_worker');
      // The Worker does not migrate (npm run migrate does, before a deploy).
      const database = await openNodeDatabase({ url: POSTGRES_URL, searchPath: scratch.schema, poolSize: 1 });
      await migrate(database.migrations, await loadMigrations()).finally(() => database.close());
      const worker = await startWorkerHost({
        databaseUrl: scratch.databaseUrl,
        redisUrl: REDIS_URL,
        redisPrefix: scratch.redisPrefix,
        adminToken: ADMIN_TOKEN,
      }).catch(async (error: Error) => {
        await scratch.drop();
        throw error;
      });
      return {
        fetch: (path, init) => fetch(`${worker.url}${path}`, init),
        async stop() {
          await worker.stop();
          await scratch.drop();
        },
      };
    },
  },
];

// The original's body, every field it required, and one field it never had.
const originalBody = (name: string, timeLimit = '1:30') => ({
  job: {
    account: 'physics',
    name,
    partition: 'batch',
    current_working_directory: '/home/alice/run',
    standard_output: 'out.log',
    standard_error: 'err.log',
    environment: { OMP_NUM_THREADS: '2' },
    ntasks_per_node: 1,
    cpus_per_task: 2,
    memory_per_node: '1G',
    time_limit: timeLimit,
    exclusive: false,
    qos: 'normal',
  },
  script: '#!/bin/bash\necho hello',
});

for (const host of hosts) {
  describe.skipIf(host.skip)(`the original paths on ${host.name}`, () => {
    let h: Host;
    let nodeToken: string;
    beforeAll(async () => {
      h = await host.start();
      const made = await call('POST', '/v1/tokens', {
        body: { name: 'c1', kind: 'node', node: 'c1', partitions: ['batch'] },
      });
      nodeToken = ((await made.json()) as { token: string }).token;
      await call('POST', '/v1/nodes/c1/heartbeat', { token: nodeToken, body: capacity });
    }, 120_000);
    afterAll(() => h?.stop(), 60_000);

    const capacity = { partitions: ['batch'], cpus: 8, memory_mb: 16_000 };
    const call = (method: string, path: string, options: { token?: string | null; body?: unknown } = {}) => {
      const token = options.token === undefined ? ADMIN_TOKEN : options.token;
      return h.fetch(path, {
        method,
        headers: {
          [PROTOCOL_HEADER]: String(PROTOCOL_VERSION),
          ...(token === null ? {} : { Authorization: `Bearer ${token}` }),
          ...(options.body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: options.body === undefined ? null : JSON.stringify(options.body),
      });
    };
    const answer = async (name: Answer, status: number, response: Promise<Response>) => {
      const received = await response;
      const body = await received.json();
      expect(received.status, JSON.stringify(body)).toBe(status);
      expectAnswer(name, body);
      return body;
    };
    const submit = async (name: string) =>
      (await answer('JobSubmitResponse', 201, call('POST', '/jobs/submit', { body: originalBody(name) }))).job_id;
    /** Claims and confirms the job on node c1, then reports its start: RUNNING, as a real node makes it. */
    const run = async (id: string) => {
      const claim = { ...capacity, free_cpus: 8, free_memory_mb: 16_000 };
      await call('POST', '/v1/nodes/c1/claim', { token: nodeToken, body: claim });
      const confirmed = await (
        await call('POST', '/v1/nodes/c1/confirm', { token: nodeToken, body: { job_ids: [id] } })
      ).json();
      expect(confirmed.jobs.map((job: { id: string }) => job.id)).toEqual([id]);
      await report([{ kind: 'started', job_id: id, attempt: 1, pid: 4242, cpu_ids: [0, 1] }]);
    };
    const report = async (events: unknown[]) => {
      const response = await call('POST', '/v1/nodes/c1/events', { token: nodeToken, body: { events } });
      expect(response.status).toBe(200);
    };
    const ending = (id: string, state: string, exitStatus: number | null, exitSignal: number | null) => ({
      kind: 'finished',
      job_id: id,
      attempt: 1,
      state,
      exit_status: exitStatus,
      exit_signal: exitSignal,
      error_msg: state === 'COMPLETED' ? null : `${state.toLowerCase()} here`,
    });

    it('GET / and GET /health answer as the original did, with no token', async () => {
      await answer('Root', 200, call('GET', '/', { token: null }));
      await answer('Health', 200, call('GET', '/health', { token: null }));
    });

    it("answers submit, query, dashboard and cancel with the original's shapes through a job's whole life", async () => {
      const done = await submit('done');
      const late = await submit('late');
      const waiting = await submit('waiting');

      const pending = await answer('JobQueryResponse', 200, call('GET', `/jobs/query/${done}`));
      expect(pending).toMatchObject({ state: 'PENDING', time: { limit_time: '1:30:00' } });

      await run(done);
      await run(late);
      const running = await answer('JobQueryResponse', 200, call('GET', `/jobs/query/${done}`));
      expect(running).toMatchObject({ state: 'RUNNING', detail: { node_list: 'c1', allocated_cpus: 2 } });
      const busy = await answer('DashboardResponse', 200, call('GET', '/dashboard'));
      expect(busy.running_jobs.map((job: { job_id: number }) => job.job_id).sort()).toEqual(
        [Number(done), Number(late)].sort(),
      );
      expect(busy.pending_jobs.map((job: { job_id: number }) => job.job_id)).toEqual([Number(waiting)]);
      expect(busy.node_info).toMatchObject([{ node_name: 'c1', total_cpus: 8, allocated_cpus: 4 }]);

      await report([ending(done, 'COMPLETED', 0, null), ending(late, 'TIMEOUT', null, 15)]);
      const completed = await answer('JobQueryResponse', 200, call('GET', `/jobs/query/${done}`));
      expect(completed).toMatchObject({ state: 'COMPLETED', detail: { exit_code: '0:0' } });
      const timedOut = await answer('JobQueryResponse', 200, call('GET', `/jobs/query/${late}`));
      expect(timedOut).toMatchObject({ state: 'FAILED', slurm_state: 'TIMEOUT' });

      const cancelled = await answer('JobCancelResponse', 200, call('POST', `/jobs/cancel/${waiting}`));
      expect(cancelled.msg).toBe('取消成功');
      await answer('JobCancelResponse', 200, call('POST', `/jobs/cancel/${done}`));
      await answer('JobQueryResponse', 200, call('GET', `/jobs/query/${waiting}`));

      const after = await answer('DashboardResponse', 200, call('GET', '/dashboard'));
      expect(after.job_stats).toMatchObject({ total: 3, completed: 1, failed: 1, cancelled: 1, running: 0 });
    });

    it("reads a body as the original did: JSON without a Content-Type, pydantic's lax numbers and booleans", async () => {
      const body = originalBody('lax');
      const sent = { ...body, job: { ...body.job, cpus_per_task: '2', ntasks_per_node: 1.0, exclusive: 'no' } };
      const response = h.fetch('/jobs/submit', {
        method: 'POST',
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
        // Bytes, not a string (for which fetch would send text/plain), as Python's requests sends data=.
        body: new TextEncoder().encode(JSON.stringify(sent)),
      });
      const { job_id: id } = await answer('JobSubmitResponse', 201, response);
      const job = await (await call('GET', `/v1/jobs/${id}`)).json();
      expect(job).toMatchObject({ cpus_per_task: 2, ntasks_per_node: 1, exclusive: false });
      expect(job.warnings).toEqual(['unknown field "job.qos" ignored']);
    });

    it("answers errors with the original's detail: a string for 404, FastAPI's list for 422", async () => {
      await answer('NotFound', 404, call('GET', '/jobs/query/987654321'));
      await answer('NotFound', 404, call('POST', '/jobs/cancel/987654321'));
      await answer('ValidationError', 422, call('GET', '/jobs/query/abc'));
      await answer('ValidationError', 422, call('POST', '/jobs/submit', { body: originalBody('x', '1--30') }));
      await answer('ValidationError', 422, call('POST', '/jobs/submit', { body: { job: {} } }));
      const malformed = h.fetch('/jobs/submit', {
        method: 'POST',
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
        body: '{"job": {',
      });
      const invalid = await answer('ValidationError', 422, malformed);
      expect(invalid.detail).toMatchObject([{ type: 'json_invalid', loc: ['body'] }]);
    });

    // Last: the database is gone after it. Only the embedded app's can be taken from under it here.
    if (host.name.startsWith('the embedded')) {
      it('answers /health 503 unhealthy once the database is gone', async () => {
        await h.loseDatabase!();
        await answer('Unhealthy', 503, call('GET', '/health', { token: null }));
      });
    }
  });
}

describe('the contract schema', () => {
  it('fails the answers the original paths gave before they kept its shapes', () => {
    // The dashboard's former names, a state the original never had, a Z on a time, an integer job id on submit.
    expect(check('DashboardResponse', { jobs: { total: 1 }, resources: {}, nodes: [], running: [] }).valid).toBe(false);
    const query = {
      job_id: '1',
      state: 'PENDING',
      error_msg: null,
      time: {
        submit_time: '2026-01-01T00:00:00',
        eligible_time: '2026-01-01T00:00:00',
        start_time: null,
        end_time: null,
        elapsed_time: '0-00:00:00',
        limit_time: '1:00:00',
      },
      job_log: { stdout: '', stderr: '' },
      detail: {
        job_name: 'j',
        user: 'a',
        partition: 'p',
        allocated_cpus: 1,
        allocated_nodes: 1,
        node_list: '',
        exit_code: ':',
        work_dir: '',
        data_source: 'API',
        account: 'a',
        added: 'fields are allowed',
      },
      added: true,
    };
    expect(check('JobQueryResponse', query).valid).toBe(true);
    expect(check('JobQueryResponse', { ...query, state: 'TIMEOUT' }).valid).toBe(false);
    expect(check('JobQueryResponse', { ...query, job_log: { stdout: null, stderr: null } }).valid).toBe(false);
    expect(
      check('JobQueryResponse', { ...query, time: { ...query.time, submit_time: '2026-01-01T00:00:00.000Z' } }).valid,
    ).toBe(false);
    expect(check('JobQueryResponse', { ...query, time: { ...query.time, limit_time: '0-01:00:00' } }).valid).toBe(
      false,
    );
    expect(check('JobSubmitResponse', { job_id: 1 }).valid).toBe(false);
    expect(check('Health', { status: 'ok', database: 'ok' }).valid).toBe(false);
    expect(check('ValidationError', { detail: 'Invalid value for job.time_limit' }).valid).toBe(false);
  });
});
