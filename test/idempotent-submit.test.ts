/**
 * Idempotent submit (issue 13, item 2): a retried submit with its key is the first job, never a second one. The chaos
 * run of issue 13 found two of six submits cut off by an API kill committed, and their clients' retries made
 * duplicates; these tests reproduce that cut-off, then check every promise of the key on both backends and across two
 * API processes on one database.
 */
import { sql } from 'drizzle-orm';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, KEY_FIELD, KEY_HEADER, readIdempotencyKey } from '../api/jobs/idempotency-key.js';
import { Reconciler } from '../api/reconciler.js';
import type { Database } from '../shared/db/database.js';
import { queryRows } from '../shared/db/query-rows.js';
import { Redis } from 'ioredis';
import { ioredisClient } from '../shared/queue/redis/ioredis-client.js';
import { RedisJobQueue } from '../shared/queue/redis/redis-job-queue.js';
import { bundled } from './helpers/bundled.js';
import { freePort, startChildServer, type ChildServer } from './helpers/child-server.js';
import { moveJob } from './helpers/job-states.js';
import { configurePartition } from './helpers/configure-partition.js';
import { ADMIN_TOKEN, createTestApp, validJob, type TestApp } from './helpers/test-app.js';
import { adminQuery, backends, createTestDatabase, POSTGRES_URL, type TestDatabase } from './helpers/test-databases.js';
import { startWorkerHost, type WorkerHost } from './helpers/worker-host.js';
import { loadMigrations } from '../shared/db/migration-files.js';
import { migrate } from '../shared/db/migrator.js';
import { openNodeDatabase } from '../shared/db/node-database.js';
import { deleteKeys, REDIS_URL, redisUnreachable } from './helpers/test-redis.js';
import { waitFor } from './helpers/wait-for.js';

const ROOT = new URL('..', import.meta.url).pathname;
const HOST_PROGRAM = bundled('hostBundle', 'api/hosts/node/main.ts');

const body = (overrides: Record<string, unknown> = {}) => ({ job: validJob(overrides), script: '#!/bin/bash\ntrue' });

async function jobCount(db: Database): Promise<number> {
  const [row] = await queryRows(db, sql`SELECT count(*)::int AS n FROM jobs`);
  return row!.n as number;
}

function submitRequest(
  payload: unknown,
  { key, token = ADMIN_TOKEN }: { key?: string; token?: string } = {},
): RequestInit {
  const headers: Record<string, string> = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
  if (key !== undefined) headers['Idempotency-Key'] = key;
  return { method: 'POST', headers, body: typeof payload === 'string' ? payload : JSON.stringify(payload) };
}

