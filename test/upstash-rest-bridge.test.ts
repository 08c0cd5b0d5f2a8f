/**
 * The Upstash REST bridge fixture: the real `@upstash/redis` client, through the bridge, against the real Redis at
 * REDIS_URL (default: the local one). Every value written through the SDK is read back directly over TCP too, so the
 * bridge is shown to forward rather than answer. The keys share a per-run prefix and are deleted afterwards. An
 * unreachable Redis skips the suite with a printed reason, or fails it under CONDUCTOR_REQUIRE_SERVICES=1.
 */
import { Redis } from '@upstash/redis';
import { Redis as IORedis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUpstashRestBridge, type UpstashRestBridge } from './fixtures/upstash-rest-bridge.js';
import { REDIS_URL, redisUnreachable } from './helpers/test-redis.js';

const unreachable = await redisUnreachable();

describe.skipIf(unreachable)('the Upstash REST bridge, with @upstash/redis against a real Redis', () => {
  const prefix = `conductor-test:upstash-bridge:${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}:`;
  const key = (name: string) => `${prefix}${name}`;
  let bridge: UpstashRestBridge;
  /** The SDK as an application would use it: auto-pipelining (on by default) sends most commands to /pipeline. */
  let redis: Redis;
  /** The SDK without JSON parsing of results, to see the strings exactly, and one command per request to /. */
  let raw: Redis;
  /** A direct TCP connection, to check what really reached Redis and to clean up. */
  let direct: IORedis;

  /** One request to the bridge without the SDK, answered as status and parsed body. */
  async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(`${bridge.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bridge.token}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return { status: response.status, text: await response.text() };
  }

  beforeAll(async () => {
    direct = new IORedis(REDIS_URL, { protocol: 2, maxRetriesPerRequest: 1 });
    bridge = await startUpstashRestBridge({ redisUrl: REDIS_URL });
    const config = { url: bridge.url, token: bridge.token, enableTelemetry: false, retry: false } as const;
    redis = new Redis(config);
    raw = new Redis({ ...config, automaticDeserialization: false, enableAutoPipelining: false });
  });

  afterAll(async () => {
    if (direct) {
      const keys: string[] = [];
      for await (const batch of direct.scanStream({ match: `${prefix}*`, count: 500 }))
        keys.push(...(batch as string[]));
      if (keys.length > 0) await direct.del(...keys);
      await direct.quit();
    }
    await bridge?.close();
  });

  it('sets and gets a string, and the value is really in Redis', async () => {
    expect(await redis.set(key('plain'), 'hello')).toBe('OK');
    expect(await redis.get(key('plain'))).toBe('hello');
    expect(await direct.get(key('plain'))).toBe('hello');
    expect(await redis.get(key('missing'))).toBeNull();
  });

  it('round-trips unicode, newlines, quotes, and strings that look like "OK", base64 or nothing', async () => {
    const values = [
      'héllo wörld ✓ 😀 日本語 Ω',
      'line one\nline two\r\n"double" \'single\' `back` \\ backslash\ttab',
      'OK',
      'T0s=',
      '',
      '{"json":"not parsed"}',
    ];
    for (const [index, value] of values.entries()) {
      expect(await raw.set(key(`text:${index}`), value)).toBe('OK');
      expect(await raw.get(key(`text:${index}`))).toBe(value);
      expect(await direct.get(key(`text:${index}`))).toBe(value);
    }
  });

  it('keeps binary values byte-exact on the wire, base64 when asked and utf8 when not', async () => {
    // The SDK's API is string-based (it decodes base64 as UTF-8), so the wire is checked directly.
    const bytes = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0a, 0x22, 0x7f, 0xc3]);
    await direct.set(key('binary'), bytes);
    const encoded = await post('/', ['GET', key('binary')], { 'upstash-encoding': 'base64' });
    expect(encoded.status).toBe(200);
    expect(Buffer.from(JSON.parse(encoded.text).result as string, 'base64').equals(bytes)).toBe(true);

    await direct.set(key('utf8'), 'ünïcode');
    const plain = await post('/', ['GET', key('utf8')]);
    expect(JSON.parse(plain.text)).toEqual({ result: 'ünïcode' });
    expect(JSON.parse((await post('/', ['SET', key('utf8'), 'x'])).text)).toEqual({ result: 'OK' });
  });

  it('increments, with integers as JSON numbers written digit for digit', async () => {
    expect(await redis.incr(key('counter'))).toBe(1);
    expect(await redis.incrby(key('counter'), 41)).toBe(42);
    expect(await direct.get(key('counter'))).toBe('42');

    await direct.set(key('big'), '9007199254740993');
    const reply = await post('/', ['INCR', key('big')], { 'upstash-encoding': 'base64' });
    expect(reply.text).toBe('{"result":9007199254740994}');
  });

  it('sets and reads a hash', async () => {
    expect(await redis.hset(key('hash'), { name: 'alice', team: 'physics' })).toBe(2);
    expect(await redis.hgetall(key('hash'))).toEqual({ name: 'alice', team: 'physics' });
    expect(await direct.hgetall(key('hash'))).toEqual({ name: 'alice', team: 'physics' });
    expect(await redis.hgetall(key('no-hash'))).toBeNull();
    // The flat reply, in Redis's order: the fields are not gathered into an object (which would reorder "2" and "1").
    expect(await raw.exec(['HSET', key('hash:order'), 'z', 'first', '2', 'two', '1', 'one'])).toBe(3);
    expect(await raw.hgetall(key('hash:order'))).toEqual(['z', 'first', '2', 'two', '1', 'one']);
  });

  it('adds to a sorted set and reads it back with scores', async () => {
    expect(await redis.zadd(key('zset'), { score: 2.5, member: 'b' }, { score: 1, member: 'a' })).toBe(2);
    expect(await redis.zrange(key('zset'), 0, -1, { withScores: true })).toEqual(['a', 1, 'b', 2.5]);
    expect(await raw.zrange(key('zset'), 0, -1, { withScores: true })).toEqual(['a', '1', 'b', '2.5']);
    expect(await direct.zscore(key('zset'), 'b')).toBe('2.5');
  });

  it('runs a pipeline, each command on its own', async () => {
    const results = await redis
      .pipeline()
      .set(key('pipe:s'), 'value')
      .incr(key('pipe:n'))
      .get(key('pipe:s'))
      .hset(key('pipe:h'), { f: 'v' })
      .exec();
    expect(results).toEqual(['OK', 1, 'value', 1]);

    // Not atomic: a failing command does not stop the ones after it.
    const kept = await redis
      .pipeline()
      .set(key('pipe:t'), 'text')
      .incr(key('pipe:t'))
      .set(key('pipe:after'), 'ran')
      .exec({ keepErrors: true });
    expect(kept[0]).toEqual({ error: undefined, result: 'OK' });
    expect(kept[1]!.error).toMatch(/^ERR value is not an integer/);
    expect(kept[2]).toEqual({ error: undefined, result: 'OK' });
    expect(await direct.get(key('pipe:after'))).toBe('ran');

    await expect(redis.pipeline().set(key('pipe:t'), 'text').incr(key('pipe:t')).exec()).rejects.toThrow(
      /Command 2 \[ incr \] failed: ERR value is not an integer/,
    );
  });

  it('runs a transaction in MULTI/EXEC', async () => {
    const results = await redis
      .multi()
      .set(key('multi:s'), 'value')
      .incr(key('multi:n'))
      .incr(key('multi:n'))
      .get(key('multi:s'))
      .exec();
    expect(results).toEqual(['OK', 1, 2, 'value']);
    expect(await direct.get(key('multi:n'))).toBe('2');

    // A command failing at run time gets its own error; the rest of the transaction still ran.
    const kept = await redis
      .multi()
      .set(key('multi:t'), 'text')
      .incr(key('multi:t'))
      .get(key('multi:t'))
      .exec({ keepErrors: true });
    expect(kept[1]!.error).toMatch(/^ERR value is not an integer/);
    expect(kept[2]).toEqual({ error: undefined, result: 'text' });

    // A command Redis refuses while queueing aborts the whole transaction: nothing of it runs.
    const aborted = await post('/multi-exec', [['SET', key('multi:never'), 'x'], ['NO-SUCH-COMMAND']]);
    expect(aborted.status).toBe(400);
    expect(JSON.parse(aborted.text).error).toMatch(/^EXECABORT/);
    expect(await direct.exists(key('multi:never'))).toBe(0);
  });

  it('loads a script and runs it by sha, with nested arrays of strings, integers, nil and "OK"', async () => {
    const script = `
      redis.call('SET', KEYS[1], ARGV[1])
      return {redis.call('GET', KEYS[1]), 42, {ARGV[2], 7, {'deep', -3}}, false, redis.call('SET', KEYS[2], 'v')}`;
    const sha = await redis.scriptLoad(script);
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    expect(await direct.script('EXISTS', sha)).toEqual([1]);
    const result = await raw.evalsha(sha, [key('script:a'), key('script:b')], ['first ✓', 'second\n"quoted"']);
    expect(result).toEqual(['first ✓', 42, ['second\n"quoted"', 7, ['deep', -3]], null, 'OK']);
    expect(await direct.get(key('script:a'))).toBe('first ✓');
  });

  it('runs eval', async () => {
    expect(await raw.eval("return ARGV[1] .. '!' .. redis.call('INCR', KEYS[1])", [key('eval')], ['hi'])).toBe('hi!1');
    expect(await redis.eval('return tonumber(ARGV[1]) * 2', [], [21])).toBe(42);
  });

  it('rejects evalsha of an unknown script with NOSCRIPT, so the SDK falls back to EVAL', async () => {
    // Through /pipeline (auto-pipelining) the SDK says "Command failed: NOSCRIPT ..."; through / it is the bare error.
    await expect(redis.evalsha('0'.repeat(40), [], [])).rejects.toThrow(/^Command failed: NOSCRIPT /);
    await expect(raw.evalsha('0'.repeat(40), [], [])).rejects.toThrow(/^NOSCRIPT /);
    const reply = await post('/', ['EVALSHA', '0'.repeat(40), 0]);
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.text).error).toMatch(/^NOSCRIPT /);

    // A script Redis has never seen: Script.exec tries EVALSHA, gets NOSCRIPT and retries with EVAL.
    const fresh = redis.createScript<string>(`-- ${prefix}\nreturn 'fell back ' .. ARGV[1]`);
    expect(await fresh.exec([], ['to eval'])).toBe('fell back to eval');
  });

  it('answers Redis errors with status 400 and an error body', async () => {
    await expect(redis.exec(['NO-SUCH-COMMAND'])).rejects.toThrow(/^ERR unknown command/);
    const blocking = await post('/', ['BLPOP', key('list'), 0]);
    expect(blocking.status).toBe(400);
    expect(JSON.parse(blocking.text).error).toMatch(/BLPOP is not supported/);
  });

  it('refuses a wrong or missing token with 401', async () => {
    const wrong = new Redis({ url: bridge.url, token: 'not-the-token', enableTelemetry: false, retry: false });
    await expect(wrong.get(key('plain'))).rejects.toThrow(/^Unauthorized/);

    const bad = await fetch(bridge.url, {
      method: 'POST',
      headers: { authorization: 'Bearer nope' },
      body: JSON.stringify(['GET', key('plain')]),
    });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ error: 'Unauthorized' });
    const missing = await fetch(bridge.url, { method: 'POST', body: JSON.stringify(['GET', key('plain')]) });
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({ error: 'Unauthorized' });
  });
});
