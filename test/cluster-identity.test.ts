/**
 * Cluster identity (issue 13, item 4). The finding first: a Postgres host started where the embedded default had run
 * shares its log directory; job ids restart at 1, and the new jobs' output replaced the old jobs' (a finished job
 * served another job's lines). Then: a node of one cluster refuses to start against another cluster's API.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { FileLogStore } from '../shared/logs/file-log-store.js';
import { claimLegacyKeys, LegacyKeysOfAnotherCluster, legacyKeysOwner } from '../shared/logs/legacy-keys-owner.js';
import { storedEnd } from '../shared/logs/log-reader.js';
import { bundled } from './helpers/bundled.js';
import { nodeArgs } from './helpers/child-server.js';
import { backends } from './helpers/test-databases.js';
import { startTestApi, testNodes, waitForState, type TestApi, type TestNodes } from './helpers/test-node.js';
import { silentLogger } from '../shared/log/logger.js';
import { messageLogger } from './helpers/message-logger.js';

const ROOT = new URL('..', import.meta.url).pathname;
const run = promisify(execFile);
const [pglite, postgres] = await backends();

describe.skipIf(postgres!.skip)('two deployments sharing one log directory', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** An API on `backend` storing output in `logDir`, with one node daemon of its own. */
  async function deployment(backend: typeof pglite, logDir: string, node: string) {
    const api = await startTestApi({ backend: backend!, logDir });
    cleanups.push(() => api.close());
    const nodes = testNodes(api);
    cleanups.push(() => nodes.cleanup());
    const daemon = await nodes.start(node, { CONDUCTOR_NODE_CPUS: '1' });
    return { api, nodes, daemon, work: nodes.dir() };
  }

  async function runJob(d: { api: TestApi; work: string }, line: string): Promise<string> {
    const id = await d.api.t.submit({ name: 'mine', current_working_directory: d.work }, `#!/bin/bash\necho "${line}"`);
    expect(await waitForState(d.api.t, id, ['COMPLETED', 'FAILED'])).toMatchObject({ state: 'COMPLETED' });
    return id;
  }

  const stdout = async (api: TestApi, id: string) => (await api.t.call('GET', `/v1/jobs/${id}/logs/stdout`)).text();

  it("keeps each one's job 1 output its own: the embedded default's and a Postgres host's", async () => {
    const logDir = mkdtempSync(join(tmpdir(), 'conductor-shared-logs-'));
    cleanups.push(async () => rmSync(logDir, { recursive: true, force: true }));
    // The embedded default ran first, and its job finished.
    const embedded = await deployment(pglite, logDir, 'embedded-node');
    const first = await runJob(embedded, 'the embedded deployment job');
    // Then a Postgres host, started where it had run: the same log directory, job ids from 1 again.
    const server = await deployment(postgres, logDir, 'server-node');
    expect(server.api.clusterId).not.toBe(embedded.api.clusterId);
    const second = await runJob(server, 'the Postgres deployment job');
    expect(second).toBe(first);

    expect(await stdout(embedded.api, first)).toBe('the embedded deployment job\n');
    expect(await stdout(server.api, second)).toBe('the Postgres deployment job\n');
    const query = await (await embedded.api.t.call('GET', `/jobs/query/${first}`)).json();
    expect(query.job_log.stdout).toBe('the embedded deployment job\n');
  });
});