for (const backend of await backends()) {
  describe.skipIf(backend.skip)(`idempotent submit on ${backend.name}`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(backend);
    });
    afterAll(() => t?.close());

    const submit = (path: '/v1/jobs' | '/jobs/submit', payload: unknown, options?: { key?: string; token?: string }) =>
      Promise.resolve(t.app.request(path, submitRequest(payload, options)));

    it('a submit whose answer was lost, retried with its key, is the first job: no duplicate', async () => {
      const before = await jobCount(t.database.db);
      // The first answer never reaches the client (cut off after the commit): it retries the same request.
      await submit('/v1/jobs', body(), { key: 'lost-answer-1' });
      const retry = await submit('/v1/jobs', body(), { key: 'lost-answer-1' });
      expect(retry.status).toBe(201);
      expect(await jobCount(t.database.db)).toBe(before + 1);
    });

    it('answers a retry with the same status and body, byte for byte, even after the job moved on', async () => {
      const first = await submit('/v1/jobs', body(), { key: 'same-answer' });
      expect(first.status).toBe(201);
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      const firstText = await first.text();
      const { id } = JSON.parse(firstText) as { id: string };
      await moveJob(t.database.db, id, 'RUNNING');

      const retry = await submit('/v1/jobs', body(), { key: 'same-answer' });
      expect(retry.status).toBe(201);
      expect(retry.headers.get('content-type')).toMatch(/^application\/json/);
      expect(retry.headers.get('location')).toBe(`/v1/jobs/${id}`);
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect(await retry.text()).toBe(firstText);
      // The quoted form of the draft's Structured Field names the same key.
      expect(await (await submit('/v1/jobs', body(), { key: '"same-answer"' })).text()).toBe(firstText);
    });

    it('compares bodies as canonical JSON: key order and number spelling do not matter', async () => {
      const first = await (await submit('/v1/jobs', body(), { key: 'canonical' })).json();
      const { job, script } = body();
      const reordered = `{"script":${JSON.stringify(script)},"job":${JSON.stringify(
        Object.fromEntries(Object.entries(job).reverse()),
      ).replace('"ntasks_per_node":2', '"ntasks_per_node":2.0')}}`;
      expect(reordered).toContain('2.0');
      const retry = await submit('/v1/jobs', reordered, { key: 'canonical' });
      expect(retry.status).toBe(201);
      expect((await retry.json()).id).toBe(first.id);
    });

    it('refuses the same key with another body (422 naming Idempotency-Key), making nothing', async () => {
      await submit('/v1/jobs', body(), { key: 'reused' });
      const before = await jobCount(t.database.db);
      const other = await submit('/v1/jobs', body({ name: 'another' }), { key: 'reused' });
      expect(other.status).toBe(422);
      expect(other.headers.get('content-type')).toBe('application/problem+json');
      expect(await other.json()).toMatchObject({
        code: 'idempotency_key_reused',
        errors: [{ field: 'Idempotency-Key' }],
      });
      expect(await jobCount(t.database.db)).toBe(before);
    });

    it.each([
      ['empty', ''],
      ['longer than 255 characters', 'k'.repeat(256)],
      ['not ASCII', 'clé'],
      // Two Idempotency-Key headers arrive joined with a comma: neither may be taken for the key.
      ['sent twice', 'x1, x2'],
      ['a Structured Field with parameters', '"x1";a=1'],
    ])('refuses a key that is %s (422 naming Idempotency-Key)', async (_what, key) => {
      const response = await submit('/v1/jobs', body(), { key });
      expect(response.status).toBe(422);
      expect(await response.json()).toMatchObject({ errors: [{ field: 'Idempotency-Key' }] });
    });

    it('keeps keys per account: another account gets its own job, another token of the account the same', async () => {
      const physics = await t.token('user', 'physics', 'alice');
      const physics2 = await t.token('user', 'physics', 'alice');
      const bob = await t.token('user', 'physics', 'bob');
      const chemistry = await t.token('user', 'chemistry', 'carol');
      const mine = await (await submit('/v1/jobs', body(), { key: 'shared-key', token: physics })).json();
      const theirs = await submit('/v1/jobs', body({ account: 'chemistry' }), { key: 'shared-key', token: chemistry });
      expect(theirs.status).toBe(201);
      const theirJob = await theirs.json();
      expect(theirJob.id).not.toBe(mine.id);
      expect(theirJob.account).toBe('chemistry');
      // Same account, same key, same body, same user: the account's job.
      const again = await (await submit('/v1/jobs', body(), { key: 'shared-key', token: physics2 })).json();
      expect(again).toEqual(mine);
      // Another user of the account: the same body would run as bob, not alice: another request.
      const asBob = await submit('/v1/jobs', body(), { key: 'shared-key', token: bob });
      expect(asBob.status).toBe(422);
      expect(await asBob.json()).toMatchObject({ code: 'idempotency_key_reused' });
      // An admin's keys are not an account's either.
      const admin = await (await submit('/v1/jobs', body(), { key: 'shared-key' })).json();
      expect(admin.id).not.toBe(mine.id);
    });

    it('makes exactly one job of 20 racing submits with one key, and answers each the same', async () => {
      const before = await jobCount(t.database.db);
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => submit('/v1/jobs', body({ name: 'racer' }), { key: 'race-in-process' })),
      );
      expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(201));
      expect(new Set(await Promise.all(answers.map((answer) => answer.text()))).size).toBe(1);
      expect(await jobCount(t.database.db)).toBe(before + 1);
    });

    it('takes job.idempotency_key on the original path, and refuses it reused or invalid naming the field', async () => {
      const payload = { job: { ...validJob(), idempotency_key: 'original-1' }, script: 'true' };
      const first = await submit('/jobs/submit', payload);
      expect(first.status).toBe(201);
      const firstText = await first.text();
      const retry = await submit('/jobs/submit', payload);
      expect(retry.status).toBe(201);
      expect(await retry.text()).toBe(firstText);
      const { job_id: id } = JSON.parse(firstText) as { job_id: string };
      // Not an unknown field: the job has no warning for it.
      expect((await (await t.call('GET', `/v1/jobs/${id}`)).json()).warnings).toEqual([]);

      const other = await submit('/jobs/submit', { ...payload, script: 'false' });
      expect(other.status).toBe(422);
      expect(JSON.stringify(await other.json())).toContain('job.idempotency_key');
      const invalid = await submit('/jobs/submit', { job: { ...validJob(), idempotency_key: 42 }, script: 'true' });
      expect(invalid.status).toBe(422);
      expect(JSON.stringify(await invalid.json())).toContain('idempotency_key');
    });

    it('takes the Idempotency-Key header on the original path too, and refuses it when the body says another key', async () => {
      const before = await jobCount(t.database.db);
      const payload = { job: validJob(), script: '#!/bin/bash\ntrue' };
      const first = await submit('/jobs/submit', payload, { key: 'orig-header' });
      expect(first.status).toBe(201);
      const retry = await submit('/jobs/submit', payload, { key: 'orig-header' });
      expect(await retry.text()).toBe(await first.text());
      expect(await jobCount(t.database.db)).toBe(before + 1);
      const both = { job: { ...validJob(), idempotency_key: 'in-body' }, script: 'true' };
      const differing = await submit('/jobs/submit', both, { key: 'in-header' });
      expect(differing.status).toBe(422);
      expect(await differing.json()).toMatchObject({ errors: [{ field: 'job.idempotency_key' }] });
      expect(await jobCount(t.database.db)).toBe(before + 1);
    });

    it('answers a key for 24 h: past that it makes a new job, and the reconciler sweeps it', async () => {
      const first = await (await submit('/v1/jobs', body(), { key: 'old-key' })).json();
      await t.database.db.execute(
        sql`UPDATE idempotency_keys SET created_at = now() - interval '23 hours' WHERE key = 'old-key'`,
      );
      expect((await (await submit('/v1/jobs', body(), { key: 'old-key' })).json()).id).toBe(first.id);
      await t.database.db.execute(
        sql`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'old-key'`,
      );
      const fresh = await (await submit('/v1/jobs', body(), { key: 'old-key' })).json();
      expect(fresh.id).not.toBe(first.id);

      await t.database.db.execute(
        sql`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'old-key'`,
      );
      const { keysExpired } = await new Reconciler(t.queue).run(t.database.db);
      expect(keysExpired).toBeGreaterThanOrEqual(1);
      const left = await queryRows(t.database.db, sql`SELECT 1 FROM idempotency_keys WHERE key = 'old-key'`);
      expect(left).toEqual([]);
    });
  });
}

