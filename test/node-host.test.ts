import { PROTOCOL_HEADER, PROTOCOL_VERSION } from '../shared/protocol/protocol-version.js';
import { execFile } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { bundled } from './helpers/bundled.js';
import { freePort, nodeArgs, startChildServer, type ChildServer } from './helpers/child-server.js';
import { configurePartition } from './helpers/configure-partition.js';
import { validJob } from './helpers/test-app.js';
import { removeLeftCgroups } from './helpers/test-node.js';
import { unixUsers } from './helpers/unix-users.js';
import { waitFor } from './helpers/wait-for.js';

const ROOT = new URL('..', import.meta.url).pathname;
/** `npm start`'s own program, started once as it is; the other tests start the same program bundled (it starts faster). */
const MAIN = 'api/hosts/node/main.ts';
const HOST_PROGRAM = bundled('hostBundle', MAIN);
const run = promisify(execFile);

/** The environment of a newcomer: none of the test run's own configuration. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'PORT', 'HOST', 'CONDUCTOR_DATA_DIR', 'CONDUCTOR_ADMIN_TOKEN'])
    delete env[name];
  return { ...env, ...extra };
}

describe('the embedded default (npm start)', () => {
  const servers: ChildServer[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.stop()));
    for (const dir of dirs.splice(0)) {
      // The local node (named after the machine) leaves its cgroups when its host stops.
      await removeLeftCgroups(hostname().split('.')[0]!.slice(0, 64), join(dir, 'node'));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /**
   * A new data directory. `migrated`: holding the run's migrated PGlite database already (PGlite's initdb of a new
   * database takes seconds), in a directory others may read, as a version from before private data directories left
   * it; the tests of a first start leave it out.
   */
  const newDataDir = (migrated: boolean) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'conductor-host-'));
    dirs.push(dataDir);
    if (migrated) {
      cpSync(inject('pgliteDataDir'), join(dataDir, 'pglite'), { recursive: true });
      chmodSync(join(dataDir, 'pglite'), 0o755);
    }
    return dataDir;
  };

  const start = async (dataDir: string, port: number, script = HOST_PROGRAM) => {
    const server = await startChildServer(
      'node host',
      script,
      ROOT,
      // The local node's core records in the data directory: embedded hosts of other tests keep off its cores.
      cleanEnv({ CONDUCTOR_DATA_DIR: dataDir, PORT: String(port), CONDUCTOR_CORE_LOCK_DIR: join(dataDir, 'cores') }),
    );
    servers.push(server);
    return server;
  };

  it('needs no setup, makes an admin token readable by its user only, and keeps its data across a restart', async () => {
    const dataDir = newDataDir(false);
    const port = await freePort('127.0.0.1');
    const first = await start(dataDir, port);
    expect(first.url).toBe(`http://127.0.0.1:${port}`);
    const tokenFile = join(dataDir, 'admin-token');
    expect(first.stdout().join('\n')).toContain(`admin token created in ${tokenFile}`);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const token = readFileSync(tokenFile, 'utf8').trim();

    await configurePartition(first.url, token);
    const submit = await fetch(`${first.url}/jobs/submit`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ job: validJob(), script: '#!/bin/bash\ntrue' }),
    });
    expect(submit.status).toBe(201);
    const { job_id: id } = await submit.json();
    expect(await first.stop()).toBe('code 0');
    servers.length = 0;

    const second = await start(dataDir, port);
    expect(second.stdout().join('\n')).not.toContain('created');
    expect(readFileSync(tokenFile, 'utf8').trim()).toBe(token);
    const query = await fetch(`${second.url}/jobs/query/${id}`, { headers: { Authorization: `Bearer ${token}` } });
    expect(query.status).toBe(200);
    expect((await query.json()).state).toBe('PENDING');
  });

  it("runs a newcomer's first job with no setup: a local node in the same process", async () => {
    const dataDir = newDataDir(false);
    const host = await start(dataDir, await freePort('127.0.0.1'), MAIN);
    expect(host.stdout().join('\n')).toMatch(/node \S+ started: cores/);
    const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
    const submit = await fetch(`${host.url}/v1/jobs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        job: { name: 'first', current_working_directory: join(dataDir, 'work') },
        script: '#!/bin/bash\necho "hello from $SLURM_JOB_NAME"',
      }),
    });
    expect(submit.status).toBe(201);
    const { id } = await submit.json();
    const job = await waitFor(`job ${id} to end`, async () => {
      const seen = (await (await fetch(`${host.url}/v1/jobs/${id}`, { headers })).json()) as { state: string };
      return seen.state === 'COMPLETED' || seen.state === 'FAILED' ? seen : undefined;
    });
    expect(job).toMatchObject({ state: 'COMPLETED', exit_code: { status: 0, signal: null } });
    expect(readFileSync(join(dataDir, 'work', `slurm-${id}.out`), 'utf8')).toBe('hello from first\n');
    // Its output is served by the API, from the store in the data directory.
    const output = await fetch(`${host.url}/v1/jobs/${id}/logs/stdout`, { headers });
    expect(await output.text()).toBe('hello from first\n');
    const query = await (await fetch(`${host.url}/jobs/query/${id}`, { headers })).json();
    expect(query.job_log).toEqual({ stdout: 'hello from first\n', stderr: '' });
    const { nodes } = await (await fetch(`${host.url}/v1/nodes`, { headers })).json();
    expect(nodes).toMatchObject([{ state: 'UP', cpus_allocated: 0 }]);
  });

  it("as root, runs an owner's job as its owner, which reaches its working directory but none of the host's secrets", async (ctx) => {
    const users = unixUsers('the embedded default as root');
    if (!users) return ctx.skip();
    const dataDir = newDataDir(true);
    const host = await start(dataDir, await freePort('127.0.0.1'));
    // The database an older version left readable is narrowed at start-up (the probe below reads it otherwise).
    expect(host.stdout()).toContain(`${join(dataDir, 'pglite')}: mode 755 made 700`);
    const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
    // Each probe prints `<name> refused` when the read fails, `<name> READ` when it gets through.
    const secrets = {
      'admin-token': `cat ${join(dataDir, 'admin-token')}`,
      'node-token': `cat ${join(dataDir, 'node-token')}`,
      database: `ls ${join(dataDir, 'pglite')}`,
      'data-dir': `ls ${dataDir}`,
      'log-store': `ls ${join(dataDir, 'logs')}`,
      journal: `ls ${join(dataDir, 'node', 'journal')}`,
      'host-environ': `cat /proc/${host.pid}/environ`,
    };
    const script = Object.entries(secrets)
      .map(
        ([name, command]) => `if ${command} >/dev/null 2>&1; then echo "${name} READ"; else echo "${name} refused"; fi`,
      )
      .join('\n');
    const submit = await fetch(`${host.url}/v1/jobs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ job: { name: 'probe', user: users.b.name }, script: `#!/bin/bash\nid -un\n${script}` }),
    });
    expect(submit.status).toBe(201);
    const { id } = await submit.json();
    const job = await waitFor(`job ${id} to end`, async () => {
      const seen = (await (await fetch(`${host.url}/v1/jobs/${id}`, { headers })).json()) as { state: string };
      return seen.state === 'COMPLETED' || seen.state === 'FAILED' ? seen : undefined;
    });
    expect(job).toMatchObject({ state: 'COMPLETED' });
    const output = await (await fetch(`${host.url}/v1/jobs/${id}/logs/stdout`, { headers })).text();
    expect(output.split('\n').filter(Boolean)).toEqual([
      users.b.name,
      ...Object.keys(secrets).map((name) => `${name} refused`),
    ]);
  });

  it('cuts off a follower of a running job when it stops: a broken transfer, and a stop that does not wait for the job', async () => {
    const dataDir = newDataDir(true);
    const host = await start(dataDir, await freePort('127.0.0.1'));
    const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
    const work = join(dataDir, 'work');
    const submit = await fetch(`${host.url}/v1/jobs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        job: { name: 'long', current_working_directory: work },
        script: '#!/bin/bash\necho $$ > pid\necho started\nexec sleep 60',
      }),
    });
    const { id } = await submit.json();
    const follow = await fetch(`${host.url}/v1/jobs/${id}/logs/stdout?follow=true`, { headers });
    const reader = follow.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('started\n');
    try {
      // Stopped within its deadline, and cleanly (a stop held up past it exits 1).
      expect(await host.stop()).toBe('code 0');
      // Not a clean end, which would read as the whole output: the follower knows to follow again.
      await expect(reader.read()).rejects.toThrow();
    } finally {
      // The job outlives the API that ran its node, as jobs do; this test ends it.
      process.kill(Number(readFileSync(join(work, 'pid'), 'utf8')), 'SIGKILL');
    }
  });

  it('refuses a second process on the same data directory', async () => {
    const dataDir = newDataDir(true);
    await start(dataDir, await freePort('127.0.0.1'));
    const second = run(process.execPath, nodeArgs(HOST_PROGRAM), {
      cwd: ROOT,
      env: cleanEnv({ CONDUCTOR_DATA_DIR: dataDir, PORT: String(await freePort('127.0.0.1')) }),
    });
    await expect(second).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('is in use by another SCNS-Conductor process'),
    });
  });

  it(
    'keeps its data directory private, and restarts at once after kill -9 (the lock of a dead pid is taken over)',
    { timeout: 120_000 },
    async () => {
      const parent = mkdtempSync(join(tmpdir(), 'conductor-host-'));
      dirs.push(parent);
      // Not there yet: the host makes it, 0700 (0711 as root: the local node's job owners pass through it to their
      // working directories), whatever the umask it was started with (the test runner's, 022 here).
      const dataDir = join(parent, 'data');
      const port = await freePort('127.0.0.1');
      const first = await start(dataDir, port);
      expect(statSync(dataDir).mode & 0o777).toBe(process.getuid?.() === 0 ? 0o711 : 0o700);
      // PGlite (Emscripten's NODEFS) sets its files' modes itself, past the umask: the 0700 directories above them are
      // what keeps them private. Everything else the host writes is its user's alone: no other user may list or
      // write a directory of it (passing through is allowed) or open a file; but the local node's srun, which every
      // job owner runs (perl reads it: 0755, the daemon's to change).
      const srun = join(dataDir, 'node', 'bin', 'srun');
      const open = everything(dataDir).filter((path) => {
        const stat = statSync(path);
        if (stat.isDirectory()) return (stat.mode & 0o066) !== 0;
        if (path === srun) return (stat.mode & 0o777) !== 0o755;
        return (stat.mode & 0o077) !== 0 && !path.startsWith(join(dataDir, 'pglite'));
      });
      expect(open).toEqual([]);
      first.kill('SIGKILL');
      await first.exited;
      servers.length = 0;
      // At once: the lock's owner is gone, so it is not held for proper-lockfile's stale time.
      const second = await start(dataDir, port);
      expect(second.url).toBe(`http://127.0.0.1:${port}`);
    },
  );

  it.each([
    ['CONDUCTOR_MAX_FOLLOWS', '0'],
    ['PORT', 'http'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://localhost/db'],
    ['REDIS_URL', 'localhost:6379'],
    ['CONDUCTOR_ADMIN_TOKEN', 'short'],
    ['CONDUCTOR_TOKEN_CACHE_SECONDS', '-1'],
  ])('stops at start-up when %s=%s, naming the variable', async (name, value) => {
    const started = run(process.execPath, nodeArgs(HOST_PROGRAM), { cwd: ROOT, env: cleanEnv({ [name]: value }) });
    await expect(started).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(new RegExp(`Invalid configuration:\\n  ${name}: `)),
    });
  });
});

