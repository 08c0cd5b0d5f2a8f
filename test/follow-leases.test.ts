/**
 * Open follow streams per principal, across the deployment (issue 12, item 7). First the lease store on its own,
 * the same contract held against each implementation (Redis over TCP and over Upstash's REST API, the Postgres table
 * on PGlite and on the server); then the app: the 17th follow of a token is a 429 with Retry-After, an ended stream
 * frees its slot, a crashed process's slots free once their leases lapse, and a revoked token's open follow ends.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_FOLLOWS, leaseHolder, type FollowLeases } from '../api/follows/follow-leases.js';
import { PostgresFollowLeases } from '../api/follows/postgres-follow-leases.js';
import { RedisFollowLeases } from '../api/follows/redis-follow-leases.js';
import { FileLogStore } from '../shared/logs/file-log-store.js';
import type { JobQueue } from '../shared/queue/job-queue.js';
import { ioredisClient } from '../shared/queue/redis/ioredis-client.js';
import { RedisJobQueue } from '../shared/queue/redis/redis-job-queue.js';
import { upstashClient } from '../shared/queue/redis/upstash-client.js';
import { startUpstashRestBridge } from './fixtures/upstash-rest-bridge.js';
import { moveJob } from './helpers/job-states.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { backends, createTestDatabase, type Backend } from './helpers/test-databases.js';
import { deleteKeys, REDIS_URL, redisUnreachable } from './helpers/test-redis.js';

const uniquePrefix = () => `test:follows:${Date.now().toString(36)}:${Math.random().toString(36).slice(2, 8)}:`;

interface LeaseBackend {
  name: string;
  skip: string | undefined;
  open(): Promise<{ leases: FollowLeases; close(): Promise<void> }>;
}

async function leaseBackends(): Promise<LeaseBackend[]> {
  const redisSkip = await redisUnreachable();
  const [pglite, postgres] = await backends();
  const onPostgres = (backend: Backend) => async () => {
    const database = await createTestDatabase(backend);
    return { leases: new PostgresFollowLeases(database.db), close: () => database.destroy() };
  };
  return [
    {
      name: 'redis (TCP)',
      skip: redisSkip,
      async open() {
        const prefix = uniquePrefix();
        const client = ioredisClient(REDIS_URL);
        return {
          leases: new RedisFollowLeases(client, prefix),
          async close() {
            await client.close();
            await deleteKeys(prefix);
          },
        };
      },
    },
    {
      name: 'redis (Upstash REST)',
      skip: redisSkip,
      async open() {
        const prefix = uniquePrefix();
        const bridge = await startUpstashRestBridge({ redisUrl: REDIS_URL });
        return {
          leases: new RedisFollowLeases(upstashClient(bridge.url, bridge.token), prefix),
          async close() {
            await bridge.close();
            await deleteKeys(prefix);
          },
        };
      },
    },
    { name: 'postgres (PGlite)', skip: pglite!.skip, open: onPostgres(pglite!) },
    { name: 'postgres (server)', skip: postgres!.skip, open: onPostgres(postgres!) },
  ];
}

/** Asks until `condition` holds; the test's own timeout is the deadline. */
async function until(condition: () => Promise<boolean>, everyMs = 50): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, everyMs));
}

const LONG = 60_000;
// Short enough to see a lease lapse; whileLeasesHold lengthens it where the machine is too busy to look in time.
const SHORT = 400;

/**
 * Runs `check` with leases of `ms` (SHORT first) and answers what it saw, once it finished within `ms` of its start:
 * then every lease it took was still live when it looked. On a busy machine a short lease may lapse before the check
 * looks, which proves nothing either way: the check runs again (with a new holder, `attempt`) with leases twice as
 * long.
 */
async function whileLeasesHold<T>(check: (ms: number, attempt: number) => Promise<T>): Promise<T> {
  for (let ms = SHORT, attempt = 0; ; ms *= 2, attempt++) {
    const started = Date.now();
    const seen = await check(ms, attempt);
    if (Date.now() - started < ms) return seen;
  }
}

