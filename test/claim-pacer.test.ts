import { afterEach, describe, expect, it } from 'vitest';
import { ioredisClient } from '../shared/queue/redis/ioredis-client.js';
import { RedisJobQueue } from '../shared/queue/redis/redis-job-queue.js';
import { subscribeToWake } from '../shared/queue/redis/wake-subscriber.js';
import { ClaimPacer } from '../worker-node/claim-pacer.js';
import { DaemonLoop } from '../worker-node/daemon-loop.js';
import { deleteKeys, REDIS_URL, redisUnreachable } from './helpers/test-redis.js';
import { waitUntil as waitUntilNamed } from './helpers/wait-for.js';
import { silentLogger } from '../shared/log/logger.js';

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

  it('starts the backoff over when reset, as a wake does', () => {
    const pacer = new ClaimPacer({ minMs: 100, maxMs: 30_000, factor: 2, jitter: 0 });
    for (let claim = 0; claim < 5; claim++) pacer.record(false);
    expect(pacer.waitMs()).toBe(1600);
    pacer.reset();
    expect(pacer.waitMs()).toBe(0);
    expect(pacer.record(false)).toBe(100);
  });

  it('spreads each wait by up to its jitter either way, and never an immediate claim', () => {
    const pacer = new ClaimPacer({ minMs: 1000, maxMs: 1000, factor: 2, jitter: 0.1 });
    expect(pacer.waitMs(0.5)).toBe(0);
    pacer.record(false);
    expect(pacer.waitMs(0)).toBe(900);
    expect(pacer.waitMs(0.5)).toBe(1000);
    expect(pacer.waitMs(0.999_999)).toBeCloseTo(1100, 2);
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
    // The claim loop's sleep, the longest backoff, ended by a wake as ClaimLoop.notify ends it.
    const pacer = new ClaimPacer({ minMs: 60_000, maxMs: 60_000, factor: 2, jitter: 0 });
    const passes: number[] = [];
    const loop = new DaemonLoop({
      name: 'claim',
      pass: async () => {
        passes.push(Date.now());
        pacer.record(false);
        return pacer.waitMs();
      },
      log: silentLogger,
    });
    closers.push(() => loop.stop());
    const woken: string[] = [];
    const subscription = await subscribeToWake(REDIS_URL, queue.wakeChannel, ['batch'], (partition) => {
      woken.push(partition);
      pacer.reset();
      loop.notify();
    });
    closers.push(() => subscription.close());

    loop.start();
    await waitUntil(() => passes.length === 1);
    await queue.enqueue([
      {
        id: 1,
        partition: 'gpu',
        cpus: 1,
        memoryMb: 1,
        priority: 0,
        exclusive: false,
        user: null,
        timeLimitSeconds: null,
      },
    ]);
    await queue.enqueue([
      {
        id: 2,
        partition: 'batch',
        cpus: 1,
        memoryMb: 1,
        priority: 0,
        exclusive: false,
        user: null,
        timeLimitSeconds: null,
      },
    ]);
    // A second pass before the minute's backoff is over can only be the wake's (the wait gives up sooner).
    await waitUntil(() => passes.length === 2);
    expect(woken).toEqual(['batch']);
  });
});

/** Waits for `done`, for less than the loop's minute of backoff. */
const waitUntil = (done: () => boolean) => waitUntilNamed('the passes expected', done);
