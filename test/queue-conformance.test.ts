/** One contract, every queue: the same behaviour from Redis (TCP and REST) and from Postgres (PGlite and server). */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_QUEUE_TUNING, type JobRef, type NodeCapacity, type RunningJob } from '../shared/queue/job-queue.js';
import { Redis as IORedis } from 'ioredis';
import { ioredisClient } from '../shared/queue/redis/ioredis-client.js';
import { RedisJobQueue } from '../shared/queue/redis/redis-job-queue.js';
import { queueBackends, type OpenQueue } from './helpers/test-queues.js';
import { deleteKeys, REDIS_URL, redisUnreachable } from './helpers/test-redis.js';

const ref = (id: number, extra: Partial<JobRef> = {}): JobRef => ({
  id,
  partition: 'batch',
  cpus: 1,
  memoryMb: 100,
  priority: 0,
  exclusive: false,
  user: null,
  timeLimitSeconds: null,
  ...extra,
});

const node = (extra: Partial<NodeCapacity> = {}): NodeCapacity => ({
  node: 'n1',
  partitions: ['batch'],
  cpus: 4,
  memoryMb: 4000,
  freeCpus: 4,
  freeMemoryMb: 4000,
  // Runs every job unless a test says otherwise.
  runsAs: { any_user: true, users: [], unnamed: true },
  ...extra,
});

const ids = (refs: JobRef[]) => refs.map((r) => r.id);