const postgres = (await backends()).find((backend) => backend.name === 'postgres')!;

describe.skipIf(postgres.skip)('idempotent submit across two API processes on one Postgres database', () => {
  let database: TestDatabase;
  const hosts: ChildServer[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'conductor-idem-'));
  beforeAll(async () => {
    database = await createTestDatabase(postgres, { poolSize: 2 });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: database.url!,
      CONDUCTOR_ADMIN_TOKEN: ADMIN_TOKEN,
      CONDUCTOR_DATA_DIR: dataDir,
      CONDUCTOR_LOCAL_NODE: 'off',
    };
    for (const name of ['REDIS_URL', 'HOST']) delete env[name];
    for (let i = 0; i < 2; i++) {
      const port = String(await freePort('127.0.0.1'));
      hosts.push(await startChildServer(`api ${i}`, HOST_PROGRAM, ROOT, { ...env, PORT: port }));
    }
    await configurePartition(hosts[0]!.url, ADMIN_TOKEN);
  });
  afterAll(async () => {
    await Promise.all(hosts.map((host) => host.stop()));
    await database?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('makes exactly one job of 20 racing retries sent to both, each answered the same', async () => {
    const before = await jobCount(database.db);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        fetch(`${hosts[i % 2]!.url}/v1/jobs`, submitRequest(body({ name: 'racer' }), { key: 'two-apis' })),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(201));
    expect(new Set(await Promise.all(answers.map((answer) => answer.text()))).size).toBe(1);
    expect(await jobCount(database.db)).toBe(before + 1);
  });

  it('a submit cut off after its commit and retried on the other process is the first job', async () => {
    const before = await jobCount(database.db);
    const payload = JSON.stringify(body({ name: 'cut-off' }));
    // The request is sent whole, then the client's connection is cut before any answer is read.
    const first = new URL(hosts[0]!.url);
    await new Promise<void>((done, fail) => {
      const socket = connect(Number(first.port), first.hostname, () => {
        socket.end(
          `POST /v1/jobs HTTP/1.1\r\nHost: ${first.host}\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\n` +
            `Content-Type: application/json\r\nIdempotency-Key: cut-off\r\n` +
            `Content-Length: ${Buffer.byteLength(payload)}\r\nConnection: close\r\n\r\n${payload}`,
          () => {
            socket.destroy();
            done();
          },
        );
      });
      socket.once('error', fail);
    });
    const [committed] = await waitFor('the cut-off submit to commit', async () => {
      const rows = await queryRows(database.db, sql`SELECT id FROM jobs WHERE name = 'cut-off'`);
      return rows.length > 0 ? rows : undefined;
    });
    const retry = await fetch(`${hosts[1]!.url}/v1/jobs`, submitRequest(payload, { key: 'cut-off' }));
    expect(retry.status).toBe(201);
    expect((await retry.json()).id).toBe(String(committed!.id));
    expect(await jobCount(database.db)).toBe(before + 1);
  });
});