for (const backend of await leaseBackends()) {
  describe.skipIf(backend.skip)(`follow leases on ${backend.name}`, () => {
    let leases: FollowLeases;
    let close: () => Promise<void>;
    beforeAll(async () => ({ leases, close } = await backend.open()));
    afterAll(() => close?.());

    it('gives a holder at most max leases, and says how long until the soonest lapses', async () => {
      for (let n = 0; n < 3; n++) expect((await leases.acquire('h1', 3, LONG)).taken).toBe(true);
      const refused = await leases.acquire('h1', 3, LONG);
      expect(refused.taken).toBe(false);
      if (refused.taken) return;
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(LONG);
    });

    it('counts each holder apart', async () => {
      expect((await leases.acquire('h2', 1, LONG)).taken).toBe(true);
      expect((await leases.acquire('h3', 1, LONG)).taken).toBe(true);
      expect((await leases.acquire('h2', 1, LONG)).taken).toBe(false);
    });

    it('frees a slot when a lease is released (twice is no error)', async () => {
      const lease = await leases.acquire('h4', 1, LONG);
      if (!lease.taken) throw new Error('not taken');
      expect((await leases.acquire('h4', 1, LONG)).taken).toBe(false);
      await leases.release('h4', lease.leaseId);
      await leases.release('h4', lease.leaseId);
      expect((await leases.acquire('h4', 1, LONG)).taken).toBe(true);
    });

    it('frees the slot of a lease nobody renews (a crashed holder) once it lapses', async () => {
      const seen = await whileLeasesHold(async (ms, attempt) => {
        const holder = `h5-${attempt}`;
        return { holder, first: await leases.acquire(holder, 1, ms), second: await leases.acquire(holder, 1, ms) };
      });
      expect([seen.first.taken, seen.second.taken]).toEqual([true, false]);
      await until(async () => (await leases.acquire(seen.holder, 1, LONG)).taken);
    });

    it('keeps a renewed lease past the time it would have lapsed', async () => {
      const seen = await whileLeasesHold(async (ms, attempt) => {
        const holder = `h6-${attempt}`;
        const kept = await leases.acquire(holder, 1, ms);
        if (!kept.taken) throw new Error('not taken');
        await leases.renew(holder, kept.leaseId, LONG);
        // A witness taken after it with the short lease: once the witness lapsed, so would the first have.
        return { holder, witness: await leases.acquire(`${holder}-witness`, 1, ms) };
      });
      expect(seen.witness.taken).toBe(true);
      await until(async () => (await leases.acquire(`${seen.holder}-witness`, 1, LONG)).taken);
      expect((await leases.acquire(seen.holder, 1, LONG)).taken).toBe(false);
    });

    it('never gives more than max leases to holders racing for them', async () => {
      const answers = await Promise.all(Array.from({ length: 24 }, () => leases.acquire('h7', 5, LONG)));
      expect(answers.filter((answer) => answer.taken)).toHaveLength(5);
    });
  });
}

interface AppBackend {
  name: string;
  skip: string | undefined;
  open(): Promise<{ t: TestApp; leases: FollowLeases; close(): Promise<void> }>;
}

async function appBackends(): Promise<AppBackend[]> {
  const redisSkip = await redisUnreachable();
  const [pglite, postgres] = await backends();
  const logDir = mkdtempSync(join(tmpdir(), 'conductor-follows-'));
  afterAll(() => rmSync(logDir, { recursive: true, force: true }));
  const common = { logs: new FileLogStore(logDir), tokenCacheMs: 200, logPollMs: 50 };
  const onPostgresQueue = (backend: Backend) => async () => {
    const t = await createTestApp(backend, common);
    return { t, leases: new PostgresFollowLeases(t.database.db), close: () => t.close() };
  };
  return [
    {
      name: 'the Redis queue',
      skip: redisSkip,
      async open() {
        const prefix = uniquePrefix();
        const client = ioredisClient(REDIS_URL);
        const leases = new RedisFollowLeases(client, prefix);
        const queue: JobQueue = new RedisJobQueue(ioredisClient(REDIS_URL), prefix);
        const t = await createTestApp(pglite!, { ...common, queue, followLeases: leases });
        return {
          t,
          leases,
          async close() {
            await t.close();
            await queue.close();
            await client.close();
            await deleteKeys(prefix);
          },
        };
      },
    },
    { name: 'the Postgres queue (PGlite)', skip: pglite!.skip, open: onPostgresQueue(pglite!) },
    { name: 'the Postgres queue (server)', skip: postgres!.skip, open: onPostgresQueue(postgres!) },
  ];
}

