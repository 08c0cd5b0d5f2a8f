/**
 * The queue contract's reprioritise (the priority recompute's push), on every queue: queued refs move to their new
 * place, claimed ones stay claimed and go back to their new place when released, refs not held are ignored, and a
 * ref keeps every other field.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { JobRef, NodeCapacity } from '../shared/queue/job-queue.js';
import { queueBackends, type OpenQueue } from './helpers/test-queues.js';

const ref = (id: number, extra: Partial<JobRef> = {}): JobRef => ({
  id,
  partition: 'batch',
  cpus: 1,
  memoryMb: 100,
  priority: 0,
  exclusive: false,
  user: null,
  timeLimitSeconds: 3600,
  ...extra,
});

const node = (extra: Partial<NodeCapacity> = {}): NodeCapacity => ({
  node: 'n1',
  partitions: ['batch', 'gpu'],
  cpus: 8,
  memoryMb: 8000,
  freeCpus: 8,
  freeMemoryMb: 8000,
  runsAs: { any_user: true, users: [], unnamed: true },
  ...extra,
});

const ids = (refs: JobRef[]) => refs.map((r) => r.id);

for (const backend of await queueBackends()) {
  describe.skipIf(backend.skip)(`reprioritise: ${backend.name}`, () => {
    let open: OpenQueue | undefined;
    afterEach(async () => {
      await open?.close();
      open = undefined;
    });
    const start = async () => {
      open = await backend.open();
      return open.queue;
    };

    it('moves queued refs to their new place in (priority desc, submit order), keeping their other fields', async () => {
      const queue = await start();
      await queue.enqueue([
        ref(1, { priority: 30 }),
        ref(2, { priority: 20, user: 'alice' }),
        ref(3, { priority: 10 }),
      ]);
      expect(
        await queue.reprioritise([
          { id: 3, priority: 40 },
          { id: 2, priority: -5 },
        ]),
      ).toBe(2);
      const claimed = await queue.claim(node());
      expect(ids(claimed)).toEqual([3, 1, 2]);
      expect(claimed[2]).toEqual(ref(2, { priority: -5, user: 'alice' }));
    });

    it('orders a new priority against submit order as enqueue does: equal priorities, older first', async () => {
      const queue = await start();
      await queue.enqueue([ref(1, { priority: 5 }), ref(2, { priority: 9 }), ref(3, { priority: 1 })]);
      await queue.reprioritise([
        { id: 3, priority: 5 },
        { id: 2, priority: 5 },
      ]);
      expect(ids(await queue.claim(node()))).toEqual([1, 2, 3]);
    });

    it('leaves a claimed ref claimed, and release puts it back at its new place', async () => {
      const queue = await start();
      await queue.enqueue([ref(1, { priority: 10 }), ref(2, { priority: 5 }), ref(3, { priority: 1 })]);
      expect(ids(await queue.claim(node({ freeCpus: 1 }), { max: 1 }))).toEqual([1]);
      expect(await queue.reprioritise([{ id: 1, priority: 0 }])).toBe(0);
      expect(await queue.depth()).toEqual({ batch: 2 });
      expect(await queue.release('n1', [1])).toBe(1);
      expect(ids(await queue.claim(node({ node: 'n2' })))).toEqual([2, 3, 1]);
    });

    it('ignores refs it does not hold (settled or removed), and adds none', async () => {
      const queue = await start();
      await queue.enqueue([ref(1), ref(2)]);
      await queue.remove([2]);
      expect(
        await queue.reprioritise([
          { id: 2, priority: 50 },
          { id: 99, priority: 50 },
        ]),
      ).toBe(0);
      expect(await queue.missing([1, 2, 99])).toEqual([2, 99]);
      expect(await queue.depth()).toEqual({ batch: 1 });
      expect(await queue.reprioritise([])).toBe(0);
    });

    it('keeps partitions apart: a ref moves within its own queue only', async () => {
      const queue = await start();
      await queue.enqueue([ref(1, { partition: 'gpu' }), ref(2), ref(3, { partition: 'gpu' })]);
      await queue.reprioritise([{ id: 3, priority: 7 }]);
      expect(await queue.depth()).toEqual({ batch: 1, gpu: 2 });
      expect(ids(await queue.claim(node({ partitions: ['gpu'] })))).toEqual([3, 1]);
    });
  });
}
