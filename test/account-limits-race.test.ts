/**
 * Account limits hold with two API processes and two daemons racing (issue 19, items 2 and 7): two Node hosts over
 * one Postgres database and one Redis queue, a real daemon reporting to each. What is checked is read from Postgres
 * (job rows), never from timing: no snapshot ever shows an account over its running limits, concurrent submits to both
 * APIs leave exactly max_pending_jobs jobs, and output a job stored refuses submits until retention deletes it.
 */
import { sql } from 'drizzle-orm';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeOutput } from '../api/jobs/purge-jobs.js';
import { readClusterId } from '../shared/db/cluster-id.js';
import { queryRows } from '../shared/db/query-rows.js';
import { FileLogStore } from '../shared/logs/file-log-store.js';
import { bundled } from './helpers/bundled.js';
import { freePort, startChildServer, type ChildServer } from './helpers/child-server.js';
import { ADMIN_TOKEN, validJob } from './helpers/test-app.js';
import { backends, createTestDatabase, type TestDatabase } from './helpers/test-databases.js';
import { testNodes, type TestNodes } from './helpers/test-node.js';
import { deleteKeys, REDIS_URL, redisUnreachable } from './helpers/test-redis.js';
import { waitFor } from './helpers/wait-for.js';
import { DEFAULT_RETENTION } from '../shared/config/retention-settings.js';

const ROOT = new URL('..', import.meta.url).pathname;
const HOST_PROGRAM = bundled('hostBundle', 'api/hosts/node/main.ts');
const postgres = (await backends()).find((backend) => backend.name === 'postgres')!;
const skip = postgres.skip ?? (await redisUnreachable());