for (const backend of await queueBackends()) {
  describe.skipIf(backend.skip)(`the queue contract: ${backend.name}`, () => {
    let open: OpenQueue | undefined;
    afterEach(async () => {
      await open?.close();
      open = undefined;
    });
    const start = async (tuning = {}) => {
      open = await backend.open(tuning);
      return open.queue;
    };

    it('claims in priority order, then submit order, across the node partitions', async () => {
      const queue = await start();
      await queue.enqueue([
        ref(1),
        ref(2, { priority: 5, partition: 'gpu' }),
        ref(3, { partition: 'gpu' }),
        ref(4, { priority: 5 }),
        ref(5, { partition: 'other' }),
      ]);
      const claimed = await queue.claim(node({ partitions: ['batch', 'gpu'] }));
      expect(ids(claimed)).toEqual([2, 4, 1, 3]);
      expect(claimed[0]).toEqual(ref(2, { priority: 5, partition: 'gpu' }));
    });

    it('takes first fit: passes over what does not fit now, takes what does', async () => {
      const queue = await start();
      await queue.enqueue([ref(1, { cpus: 3 }), ref(2, { cpus: 2 }), ref(3, { cpus: 1 }), ref(4, { memoryMb: 3000 })]);
      const claimed = await queue.claim(node({ freeCpus: 2, freeMemoryMb: 2000 }));
      expect(ids(claimed)).toEqual([2]);
      const more = await queue.claim(node({ node: 'n2', freeCpus: 4, freeMemoryMb: 1000 }));
      expect(ids(more)).toEqual([1, 3]);
      expect(await queue.depth()).toEqual({ batch: 1 });
    });

    it('walks past removed and passed-over refs in order, however far it must read', async () => {
      const queue = await start();
      const big = { cpus: 16 };
      await queue.enqueue([ref(1, big), ref(2), ref(3, big), ref(4, big), ref(5), ref(6), ref(7), ref(8)]);
      await queue.enqueue([
        ref(9, { partition: 'gpu' }),
        ref(10, { partition: 'gpu', ...big }),
        ref(11, { partition: 'gpu' }),
      ]);
      await queue.remove([2]);
      const claimed = await queue.claim(node({ partitions: ['batch', 'gpu'], cpus: 8, freeCpus: 8 }), { max: 5 });
      expect(ids(claimed)).toEqual([5, 6, 7, 8, 9]);
      expect(ids(await queue.claim(node({ node: 'n2', partitions: ['batch', 'gpu'] }), { max: 1 }))).toEqual([11]);
    });

    it('gives a node only the jobs it runs (runs_as); the others stay queued for another node', async () => {
      const queue = await start();
      await queue.enqueue([
        ref(1, { user: 'alice' }),
        ref(2, { user: 'bob' }),
        ref(3),
        ref(4, { user: 'alice', partition: 'gpu' }),
      ]);
      // A daemon that is not root, running as alice: hers and those naming no user, each with its owner.
      const alice = await queue.claim(
        node({ partitions: ['batch', 'gpu'], runsAs: { any_user: false, users: ['alice'], unnamed: true } }),
      );
      expect(alice).toEqual([ref(1, { user: 'alice' }), ref(3), ref(4, { user: 'alice', partition: 'gpu' })]);
      // A root daemon that allows no root jobs: any owner's, none naming no user.
      await queue.enqueue([ref(5)]);
      const root = await queue.claim(node({ node: 'n2', runsAs: { any_user: true, users: [], unnamed: false } }));
      expect(root).toEqual([ref(2, { user: 'bob' })]);
      expect(await queue.depth()).toEqual({ batch: 1 });
    });

    it('gives a node that says nothing of owners (protocol 2) only the jobs naming no user', async () => {
      const queue = await start();
      await queue.enqueue([ref(1, { user: 'alice' }), ref(2)]);
      const v2 = { any_user: false, users: [], unnamed: true };
      expect(ids(await queue.claim(node({ runsAs: v2 })))).toEqual([2]);
      expect(await queue.claim(node({ node: 'n2', runsAs: v2 }))).toEqual([]);
      expect(await queue.missing([1])).toEqual([]);
    });

    it('keeps an owner named "null" an owner', async () => {
      const queue = await start();
      await queue.enqueue([ref(1, { user: 'null' })]);
      expect(await queue.claim(node({ runsAs: { any_user: false, users: [], unnamed: true } }))).toEqual([]);
      const taken = await queue.claim(node({ runsAs: { any_user: false, users: ['null'], unnamed: false } }));
      expect(taken).toEqual([ref(1, { user: 'null' })]);
    });

    it('stops at max refs per claim', async () => {
      const queue = await start();
      await queue.enqueue([ref(1), ref(2), ref(3)]);
      expect(ids(await queue.claim(node(), { max: 2 }))).toEqual([1, 2]);
    });

    it('gives an exclusive job a whole idle node, and only an idle one', async () => {
      const queue = await start();
      await queue.enqueue([ref(1, { exclusive: true, cpus: 2 }), ref(2)]);
      expect(ids(await queue.claim(node({ freeCpus: 3 })))).toEqual([2]);
      await queue.enqueue([ref(3)]);
      // The idle node takes the exclusive job, and then nothing else: the job has the whole node.
      expect(ids(await queue.claim(node({ node: 'n2' })))).toEqual([1]);
      expect(await queue.depth()).toEqual({ batch: 1 });
    });

    it('holds each ref once: pushing again, even after a claim, adds nothing', async () => {
      const queue = await start();
      await queue.enqueue([ref(1), ref(1)]);
      await queue.enqueue([ref(1)]);
      expect(ids(await queue.claim(node()))).toEqual([1]);
      await queue.enqueue([ref(1)]);
      expect(await queue.claim(node({ node: 'n2' }))).toEqual([]);
      expect(await queue.missing([1, 2])).toEqual([2]);
    });

    it('puts released refs back in their place', async () => {
      const queue = await start();
      await queue.enqueue([ref(1), ref(2), ref(3, { priority: 1 })]);
      expect(ids(await queue.claim(node(), { max: 2 }))).toEqual([3, 1]);
      expect(await queue.release('n1', [1])).toBe(1);
      expect(await queue.release('n1', [1])).toBe(0);
      expect(ids(await queue.claim(node({ node: 'n2' })))).toEqual([1, 2]);
    });

    it("requeues every unsettled ref of a lost node, and only that node's", async () => {
      const queue = await start();
      await queue.enqueue([ref(1), ref(2), ref(3), ref(4)]);
      await queue.claim(node(), { max: 3 });
      await queue.claim(node({ node: 'n2' }));
      expect(await queue.settle('n1', [2])).toEqual([2]);
      expect(await queue.requeueNode('n1')).toBe(2);
      expect(await queue.requeueNode('n1')).toBe(0);
      expect(await queue.depth()).toEqual({ batch: 2 });
      expect(ids(await queue.claim(node({ node: 'n3' })))).toEqual([1, 3]);
      expect(await queue.missing([1, 2, 3, 4])).toEqual([2]);
    });

    it('puts back claims nobody settled once they are older than asked, and only those', async () => {
      const queue = await start();
      await queue.enqueue([ref(1), ref(2), ref(3)]);
      await queue.claim(node(), { max: 2 });
      await queue.settle('n1', [1]);
      // Time passing, not a condition awaited: the claim is then older than the 10 ms asked below (a busy machine
      // only makes it older).
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await queue.releaseStale(60_000)).toBe(0);
      expect(await queue.releaseStale(10)).toBe(1);
      expect(await queue.releaseStale(10)).toBe(0);
      expect(ids(await queue.claim(node({ node: 'n2' })))).toEqual([2, 3]);
      // The old claim is gone for good: n1 can neither settle nor release it.
      expect(await queue.settle('n1', [2])).toEqual([]);
    });

    it("settles only the node's own claims", async () => {
      const queue = await start();
      await queue.enqueue([ref(1)]);
      await queue.claim(node());
      expect(await queue.settle('n2', [1])).toEqual([]);
      expect(await queue.settle('n1', [1, 99])).toEqual([1]);
      expect(await queue.missing([1])).toEqual([1]);
    });

    it('removes refs, queued or claimed, for good', async () => {
      const queue = await start();
      await queue.enqueue([ref(1), ref(2), ref(3)]);
      await queue.claim(node(), { max: 1 });
      await queue.remove([1, 2]);
      expect(await queue.missing([1, 2, 3])).toEqual([1, 2]);
      expect(await queue.release('n1', [1])).toBe(0);
      expect(ids(await queue.claim(node()))).toEqual([3]);
    });

    it('counts queued refs per partition', async () => {
      const queue = await start();
      expect(await queue.depth()).toEqual({});
      await queue.enqueue([ref(1), ref(2, { partition: 'gpu' }), ref(3, { partition: 'gpu' })]);
      await queue.claim(node({ partitions: ['gpu'] }), { max: 1 });
      expect(await queue.depth()).toEqual({ batch: 1, gpu: 1 });
    });

    it('looks only at a bounded window from the head of each partition', async () => {
      const queue = await start({ window: 3 });
      await queue.enqueue([ref(1, { cpus: 8 }), ref(2, { cpus: 8 }), ref(3, { cpus: 8 }), ref(4)]);
      expect(await queue.claim(node())).toEqual([]);
    });

    it('reserves a starving head: nodes that could ever fit it take nothing queued after it', async () => {
      const queue = await start({ starvationMs: 0 });
      await queue.enqueue([
        ref(1, { cpus: 4 }),
        ref(2),
        ref(3, { partition: 'other' }),
        ref(4, { partition: 'other', priority: 1 }),
      ]);
      // n1 could fit job 1 once idle: it takes what is queued before it (4, higher priority), nothing after it.
      expect(ids(await queue.claim(node({ freeCpus: 2, partitions: ['batch', 'other'] })))).toEqual([4]);
      // A small node that can never fit job 1 is not held back.
      expect(ids(await queue.claim(node({ node: 'small', cpus: 2, freeCpus: 2 })))).toEqual([2]);
      expect(ids(await queue.claim(node({ node: 'n2' })))).toEqual([1]);
      expect(ids(await queue.claim(node({ node: 'n3', partitions: ['other'] })))).toEqual([3]);
    });

    it('is not held back by a starving head it does not run', async () => {
      const queue = await start({ starvationMs: 0 });
      await queue.enqueue([ref(1, { cpus: 4, user: 'bob' }), ref(2)]);
      const alice = { any_user: false, users: ['alice'], unnamed: true };
      // Job 1 is reserved, and would hold back any node that could fit it and runs it; alice's node never will.
      expect(ids(await queue.claim(node({ freeCpus: 2, runsAs: alice })))).toEqual([2]);
      expect(await queue.depth()).toEqual({ batch: 1 });
    });

    it('reads a partition named twice once', async () => {
      const queue = await start();
      await queue.enqueue([ref(1), ref(2)]);
      expect(ids(await queue.claim(node({ partitions: ['batch', 'batch'] })))).toEqual([1, 2]);
    });

    it('claims for nodes that list their partitions in any order, concurrently', async () => {
      const queue = await start();
      await queue.enqueue(Array.from({ length: 40 }, (_, i) => ref(i + 1, { partition: i % 2 ? 'a' : 'b' })));
      const all: number[] = [];
      await Promise.all(
        Array.from({ length: 8 }, async (_, i) => {
          const capacity = node({ node: `n${i}`, partitions: i % 2 ? ['a', 'b'] : ['b', 'a'] });
          for (let round = 0; round < 20 && all.length < 40; round++) all.push(...ids(await queue.claim(capacity)));
        }),
      );
      expect(all.length).toBe(40);
      expect(new Set(all).size).toBe(40);
    });

    it("keeps a ref's time limit, or UNLIMITED", async () => {
      const queue = await start();
      await queue.enqueue([ref(1, { timeLimitSeconds: 90 }), ref(2)]);
      expect(await queue.claim(node())).toEqual([ref(1, { timeLimitSeconds: 90 }), ref(2, { timeLimitSeconds: null })]);
    });

    describe('backfill past a reserved head', () => {
      // 4 cpus, 2 of them held for another minute: job 1 (4 cpus, reserved at once) can start in 60 s, no sooner.
      const draining = (running: RunningJob[] = [{ cpus: 2, memoryMb: 100, endsInMs: 60_000 }]) =>
        node({ freeCpus: 2, freeMemoryMb: 3900, running });
      const queued = [
        ref(1, { cpus: 4, timeLimitSeconds: 600 }),
        ref(2, { timeLimitSeconds: 120 }),
        ref(3),
        ref(4, { timeLimitSeconds: 30 }),
        ref(5, { timeLimitSeconds: 60 }),
      ];

      it('starts only what fits now and ends before the head can start: not a longer job, not an UNLIMITED one', async () => {
        const queue = await start({ starvationMs: 0 });
        await queue.enqueue(queued);
        expect(ids(await queue.claim(draining()))).toEqual([4, 5]);
        expect(await queue.depth()).toEqual({ batch: 3 });
      });

      it('starts nothing when the head waits on an UNLIMITED job, or the running jobs are unknown', async () => {
        const queue = await start({ starvationMs: 0 });
        await queue.enqueue(queued);
        expect(await queue.claim(draining([{ cpus: 2, memoryMb: 100, endsInMs: null }]))).toEqual([]);
        expect(await queue.claim(node({ freeCpus: 2, freeMemoryMb: 3900 }))).toEqual([]);
        // An UNLIMITED job the head need not wait on leaves its start known: job 6 needs 2 cpus, free in 10 s.
        await queue.enqueue([
          ref(6, { partition: 'mixed', cpus: 2, timeLimitSeconds: 600 }),
          ref(7, { partition: 'mixed', timeLimitSeconds: 30 }),
          ref(8, { partition: 'mixed', timeLimitSeconds: 5 }),
        ]);
        const running: RunningJob[] = [
          { cpus: 1, memoryMb: 50, endsInMs: null },
          { cpus: 2, memoryMb: 50, endsInMs: 10_000 },
        ];
        expect(
          ids(await queue.claim(node({ partitions: ['mixed'], freeCpus: 1, freeMemoryMb: 3900, running }))),
        ).toEqual([8]);
      });

      it('counts every running job an exclusive head waits on, the soonest first for one that is not', async () => {
        const queue = await start({ starvationMs: 0 });
        const running = [
          { cpus: 2, memoryMb: 100, endsInMs: 50_000 },
          { cpus: 1, memoryMb: 100, endsInMs: 10_000 },
        ];
        await queue.enqueue([ref(1, { cpus: 2, timeLimitSeconds: 600 }), ref(2, { timeLimitSeconds: 30 })]);
        // Job 1 needs 2 cpus: one more frees in 10 s, so a 30 s job would hold it up.
        expect(await queue.claim(node({ freeCpus: 1, freeMemoryMb: 3800, running }))).toEqual([]);
        await queue.enqueue([ref(3, { partition: 'whole', exclusive: true, timeLimitSeconds: 600 })]);
        await queue.enqueue([ref(4, { partition: 'whole', timeLimitSeconds: 30 })]);
        // Exclusive job 3 needs the node idle: 50 s from now, and a 30 s job ends before.
        expect(
          ids(await queue.claim(node({ partitions: ['whole'], freeCpus: 1, freeMemoryMb: 3800, running }))),
        ).toEqual([4]);
      });

      it('is off when the tuning says so: the reserved head ends the claim', async () => {
        const queue = await start({ starvationMs: 0, backfill: false });
        await queue.enqueue(queued);
        expect(await queue.claim(draining())).toEqual([]);
      });

      it('backfills nothing past a head that has not waited past the bound: all pass it', async () => {
        const queue = await start({ starvationMs: 60_000 });
        await queue.enqueue(queued);
        expect(ids(await queue.claim(draining()))).toEqual([2, 3]);
      });
    });

    it('takes nothing from a paused partition, and its refs again once it is unpaused', async () => {
      const queue = await start({ starvationMs: 0 });
      await queue.enqueue([ref(1, { cpus: 4 }), ref(2), ref(3, { partition: 'other' })]);
      await queue.pausePartitions(['batch', 'gpu']);
      // The paused head (reserved, 4 cpus) does not hold the node back either.
      const both = node({ freeCpus: 2, partitions: ['batch', 'other'] });
      expect(ids(await queue.claim(both))).toEqual([3]);
      expect(await queue.depth()).toEqual({ batch: 2 });
      // The whole set is replaced: batch is claimable again, in its old order.
      await queue.pausePartitions(['gpu']);
      expect(ids(await queue.claim(node({ node: 'n2' })))).toEqual([1]);
      expect(ids(await queue.claim(node({ node: 'n3' })))).toEqual([2]);
      await queue.pausePartitions([]);
    });

    it('lets the next refs pass a head that has not waited past the bound', async () => {
      const queue = await start({ starvationMs: 60_000 });
      await queue.enqueue([ref(1, { cpus: 4 }), ref(2)]);
      expect(ids(await queue.claim(node({ freeCpus: 2 })))).toEqual([2]);
    });
  });
}

