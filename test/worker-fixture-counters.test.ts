/**
 * The counters of the fixtures that measure what the Workers host costs (workers-daemon.test.ts, `npm run
 * bench:requests`), each driven by a real client against the real server behind it, and held to exact counts: the
 * Neon WebSocket proxy's connections and round trips, the Upstash bridge's requests and commands, the Redis proxy's
 * commands, and the HTTP proxy's requests.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@neondatabase/serverless';
import { Redis } from '@upstash/redis';
import { Redis as IORedis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startCountingHttpProxy } from './fixtures/counting-http-proxy.js';
import { startNeonWsProxy } from './fixtures/neon-ws-proxy.js';
import { startRedisCountingProxy } from './fixtures/redis-counting-proxy.js';
import { startUpstashRestBridge } from './fixtures/upstash-rest-bridge.js';
import { backends, POSTGRES_URL } from './helpers/test-databases.js';
import { deleteKeys, REDIS_URL, redisUnreachable } from './helpers/test-redis.js';

const [, postgres] = await backends();
const redisAway = await redisUnreachable();
const prefix = `test:fixture-counters:${Math.random().toString(36).slice(2, 8)}:`;

describe.skipIf(postgres!.skip)('the Neon WebSocket proxy counts', () => {
  it('one connection, and one round trip per simple query and per extended query', async () => {
    const target = new URL(POSTGRES_URL);
    const proxy = await startNeonWsProxy({ host: target.hostname, port: Number(target.port || 5432) });
    // As the Worker sets the driver up for the proxy (api/hosts/workers/worker.ts), on this client only.
    const client = new Client({ connectionString: POSTGRES_URL });
    Object.assign(client.neonConfig, {
      webSocketConstructor: WebSocket,
      wsProxy: (host: string, port: number | string) => `${proxy.address}?address=${host}:${port}`,
      useSecureWebSocket: false,
      pipelineTLS: false,
      pipelineConnect: false,
    });
    try {
      await client.connect();
      const connected = proxy.counts();
      expect(connected).toMatchObject({ connections: 1, roundTrips: 0 });
      await client.query('SELECT 1');
      expect(proxy.counts()).toMatchObject({ roundTrips: 1, queries: 1 });
      // Parse, Bind, Execute, Sync: one round trip, no simple query.
      expect((await client.query('SELECT $1::int AS n', [7])).rows).toEqual([{ n: 7 }]);
      expect(proxy.counts()).toMatchObject({ connections: 1, roundTrips: 2, queries: 1 });
    } finally {
      await client.end();
      await proxy.close();
    }
  });
});

describe.skipIf(redisAway)('the Redis fixtures count', () => {
  afterAll(() => deleteKeys(prefix));

  it("the Upstash bridge: each request, and each command of a single request's, a pipeline's and a transaction's", async () => {
    const bridge = await startUpstashRestBridge({ redisUrl: REDIS_URL });
    const redis = new Redis({ url: bridge.url, token: bridge.token, enableAutoPipelining: false, retry: false });
    try {
      await redis.set(`${prefix}a`, '1');
      expect(bridge.counts()).toEqual({ requests: 1, commands: 1, byCommand: { SET: 1 } });
      await redis.pipeline().get(`${prefix}a`).incr(`${prefix}a`).get(`${prefix}a`).exec();
      await redis.multi().incr(`${prefix}a`).incr(`${prefix}a`).exec();
      expect(bridge.counts()).toEqual({ requests: 3, commands: 6, byCommand: { SET: 1, GET: 2, INCR: 3 } });
    } finally {
      await bridge.close();
    }
  });

  it('the Redis proxy: each command, sent alone or pipelined, over each connection', async () => {
    const proxy = await startRedisCountingProxy(REDIS_URL);
    const client = new IORedis(proxy.url, { lazyConnect: true });
    try {
      await client.connect();
      const greeting = proxy.counts().commands; // what ioredis asks on connecting (INFO, for its ready check)
      await client.set(`${prefix}b`, 'x'.repeat(100_000));
      await client.pipeline().get(`${prefix}b`).del(`${prefix}b`).exec();
      const counts = proxy.counts();
      expect(counts.connections).toBe(1);
      expect(counts.commands - greeting).toBe(3);
      expect(counts.byCommand).toMatchObject({ SET: 1, GET: 1, DEL: 1 });
      expect(await client.get(`${prefix}b`)).toBeNull();
    } finally {
      client.disconnect();
      await proxy.close();
    }
  });
});

describe('the counting HTTP proxy', () => {
  let origin: Server;
  let originUrl: string;
  beforeAll(async () => {
    origin = createServer((request, response) => {
      let size = 0;
      request.on('data', (chunk: Buffer) => (size += chunk.length));
      request.on('end', () => response.end(`${request.method} ${request.url} ${size}`));
    });
    await new Promise<void>((done) => origin.listen(0, '127.0.0.1', done));
    originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((done) => origin.close(() => done())));

  it('forwards each request unchanged and counts it with its method and path', async () => {
    const proxy = await startCountingHttpProxy(originUrl);
    try {
      expect(await (await fetch(`${proxy.url}/a/1?x=2`)).text()).toBe('GET /a/1?x=2 0');
      expect(await (await fetch(`${proxy.url}/b`, { method: 'PUT', body: 'hello' })).text()).toBe('PUT /b 5');
      expect(proxy.requests()).toEqual([
        { method: 'GET', url: '/a/1?x=2' },
        { method: 'PUT', url: '/b' },
      ]);
    } finally {
      await proxy.close();
    }
  });
});