describe('idempotent submit on the Redis queue', async () => {
  const [pglite] = await backends();
  const unreachable = await redisUnreachable();
  it.skipIf(unreachable)(
    'pushes one ref for racing retries, and answers a retry of a submit whose push failed with its job',
    async () => {
      const prefix = `test:idem:${Math.random().toString(36).slice(2, 8)}:`;
      const queue = new RedisJobQueue(ioredisClient(REDIS_URL), prefix);
      const t = await createTestApp(pglite!, { queue });
      const redis = new Redis(REDIS_URL);
      try {
        const submit = (key: string) => Promise.resolve(t.app.request('/v1/jobs', submitRequest(body(), { key })));
        const answers = await Promise.all(Array.from({ length: 20 }, () => submit('redis-race')));
        expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(201));
        const { id } = (await answers[0]!.json()) as { id: string };
        expect(await redis.hkeys(`${prefix}refs`)).toEqual([id]);

        // Redis away when the job is committed: the job waits, not enqueued; its retry answers it, and makes no other.
        const away = new RedisJobQueue(ioredisClient('redis://127.0.0.1:1', { maxRetriesPerRequest: 1 }), prefix);
        const whileAway = await createTestApp(pglite!, { queue: away });
        try {
          const first = await Promise.resolve(
            whileAway.app.request('/v1/jobs', submitRequest(body(), { key: 'push-failed' })),
          );
          expect(first.status).toBe(201);
          const retry = await Promise.resolve(
            whileAway.app.request('/v1/jobs', submitRequest(body(), { key: 'push-failed' })),
          );
          expect(await retry.text()).toBe(await first.text());
          expect(await jobCount(whileAway.database.db)).toBe(1);
        } finally {
          await whileAway.close();
          await away.close();
        }
      } finally {
        redis.disconnect();
        await t.close();
        await queue.close();
        await deleteKeys(prefix);
      }
    },
  );
});

