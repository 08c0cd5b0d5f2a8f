import { afterEach, describe, expect, it } from 'vitest';
import { ClaimPacer } from '../shared/queue/claim-pacer.js';
import { ioredisClient } from '../shared/queue/redis/ioredis-client.js';
import { RedisJobQueue } from '../shared/queue/redis/redis-job-queue.js';
import { subscribeToWake } from '../shared/queue/redis/wake-subscriber.js';
import { deleteKeys, REDIS_URL, redisUnreachable } from './helpers/test-redis.js';

describe('the claim pacer', () => {
  it('backs off while claims find nothing, up to the maximum, and starts over when one finds work', () => {
    const pacer = new ClaimPacer({ minMs: 100, maxMs: 1000, factor: 2, jitter: 0 });
    expect([false, false, false, false, false, false].map((found) => pacer.record(found))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect(pacer.record(true)).toBe(0);
    expect(pacer.record(false)).toBe(100);
  });

  it('makes an idle node claim about 120 times an hour with the defaults', () => {
    const pacer = new ClaimPacer({ minMs: 100, maxMs: 30_000, factor: 2, jitter: 0 });
    let elapsed = 0;
    let claims = 0;
    while (elapsed < 3_600_000) {
      elapsed += pacer.record(false);
      claims++;
    }
    expect(claims).toBeGreaterThan(115);
    expect(claims).toBeLessThan(135);
  });

  it('ends a wait at once when notified', async () => {
    const pacer = new ClaimPacer({ minMs: 60_000, maxMs: 60_000, factor: 2, jitter: 0 });
    pacer.record(false);
    const started = Date.now();
    const waiting = pacer.wait();
    setTimeout(() => pacer.notify(), 20);
    await waiting;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(pacer.record(false)).toBe(60_000);
  });
});

const unreachable = await redisUnreachable();

describe.skipIf(unreachable)('waking idle nodes on a TCP Redis', () => {
  const prefix = `test:wake:${Math.random().toString(36).slice(2, 8)}:`;
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await deleteKeys(prefix);
  });

  it('wakes a node waiting its longest backoff when work arrives in one of its partitions, not in another', async () => {
    const queue = new RedisJobQueue(ioredisClient(REDIS_URL), prefix);
    closers.push(() => queue.close());
    const pacer = new ClaimPacer({ minMs: 60_000, maxMs: 60_000, factor: 2, jitter: 0 });
    const woken: string[] = [];
    const subscription = await subscribeToWake(REDIS_URL, queue.wakeChannel, ['batch'], (partition) => {
      woken.push(partition);
      pacer.notify();
    });
    closers.push(() => subscription.close());

    pacer.record(false);
    const started = Date.now();
    const waiting = pacer.wait();
    await queue.enqueue([{ id: 1, partition: 'gpu', cpus: 1, memoryMb: 1, priority: 0, exclusive: false }]);
    await queue.enqueue([{ id: 2, partition: 'batch', cpus: 1, memoryMb: 1, priority: 0, exclusive: false }]);
    await waiting;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(woken).toEqual(['batch']);
  });
});