describe('the Node host on a Postgres server', async () => {
  const { backends, POSTGRES_URL } = await import('./helpers/test-databases.js');
  const [, postgres] = await backends();
  it.skipIf(postgres!.skip)('migrates a new database at start-up and accepts CONDUCTOR_ADMIN_TOKEN', async () => {
    const pg = (await import('pg')).default;
    const schema = `test_host_${Math.random().toString(36).slice(2, 8)}`;
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    const adminToken = 'a-bootstrap-token-for-this-test-0123456789';
    const url = `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    const server = await startChildServer(
      'node host',
      HOST_PROGRAM,
      ROOT,
      cleanEnv({ DATABASE_URL: url, CONDUCTOR_ADMIN_TOKEN: adminToken, PORT: String(await freePort('127.0.0.1')) }),
    );
    try {
      expect(server.stdout().join('\n')).toContain('migrations applied: 0001_initial');
      expect(server.stdout().join('\n')).not.toContain('admin token');
      const response = await fetch(`${server.url}/v1/stats`, { headers: { Authorization: `Bearer ${adminToken}` } });
      expect(response.status).toBe(200);
      const tables = await admin.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, [
        schema,
      ]);
      expect(tables.rows.map((row) => row.table_name)).toContain('jobs');
    } finally {
      await server.stop();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    }
  });
});

describe('the Node host on a Postgres server, first start and probes', async () => {
  const { backends, createTestDatabase } = await import('./helpers/test-databases.js');
  const { queryRows } = await import('../shared/db/query-rows.js');
  const { sql } = await import('drizzle-orm');
  const [, postgres] = await backends();
  type TestDatabase = Awaited<ReturnType<typeof createTestDatabase>>;
  const servers: ChildServer[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.stop()));
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  /** A test's own migrated database with no token, and a data directory; dropped and removed after the test. */
  const fresh = async () => {
    const database = await createTestDatabase(postgres!);
    let dropped = false;
    const dataDir = mkdtempSync(join(tmpdir(), 'conductor-pg-host-'));
    cleanups.push(async () => {
      if (!dropped) await database.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const drop = async () => {
      dropped = true;
      await database.destroy();
    };
    return { database, dataDir, drop };
  };
  const start = async (database: TestDatabase, dataDir: string, extra: Record<string, string> = {}) => {
    const server = await startChildServer(
      'node host',
      HOST_PROGRAM,
      ROOT,
      cleanEnv({
        DATABASE_URL: database.url!,
        CONDUCTOR_DATA_DIR: dataDir,
        PORT: String(await freePort('127.0.0.1')),
        ...extra,
      }),
    );
    servers.push(server);
    return server;
  };
  const adminRows = async (database: TestDatabase) =>
    queryRows(database.db, sql`SELECT id FROM api_tokens WHERE kind = 'admin' AND revoked_at IS NULL`);

  it.skipIf(postgres!.skip)(
    'makes the first admin token in the data directory (0600) and says so once; a second start makes none',
    async () => {
      const { database, dataDir } = await fresh();
      expect(await adminRows(database)).toHaveLength(0);
      const first = await start(database, dataDir);
      const tokenFile = join(dataDir, 'admin-token');
      expect(first.stdout().filter((line) => line.includes('admin token'))).toEqual([
        `admin token created in ${tokenFile} (readable by you only)`,
      ]);
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
      const token = readFileSync(tokenFile, 'utf8').trim();
      await configurePartition(first.url, token);
      const submit = await fetch(`${first.url}/jobs/submit`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ job: validJob(), script: '#!/bin/bash\ntrue' }),
      });
      expect(submit.status).toBe(201);
      expect(await first.stop()).toBe('code 0');
      servers.length = 0;

      const second = await start(database, dataDir);
      expect(second.stdout().join('\n')).not.toContain('admin token');
      expect(readFileSync(tokenFile, 'utf8').trim()).toBe(token);
      expect(await adminRows(database)).toHaveLength(1);
    },
  );

  it.skipIf(postgres!.skip)(
    'two hosts starting at once on a new database make one admin token between them',
    async () => {
      const { database, dataDir } = await fresh();
      const otherDir = mkdtempSync(join(tmpdir(), 'conductor-pg-host-'));
      cleanups.push(async () => rmSync(otherDir, { recursive: true, force: true }));
      const hosts = await Promise.all([start(database, dataDir), start(database, otherDir)]);
      const said = hosts.map((host) => host.stdout().some((line) => line.startsWith('admin token created in ')));
      expect(said.filter(Boolean)).toHaveLength(1);
      expect(await adminRows(database)).toHaveLength(1);
      expect(readdirSync(said[0] ? otherDir : dataDir)).not.toContain('admin-token');
    },
  );

  it.skipIf(postgres!.skip)('leaves an admin token file already there alone, and refuses to start', async () => {
    const { database, dataDir } = await fresh();
    const tokenFile = join(dataDir, 'admin-token');
    writeFileSync(tokenFile, 'the embedded database token\n', { mode: 0o600 });
    const started = run(process.execPath, nodeArgs(HOST_PROGRAM), {
      cwd: ROOT,
      env: cleanEnv({
        DATABASE_URL: database.url!,
        CONDUCTOR_DATA_DIR: dataDir,
        PORT: String(await freePort('127.0.0.1')),
      }),
    });
    await expect(started).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining(`${tokenFile} exists already`),
    });
    expect(readFileSync(tokenFile, 'utf8')).toBe('the embedded database token\n');
    expect(readdirSync(dataDir)).toEqual(['admin-token']);
    expect(await adminRows(database)).toHaveLength(0);
  });

  it.skipIf(postgres!.skip)('makes no admin token when CONDUCTOR_ADMIN_TOKEN is set', async () => {
    const { database, dataDir } = await fresh();
    const host = await start(database, dataDir, {
      CONDUCTOR_ADMIN_TOKEN: 'a-bootstrap-token-for-this-test-0123456789',
    });
    expect(host.stdout().join('\n')).not.toContain('admin token');
    expect(readdirSync(dataDir)).not.toContain('admin-token');
    expect(await adminRows(database)).toHaveLength(0);
  });

  it.skipIf(postgres!.skip)(
    'answers /livez with the database gone, and /readyz 200 then a 503 that names nothing',
    async () => {
      const { database, dataDir, drop } = await fresh();
      const host = await start(database, dataDir);
      expect((await fetch(`${host.url}/readyz`)).status).toBe(200);
      await drop();
      const live = await fetch(`${host.url}/livez`);
      expect(live.status).toBe(200);
      expect(await live.json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${host.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(ready.headers.get('content-type')).toBe('application/problem+json');
      expect(await ready.json()).toMatchObject({
        code: 'not_ready',
        detail: 'This API process cannot serve requests now',
      });
      // The original's health check keeps its own answer.
      expect(await (await fetch(`${host.url}/health`)).json()).toMatchObject({ status: 'unhealthy' });
    },
  );
});

describe('the Node host with REDIS_URL', async () => {
  const { backends, POSTGRES_URL } = await import('./helpers/test-databases.js');
  const { REDIS_URL, redisUnreachable, deleteKeys } = await import('./helpers/test-redis.js');
  const [, postgres] = await backends();
  const skip = postgres!.skip ?? (await redisUnreachable());
  it.skipIf(skip)(
    'dispatches through Redis: submit pushes there, and a node claims and confirms over HTTP',
    async () => {
      const pg = (await import('pg')).default;
      const schema = `test_host_${Math.random().toString(36).slice(2, 8)}`;
      const prefix = `test:host:${schema}:`;
      const admin = new pg.Client({ connectionString: POSTGRES_URL });
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
      const adminToken = 'a-bootstrap-token-for-this-test-0123456789';
      const server = await startChildServer(
        'node host',
        HOST_PROGRAM,
        ROOT,
        cleanEnv({
          DATABASE_URL: `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
          REDIS_URL,
          CONDUCTOR_REDIS_PREFIX: prefix,
          CONDUCTOR_ADMIN_TOKEN: adminToken,
          PORT: String(await freePort('127.0.0.1')),
        }),
      );
      try {
        expect(server.stdout().join('\n')).toContain('Redis queue');
        const call = (path: string, body: unknown) =>
          fetch(`${server.url}${path}`, {
            method: 'POST',
            headers: {
              Authorization: `Bearer ${adminToken}`,
              'Content-Type': 'application/json',
              [PROTOCOL_HEADER]: String(PROTOCOL_VERSION),
            },
            body: JSON.stringify(body),
          });
        await configurePartition(server.url, adminToken);
        const submitted = await (await call('/jobs/submit', { job: validJob(), script: 'true' })).json();
        const { Redis } = await import('ioredis');
        const redis = new Redis(REDIS_URL);
        expect(await redis.hexists(`${prefix}refs`, submitted.job_id)).toBe(1);
        redis.disconnect();
        await call('/v1/nodes/n1/heartbeat', { partitions: ['batch'], cpus: 8, memory_mb: 64_000 });
        const claim = { partitions: ['batch'], cpus: 8, memory_mb: 64_000, free_cpus: 8, free_memory_mb: 64_000 };
        const claimed = await (await call('/v1/nodes/n1/claim', claim)).json();
        expect(claimed.refs.map((r: { id: string }) => r.id)).toEqual([submitted.job_id]);
        const confirmed = await (await call('/v1/nodes/n1/confirm', { job_ids: [submitted.job_id] })).json();
        expect(confirmed.jobs.map((j: { id: string }) => j.id)).toEqual([submitted.job_id]);
      } finally {
        await server.stop();
        await admin.query(`DROP SCHEMA ${schema} CASCADE`);
        await admin.end();
        await deleteKeys(prefix);
      }
    },
  );
});