describe('reading keys and comparing bodies', () => {
  it('takes a key bare or as a Structured Field String, and names the field of one it refuses', () => {
    expect(readIdempotencyKey('abc-123', KEY_HEADER)).toBe('abc-123');
    expect(readIdempotencyKey('"abc-123"', KEY_HEADER)).toBe('abc-123');
    expect(readIdempotencyKey('"a \\"quoted\\" \\\\ key"', KEY_HEADER)).toBe('a "quoted" \\ key');
    expect(readIdempotencyKey(undefined, KEY_HEADER)).toBeUndefined();
    expect(readIdempotencyKey('k'.repeat(255), KEY_FIELD)).toHaveLength(255);
    expect(() => readIdempotencyKey('tab\there', KEY_FIELD)).toThrow(/job\.idempotency_key/);
    expect(() => readIdempotencyKey(7, KEY_FIELD)).toThrow(/job\.idempotency_key/);
    expect(() => readIdempotencyKey('""', KEY_HEADER)).toThrow(/Idempotency-Key/);
  });

  it('writes canonical JSON as RFC 8785 does: keys in UTF-16 order, numbers as ECMAScript writes them', () => {
    // RFC 8785, 3.2.3: the sorting example.
    const sorted = JSON.parse(
      '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control", "\\u00f6": "Latin Small Letter O With Diaeresis"}',
    ) as Record<string, string>;
    // Read back in the order written (JSON.parse would put "1" first again).
    const values = [...canonicalJson(sorted).matchAll(/:"([^"]*)"/g)].map((match) => match[1]);
    expect(values).toEqual([
      'Carriage Return',
      'One',
      'Control',
      'Latin Small Letter O With Diaeresis',
      'Euro Sign',
      'Emoji: Grinning Face',
      'Hebrew Letter Dalet With Dagesh',
    ]);
    expect(canonicalJson(JSON.parse('{"b": [1.0, 1e2, -0], "a": {"y": null, "x": "\\u00e9"}}'))).toBe(
      '{"a":{"x":"é","y":null},"b":[1,100,0]}',
    );
  });
});

describe('idempotent submit on the Workers host (workerd: Neon driver, Upstash client)', async () => {
  const serversAway = postgres.skip ?? (await redisUnreachable());
  it.skipIf(serversAway)('makes one job of 20 racing submits with one key, each answered the same', async () => {
    const schema = `test_idem_worker_${Math.random().toString(36).slice(2, 8)}`;
    const redisPrefix = `test:${schema}:`;
    await adminQuery(`CREATE SCHEMA ${schema}`);
    const database = await openNodeDatabase({ url: POSTGRES_URL, searchPath: schema, poolSize: 1 });
    let worker: WorkerHost | undefined;
    try {
      // The Worker does not migrate (npm run migrate does, before a deploy).
      await migrate(database.migrations, await loadMigrations());
      worker = await startWorkerHost({
        databaseUrl: `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
        redisUrl: REDIS_URL,
        redisPrefix,
        adminToken: ADMIN_TOKEN,
      });
      await configurePartition(worker.url, ADMIN_TOKEN);
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => fetch(`${worker!.url}/v1/jobs`, submitRequest(body(), { key: 'worker' }))),
      );
      expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(201));
      expect(new Set(await Promise.all(answers.map((answer) => answer.text()))).size).toBe(1);
      expect(await jobCount(database.db)).toBe(1);
    } finally {
      await worker?.stop();
      await database.close();
      await adminQuery(`DROP SCHEMA ${schema} CASCADE`);
      await deleteKeys(redisPrefix);
    }
  });
});