describe('the old keys of a store (output from before cluster ids)', () => {
  it('belong to the first cluster with such jobs to claim them: another is refused, naming both ids', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'conductor-legacy-keys-'));
    try {
      const store = new FileLogStore(dir);
      const [first, second] = [randomUUID(), randomUUID()];
      await store.put({ jobId: 1, attempt: 1, stream: 'stdout' }, 0, new TextEncoder().encode('old output\n'));
      await claimLegacyKeys(store, first);
      await claimLegacyKeys(store, first);
      const refused = claimLegacyKeys(store, second);
      await expect(refused).rejects.toThrow(LegacyKeysOfAnotherCluster);
      await expect(refused).rejects.toThrow(new RegExp(`cluster ${first}.*cluster ${second}`));
      // The old output is left as it was.
      expect(await storedEnd(store, { jobId: 1, attempt: 1, stream: 'stdout' })).toBe(11);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(postgres!.skip)('an API whose database has jobs from before cluster ids', () => {
  it('refuses to start on a store whose old keys another cluster claimed, naming both ids; starts on its own', async () => {
    const { POSTGRES_URL } = await import('./helpers/test-databases.js');
    const { openNodeDatabase } = await import('../shared/db/node-database.js');
    const { loadMigrations } = await import('../shared/db/migration-files.js');
    const { migrate } = await import('../shared/db/migrator.js');
    const { readNodeHostConfig } = await import('../shared/config/node-host-config.js');
    const { startNodeHost } = await import('../api/hosts/node/node-host.js');
    const { freePort } = await import('./helpers/child-server.js');
    const schema = `test_cluster_${Math.random().toString(36).slice(2, 8)}`;
    const admin = await openNodeDatabase({ url: POSTGRES_URL, poolSize: 1 });
    await admin.db.execute(sql.raw(`CREATE SCHEMA ${schema}`));
    const logDir = mkdtempSync(join(tmpdir(), 'conductor-claimed-'));
    try {
      // A database from before cluster ids, with a job.
      const old = await openNodeDatabase({ url: POSTGRES_URL, searchPath: schema, poolSize: 1 });
      await migrate(
        old.migrations,
        (await loadMigrations()).filter((m) => m.name < '0013'),
      );
      await old.db.execute(sql`
        INSERT INTO jobs (account, name, partition, submitted_by, script, stdout_pattern, stderr_pattern, environment,
                          ntasks_per_node, cpus_per_task, cpus, memory_mb)
        VALUES ('a', 'before', 'batch', 'admin:x', 'true', 'o', 'e', '{}', 1, 1, 1, 1024)`);
      await old.close();
      const config = async (dir: string) =>
        readNodeHostConfig({
          DATABASE_URL: `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
          PORT: String(await freePort('127.0.0.1')),
          CONDUCTOR_LOG_DIR: dir,
          CONDUCTOR_LOCAL_NODE: 'off',
          CONDUCTOR_DATA_DIR: dir,
        });
      // Another cluster with jobs from before claimed the store's old keys.
      const other = randomUUID();
      await claimLegacyKeys(new FileLogStore(logDir), other);
      const refused = await startNodeHost(await config(logDir), silentLogger).then(
        (host) => host.stop().then(() => undefined),
        (error: Error) => error,
      );
      expect(refused).toBeInstanceOf(LegacyKeysOfAnotherCluster);
      expect(refused!.message).toContain(other);
      const lines: string[] = [];
      // Its own store (where its old output is): claimed for its cluster, and it starts.
      const ownDir = mkdtempSync(join(tmpdir(), 'conductor-own-'));
      try {
        const host = await startNodeHost(
          await config(ownDir),
          messageLogger((line) => lines.push(line)),
        );
        await host.stop();
        const cluster = /cluster ([0-9a-f-]{36})/.exec(lines.join('\n'))![1]!;
        expect(refused!.message).toContain(cluster);
        expect(await legacyKeysOwner(new FileLogStore(ownDir))).toBe(cluster);
      } finally {
        rmSync(ownDir, { recursive: true, force: true });
      }
    } finally {
      await admin.db.execute(sql.raw(`DROP SCHEMA ${schema} CASCADE`));
      await admin.close();
      rmSync(logDir, { recursive: true, force: true });
    }
  });
});

describe('a node daemon of one cluster', () => {
  let apis: TestApi[] = [];
  let nodes: TestNodes | undefined;
  afterEach(async () => {
    await nodes?.cleanup();
    for (const api of apis) await api.close();
    apis = [];
  });

  it("refuses to start against another cluster's API, naming both ids", async () => {
    // Two databases of their own: the embedded one and the server's when there is one, else two embedded.
    const mine = await startTestApi({ backend: pglite! });
    const other = await startTestApi(postgres!.skip ? {} : { backend: postgres! });
    apis = [mine, other];
    expect(other.clusterId).not.toBe(mine.clusterId);
    nodes = testNodes(mine);
    const daemon = await nodes.start('n1', { CONDUCTOR_NODE_CPUS: '1' });
    expect(daemon.stdout().join('\n')).toContain(`node joins cluster ${mine.clusterId}`);
    expect(await daemon.stop()).toBe('code 0');

    // The same node, its directory and journal, pointed at the other cluster's API.
    const started = run(process.execPath, nodeArgs(bundled('nodeBundle', 'worker-node/main.ts')), {
      cwd: ROOT,
      // Not a measure: a daemon that wrongly starts would otherwise outlive the test.
      timeout: 60_000,
      env: {
        PATH: process.env.PATH,
        CONDUCTOR_API_URL: other.url,
        CONDUCTOR_NODE_TOKEN: await other.t.token('node', 'n1'),
        CONDUCTOR_NODE_NAME: 'n1',
        CONDUCTOR_NODE_PARTITIONS: 'default',
        CONDUCTOR_NODE_CPUS: '1',
        CONDUCTOR_NODE_MEMORY_MB: '1024',
        CONDUCTOR_NODE_DIR: nodes.nodeDir('n1'),
        CONDUCTOR_CORE_LOCK_DIR: join(nodes.dir(), 'cores'),
        CONDUCTOR_LOG_DIR: other.logDir,
      },
    });
    const failure = await started.then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain(mine.clusterId);
    expect(failure?.stderr).toContain(other.clusterId);
    // It claimed nothing there, nor said it lives.
    const { nodes: listed } = await (await other.t.call('GET', '/v1/nodes')).json();
    expect(listed).toEqual([]);
  });
});