describe('the Node host with its Redis gone', async () => {
  const { backends, createTestDatabase } = await import('./helpers/test-databases.js');
  const [, postgres] = await backends();
  const { spawnSync } = await import('node:child_process');
  // The test runs a Redis server of its own, which needs the program, not only a Redis to talk to.
  const noRedisServer = spawnSync('redis-server', ['--version']).error ? 'no redis-server program' : undefined;
  it.skipIf(postgres!.skip ?? noRedisServer)(
    'answers /readyz 200, then 503 once its Redis stops, and /livez all along',
    async () => {
      const { spawn } = await import('node:child_process');
      const { Redis } = await import('ioredis');
      const database = await createTestDatabase(postgres!);
      const dataDir = mkdtempSync(join(tmpdir(), 'conductor-redis-host-'));
      // A Redis server of its own on a private port: the test stops it.
      const redisPort = await freePort('127.0.0.1');
      const redis = spawn(
        'redis-server',
        ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        {
          stdio: 'ignore',
        },
      );
      const redisExited = new Promise((done) => redis.once('exit', done));
      let host: ChildServer | undefined;
      try {
        await waitFor('the private Redis to answer', async () => {
          const client = new Redis({
            port: redisPort,
            lazyConnect: true,
            maxRetriesPerRequest: 0,
            retryStrategy: () => null,
          });
          client.on('error', () => {});
          try {
            await client.connect();
            return (await client.ping()) === 'PONG' || undefined;
          } catch {
            return undefined;
          } finally {
            client.disconnect();
          }
        });
        host = await startChildServer(
          'node host',
          HOST_PROGRAM,
          ROOT,
          cleanEnv({
            DATABASE_URL: database.url!,
            REDIS_URL: `redis://127.0.0.1:${redisPort}`,
            CONDUCTOR_DATA_DIR: dataDir,
            PORT: String(await freePort('127.0.0.1')),
          }),
        );
        expect((await fetch(`${host.url}/readyz`)).status).toBe(200);
        redis.kill('SIGTERM');
        await redisExited;
        expect((await fetch(`${host.url}/livez`)).status).toBe(200);
        const ready = await fetch(`${host.url}/readyz`);
        expect(ready.status).toBe(503);
        expect(await ready.json()).toMatchObject({
          code: 'not_ready',
          detail: 'This API process cannot serve requests now',
        });
      } finally {
        await host?.stop();
        if (redis.exitCode === null && redis.signalCode === null) redis.kill('SIGKILL');
        await redisExited;
        await database.destroy();
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  );
});

/** Every file and directory under `dir`, `dir` excluded. */
function everything(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? [path, ...everything(path)] : [path];
  });
}