describe.skipIf(await redisUnreachable())('Redis refs pushed before time limits', () => {
  it('are read as UNLIMITED: queued in order, never backfilled', async () => {
    const prefix = `test:${Date.now().toString(36)}:old-limits:`;
    const raw = new IORedis(REDIS_URL);
    const queue = new RedisJobQueue(ioredisClient(REDIS_URL), prefix, { ...DEFAULT_QUEUE_TUNING, starvationMs: 0 });
    try {
      // What an API before time limits wrote: "partition|cpus|memoryMb|priority|exclusive|user|score".
      await queue.enqueue([ref(1, { cpus: 4, timeLimitSeconds: 600 })]);
      await raw.hset(`${prefix}refs`, '2', 'batch|1|100|0|0||2');
      await raw.zadd(`${prefix}q:batch`, 2, '2');
      await queue.enqueue([ref(3, { timeLimitSeconds: 30 })]);
      const running = [{ cpus: 2, memoryMb: 100, endsInMs: 60_000 }];
      expect(ids(await queue.claim(node({ freeCpus: 2, freeMemoryMb: 3900, running })))).toEqual([3]);
      expect(await queue.claim(node({ node: 'n2', partitions: ['batch'] }), { max: 1 })).toEqual([
        ref(1, { cpus: 4, timeLimitSeconds: 600 }),
      ]);
      expect(await queue.claim(node({ node: 'n3' }))).toEqual([ref(2)]);
    } finally {
      await queue.close();
      raw.disconnect();
      await deleteKeys(prefix);
    }
  });
});

describe.skipIf(await redisUnreachable())('Redis refs pushed before owners', () => {
  it('are read as naming no user, and keep their place when released', async () => {
    const prefix = `test:${Date.now().toString(36)}:old-refs:`;
    const raw = new IORedis(REDIS_URL);
    const queue = new RedisJobQueue(ioredisClient(REDIS_URL), prefix);
    try {
      // What an API before owners wrote: "partition|cpus|memoryMb|priority|exclusive|score", no user field.
      await raw.hset(`${prefix}refs`, '1', 'batch|1|100|0|0|1');
      await raw.zadd(`${prefix}q:batch`, 1, '1');
      await queue.enqueue([ref(2)]);
      expect(await queue.claim(node({ runsAs: { any_user: true, users: [], unnamed: false } }))).toEqual([]);
      expect(await queue.claim(node({ runsAs: { any_user: false, users: [], unnamed: true } }), { max: 1 })).toEqual([
        ref(1),
      ]);
      expect(await queue.release('n1', [1])).toBe(1);
      expect(ids(await queue.claim(node({ node: 'n2' })))).toEqual([1, 2]);
    } finally {
      await queue.close();
      raw.disconnect();
      await deleteKeys(prefix);
    }
  });
});
