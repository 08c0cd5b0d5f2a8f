/**
 * One reconciler at a time across API processes (issue 22, item 5): the lease on scheduler_clock (migration 0031)
 * is held by one holder until it gives it back or its time to live ends, and holders racing for it never both run.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ReconcilerLease } from '../api/reconciler-lease.js';
import { startReconcileLoop } from '../api/hosts/node/reconcile-loop.js';
import { Reconciler } from '../api/reconciler.js';
import { messageLogger } from './helpers/message-logger.js';
import { backends, createTestDatabase, type TestDatabase } from './helpers/test-databases.js';
import { DEFAULT_QUEUE_TUNING } from '../shared/queue/job-queue.js';
import { PostgresJobQueue } from '../shared/queue/postgres-job-queue.js';
import { waitUntil } from './helpers/wait-for.js';

describe.each(await backends())('reconciler lease on $name', ({ name, skip }) => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.destroy();
    database = undefined;
  });
  const open = async () => (database = await createTestDatabase({ name, skip }));

  it.skipIf(skip)('is held by one holder until it gives it back', async () => {
    const { db } = await open();
    const first = new ReconcilerLease();
    const second = new ReconcilerLease();
    expect(await first.take(db)).toBe(true);
    expect(await second.take(db)).toBe(false);
    // Its holder renews it.
    expect(await first.take(db)).toBe(true);
    expect(await second.take(db)).toBe(false);
    // Giving back another's lease changes nothing.
    await second.release(db);
    expect(await second.take(db)).toBe(false);
    await first.release(db);
    expect(await second.take(db)).toBe(true);
    expect(await first.take(db)).toBe(false);
  });

  it.skipIf(skip)('ends on its own when its holder is gone', async () => {
    const { db } = await open();
    expect(await new ReconcilerLease('gone', 1).take(db)).toBe(true);
    const next = new ReconcilerLease();
    await waitUntil('the dead holder’s lease to end', () => next.take(db));
    expect(await new ReconcilerLease('gone', 1).take(db)).toBe(false);
  });

  it.skipIf(skip)('lets one of many racing holders take it', async () => {
    const { db } = await open();
    const taken = await Promise.all(Array.from({ length: 8 }, () => new ReconcilerLease().take(db)));
    expect(taken.filter(Boolean)).toHaveLength(1);
  });

  it.skipIf(skip)('runs one reconciler of two processes, the other once the first stops', async () => {
    const { db } = await open();
    const queue = new PostgresJobQueue(db, DEFAULT_QUEUE_TUNING);
    const runs = [0, 0];
    const loops = [0, 1].map((process) => {
      const lease = new ReconcilerLease();
      const reconciler = new Reconciler(queue);
      const loop = startReconcileLoop(
        async () => ((await lease.take(db)) ? reconciler.run(db) : null),
        10,
        messageLogger(() => {}),
        () => runs[process]!++,
      );
      return { lease, loop };
    });
    await waitUntil('some reconciler runs', () => runs[0]! + runs[1]! >= 3);
    const leader = runs[0]! > 0 ? 0 : 1;
    expect(runs[1 - leader]).toBe(0);
    await loops[leader]!.loop.stop();
    await loops[leader]!.lease.release(db);
    await waitUntil('the other process takes over', () => runs[1 - leader]! > 0);
    await loops[1 - leader]!.loop.stop();
  });
});