describe.skipIf(skip)('account limits with two API processes and two daemons racing', () => {
  let database: TestDatabase;
  const hosts: ChildServer[] = [];
  const nodes: TestNodes[] = [];
  const prefix = `test:accounts-race:${Math.random().toString(36).slice(2, 8)}:`;
  const logDir = mkdtempSync(join(tmpdir(), 'conductor-accounts-logs-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'conductor-accounts-data-'));
  let work: string;

  const call = (host: number, method: string, path: string, body?: unknown) =>
    fetch(`${hosts[host]!.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const submit = (host: number, account: string, script: string, cpus = 1) =>
    call(host, 'POST', '/v1/jobs', {
      job: validJob({
        account,
        partition: 'default',
        current_working_directory: work,
        ntasks_per_node: 1,
        cpus_per_task: cpus,
        memory_per_node: '64M',
        time_limit: '5',
      }),
      script,
    });
  const idOf = async (response: Response) => {
    expect(response.status).toBe(201);
    return ((await response.json()) as { id: string }).id;
  };
  const states = async (account: string) =>
    (await queryRows(database.db, sql`SELECT state FROM jobs WHERE account = ${account}`)).map((row) => row.state);

  beforeAll(async () => {
    database = await createTestDatabase(postgres, { poolSize: 4 });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: database.url!,
      REDIS_URL,
      CONDUCTOR_REDIS_PREFIX: prefix,
      CONDUCTOR_ADMIN_TOKEN: ADMIN_TOKEN,
      CONDUCTOR_DATA_DIR: dataDir,
      CONDUCTOR_LOG_DIR: logDir,
      CONDUCTOR_LOCAL_NODE: 'off',
      CONDUCTOR_RECONCILE_SECONDS: '1',
    };
    delete env.HOST;
    for (let i = 0; i < 2; i++) {
      const port = String(await freePort('127.0.0.1'));
      hosts.push(await startChildServer(`api ${i}`, HOST_PROGRAM, ROOT, { ...env, PORT: port }));
    }
    // Each daemon reports to its own API process; both claim from the one Redis queue.
    for (const [i, name] of ['ra1', 'ra2'].entries()) {
      const token = async (kind: 'admin' | 'user' | 'node', bound?: string) => {
        const response = await call(i, 'POST', '/v1/tokens', {
          name: `${kind}-${bound}`,
          kind,
          node: bound,
          partitions: ['default'],
        });
        return ((await response.json()) as { token: string }).token;
      };
      const set = testNodes({ url: hosts[i]!.url, logDir, t: { token } });
      nodes.push(set);
      await set.start(name, { REDIS_URL, CONDUCTOR_REDIS_PREFIX: prefix });
    }
    work = nodes[0]!.dir();
    await waitFor('both nodes UP', async () => {
      const rows = await queryRows(database.db, sql`SELECT count(*) AS n FROM nodes WHERE state = 'UP'`);
      return Number(rows[0]!.n) === 2 ? true : undefined;
    });
  });
  afterAll(async () => {
    for (const set of nodes) await set.cleanup();
    await Promise.all(hosts.map((host) => host.stop()));
    await database?.destroy();
    await deleteKeys(prefix);
    rmSync(logDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('never runs more of an account than its running limits allow, and runs every job in the end', async () => {
    expect((await call(0, 'PUT', '/v1/accounts/race', { max_running_jobs: 2, max_running_cpus: 3 })).status).toBe(200);
    // 4 free cores on two nodes, 16 jobs of 1 or 2 CPUs sent to both APIs at once: only the limits hold them back.
    const ids = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        submit(i % 2, 'race', '#!/bin/bash\nsleep 0.3', 1 + (i % 3 === 0 ? 1 : 0)).then(idOf),
      ),
    );
    let most = { jobs: 0, cpus: 0 };
    const held = new Set<string>();
    await waitFor(
      'every job of the account to complete',
      async () => {
        // One statement: one snapshot of the truth.
        const [row] = await queryRows(
          database.db,
          sql`SELECT count(*) FILTER (WHERE state = 'RUNNING') AS jobs,
                     coalesce(sum(cpus) FILTER (WHERE state = 'RUNNING'), 0) AS cpus,
                     count(*) FILTER (WHERE state IN ('PENDING', 'RUNNING')) AS active,
                     array_agg(DISTINCT reason) FILTER (WHERE state = 'PENDING') AS reasons
              FROM jobs WHERE account = 'race'`,
        );
        most = { jobs: Math.max(most.jobs, Number(row!.jobs)), cpus: Math.max(most.cpus, Number(row!.cpus)) };
        for (const reason of (row!.reasons as string[] | null) ?? []) held.add(reason);
        return Number(row!.active) === 0 ? true : undefined;
      },
      120_000,
    );
    expect(most.jobs).toBeLessThanOrEqual(2);
    expect(most.cpus).toBeLessThanOrEqual(3);
    // The limits were reached, so the race was real: jobs were held with Slurm's reasons on the way.
    expect([...held].some((reason) => reason === 'AssocMaxJobsLimit' || reason === 'AssocGrpCpuLimit')).toBe(true);
    expect(await states('race')).toEqual(Array(ids.length).fill('COMPLETED'));
  }, 150_000);

  it('keeps max_pending_jobs exact under concurrent submits to both APIs', async () => {
    // Nothing of this account runs (0 running jobs), so its jobs stay PENDING whatever the daemons claim.
    expect((await call(1, 'PUT', '/v1/accounts/burst', { max_pending_jobs: 5, max_running_jobs: 0 })).status).toBe(200);
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => submit(i % 2, 'burst', '#!/bin/bash\ntrue')),
    );
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(25);
    const refused = answers.find((answer) => answer.status === 429)!;
    expect(refused.headers.get('Retry-After')).toBe('30');
    expect(((await refused.json()) as { code: string }).code).toBe('max_pending_jobs');
    expect(await states('burst')).toEqual(Array(5).fill('PENDING'));
    for (const answer of answers.filter((answer) => answer.status === 201)) {
      const { id } = (await answer.json()) as { id: string };
      expect((await call(0, 'POST', `/v1/jobs/${id}/cancel`)).status).toBe(200);
    }
  });

  it('refuses submits once a job stored more output than max_stored_output_bytes, until retention deletes it', async () => {
    expect((await call(0, 'PUT', '/v1/accounts/store', { max_stored_output_bytes: 1000 })).status).toBe(200);
    const id = await idOf(await submit(1, 'store', "#!/bin/bash\nhead -c 4000 /dev/zero | tr '\\0' x"));
    await waitFor('the job to complete', async () => ((await states('store'))[0] === 'COMPLETED' ? true : undefined));
    const [job] = await queryRows(database.db, sql`SELECT output_bytes FROM jobs WHERE id = ${id}`);
    // Its node said how much it stored: the 4000 bytes of its one output file.
    expect(Number(job!.output_bytes)).toBe(4000);
    const usage = (await (await call(1, 'GET', '/v1/accounts/store')).json()) as {
      usage: { stored_output_bytes: number };
    };
    expect(usage.usage.stored_output_bytes).toBe(4000);
    const refused = await submit(0, 'store', '#!/bin/bash\ntrue');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('Retry-After')).toBe('30');
    const problem = (await refused.json()) as { code: string; detail: string };
    expect(problem.code).toBe('max_stored_output_bytes');
    expect(problem.detail).toContain('4000 bytes');
    expect(problem.detail).toContain('max_stored_output_bytes is 1000');
    // Retention deletes its output (as the reconciler does past CONDUCTOR_OUTPUT_RETENTION_DAYS): the space is free.
    const logs = new FileLogStore(logDir);
    const purged = await purgeOutput(
      database.db,
      logs,
      () => readClusterId(database.db),
      { ...DEFAULT_RETENTION, outputMs: 0, jobMs: null },
      new Date(),
      100,
    );
    expect(purged).toBeGreaterThanOrEqual(1);
    await idOf(await submit(0, 'store', '#!/bin/bash\ntrue'));
  }, 90_000);
});
