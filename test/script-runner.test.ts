import { describe, expect, it } from 'vitest';
import { ioredisClient } from '../shared/queue/redis/ioredis-client.js';
import { ScriptRunner } from '../shared/queue/redis/script-runner.js';
import { REDIS_URL, redisUnreachable } from './helpers/test-redis.js';

const unreachable = await redisUnreachable();

describe.skipIf(unreachable)('running scripts by SHA', () => {
  it('falls back to the source when the server does not have the script, then runs it by SHA', async () => {
    const client = ioredisClient(REDIS_URL);
    try {
      // A source no server has seen: the first call must take the fallback.
      const script = { name: 'probe', source: `return '${Math.random()}' .. ARGV[1]` };
      const runner = new ScriptRunner(client);
      const first = await runner.run(script, [], ['x']);
      expect(String(first)).toMatch(/^0\.\d+x$/);
      const sha = (await client.redis.script('LOAD', script.source)) as string;
      expect(await client.redis.script('EXISTS', sha)).toEqual([1]);
      expect(await runner.run(script, [], ['y'])).toBe(String(first).replace(/x$/, 'y'));
      // The script cache emptied (a restart, a flush): the fallback loads it again.
      await client.redis.script('FLUSH');
      expect(await runner.run(script, [], ['z'])).toBe(String(first).replace(/x$/, 'z'));
    } finally {
      await client.close();
    }
  });
});