for (const backend of await appBackends()) {
  describe.skipIf(backend.skip)(`follow streams on ${backend.name}`, () => {
    let t: TestApp;
    let leases: FollowLeases;
    let close: () => Promise<void>;
    let jobId: string;
    beforeAll(async () => {
      ({ t, leases, close } = await backend.open());
      await t.call('POST', '/v1/nodes/n1/heartbeat', { body: { partitions: ['batch'], cpus: 8, memory_mb: 64_000 } });
      jobId = await t.submit();
      // A job that runs on: its followers stay open until they are ended.
      await moveJob(t.database.db, jobId, 'RUNNING', { nodeName: 'n1', attempt: 1 });
    });
    afterAll(() => close?.());

    const follow = (token: string) => t.call('GET', `/v1/jobs/${jobId}/logs/stdout?follow=true`, { token });

    it(`lets a token hold ${DEFAULT_MAX_FOLLOWS} follows, refuses the next with 429 and Retry-After, and frees a slot when one ends`, async () => {
      const token = await t.token('user', 'physics');
      const open = await Promise.all(Array.from({ length: DEFAULT_MAX_FOLLOWS }, () => follow(token)));
      expect(open.map((response) => response.status)).toEqual(open.map(() => 200));
      const refused = await follow(token);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('Content-Type')).toBe('application/problem+json');
      expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1);
      expect(((await refused.json()) as { code: string }).code).toBe('too_many_follows');
      // Another token is counted apart.
      const other = await follow(await t.token('user', 'physics'));
      expect(other.status).toBe(200);
      await other.body!.cancel();
      // The client of one goes away: its slot is given back.
      await open[0]!.body!.cancel();
      let next: Response | undefined;
      await until(async () => {
        next = await follow(token);
        return next.status === 200;
      });
      await next!.body!.cancel();
      await Promise.all(open.slice(1).map((response) => response.body!.cancel()));
    });

    it('frees the slots of a crashed API process once their leases lapse', async () => {
      const { token, refused } = await whileLeasesHold(async (ms) => {
        // A new token each time: the leases of a look that came too late are not this one's.
        const token = await t.token('user', 'physics');
        const holder = leaseHolder({ kind: 'user', tokenId: await newestTokenId(t) });
        // What another process held when it died: leases nobody renews.
        for (let n = 0; n < DEFAULT_MAX_FOLLOWS; n++) await leases.acquire(holder, DEFAULT_MAX_FOLLOWS, ms);
        const refused = await follow(token);
        await refused.body?.cancel();
        return { token, refused };
      });
      expect(refused.status).toBe(429);
      let next: Response | undefined;
      await until(async () => {
        next = await follow(token);
        return next.status === 200;
      });
      await next!.body!.cancel();
    });

    it('ends an open follow once its token is revoked, by any API process', async () => {
      const token = await t.token('user', 'physics');
      const tokenId = await newestTokenId(t);
      const response = await follow(token);
      expect(response.status).toBe(200);
      const reader = response.body!.getReader();
      // Revoked as another API process would: in the database, not in this process's cache.
      await t.database.db.execute(sql`UPDATE api_tokens SET revoked_at = now() WHERE id = ${tokenId}`);
      await expect(
        (async () => {
          for (;;) if ((await reader.read()).done) return 'ended cleanly';
        })(),
      ).rejects.toThrow(/revoked/);
      // And its slot is given back (the token's next request is refused anyway).
      await until(async () => {
        const taken = await leases.acquire(leaseHolder({ kind: 'user', tokenId }), 1, LONG);
        return taken.taken;
      });
    });
  });
}

async function newestTokenId(t: TestApp): Promise<number> {
  const listed = (await (await t.call('GET', '/v1/tokens')).json()) as { tokens: { id: string }[] };
  return Number(listed.tokens[0]!.id);
}
