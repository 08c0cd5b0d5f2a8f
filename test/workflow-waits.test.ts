/**
 * Workflow waits (issue 20): a job a stored wait holds has no ref in the queue, the reconciler's push and sweep leave
 * it out, and a begin time that has come ends its wait (api/jobs/release-begun-jobs.ts) and pushes its ref.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Reconciler } from '../api/reconciler.js';
import { jobs } from '../shared/db/schema.js';
import type { TestApp } from './helpers/test-app.js';
import { beat, json, smallJob } from './helpers/pending-cluster.js';
import { appsOnQueues } from './helpers/test-app-queues.js';

for (const setup of await appsOnQueues()) {
  describe.skipIf(setup.skip)(`workflow waits on ${setup.name}`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await setup.open();
    });
    afterAll(() => t?.close());

    it('keeps a job waiting for its begin time out of the queue until the time comes', async () => {
      await beat(t, 'n-begin', ['p-begin']);
      const body = { job: smallJob('p-begin'), script: '#!/bin/bash\ntrue' };
      const id = Number((await json(t.call('POST', '/v1/jobs', { body }), 201)).id);
      const begin = new Date(Date.now() + 3_600_000);
      // As a submit with a begin time (or a retry's backoff) stores it: no ref, out of the queue.
      await t.queue.remove([id]);
      await t.database.db
        .update(jobs)
        .set({ reason: 'BeginTime', eligibleTime: begin, enqueued: false })
        .where(eq(jobs.id, id));

      const before = await new Reconciler(t.queue, { sweepAfterMs: 0 }, () => new Date(begin.getTime() - 1000)).run(
        t.database.db,
      );
      expect(before.begun).toBe(0);
      expect(await t.queue.missing([id])).toEqual([id]);
      expect((await json(t.call('GET', `/v1/jobs/${id}`), 200)).reason).toBe('BeginTime');

      const after = await new Reconciler(t.queue, { sweepAfterMs: 0 }, () => begin).run(t.database.db);
      expect(after.begun).toBe(1);
      expect(await t.queue.missing([id])).toEqual([]);
      expect((await json(t.call('GET', `/v1/jobs/${id}`), 200)).reason).toBe('Resources');
    });
  });
}
