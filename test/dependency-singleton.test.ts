/**
 * sbatch --dependency=singleton (issue 20): at most one job of a name and user runs at once. Two nodes confirming
 * two such jobs at the same moment start one (the confirm's name lock), one node confirming both in one batch starts
 * one, and the run's end releases the other at once (no reconciler run).
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushNotEnqueued } from '../api/jobs/push-not-enqueued.js';
import { jobs } from '../shared/db/schema.js';
import { beat, json, ROOT_ALLOWING, smallJob } from './helpers/pending-cluster.js';
import { appsOnQueues } from './helpers/test-app-queues.js';
import type { TestApp } from './helpers/test-app.js';

const PARTITION = 'race';

for (const setup of await appsOnQueues()) {
  describe.skipIf(setup.skip)(`singleton on ${setup.name}`, () => {
    let t: TestApp;
    const tokens: Record<string, string> = {};
    beforeAll(async () => {
      t = await setup.open();
      for (const node of ['s1', 's2']) {
        await beat(t, node, [PARTITION]);
        tokens[node] = await t.token('node', node);
      }
    });
    afterAll(() => t?.close());

    const submit = async (name: string, dependency = 'singleton') =>
      String(
        (
          await json(
            t.call('POST', '/v1/jobs', {
              body: { job: smallJob(PARTITION, { name, dependency }), script: '#!/bin/bash\ntrue' },
            }),
            201,
          )
        ).id,
      );
    /** Claims refs as a node with room for `cpus` 1-CPU jobs would. */
    const claim = async (node: string, cpus: number) =>
      (
        await t.queue.claim({
          node,
          partitions: [PARTITION],
          cpus: 8,
          memoryMb: 64_000,
          freeCpus: cpus,
          freeMemoryMb: 64_000,
          runsAs: ROOT_ALLOWING,
        })
      ).map((ref) => String(ref.id));
    const confirm = async (node: string, ids: string[]) =>
      (
        await json(t.call('POST', `/v1/nodes/${node}/confirm`, { token: tokens[node], body: { job_ids: ids } }), 200)
      ).jobs.map((job: { id: string }) => job.id) as string[];
    const get = async (id: string) => json(t.call('GET', `/v1/jobs/${id}`), 200);
    const finish = async (node: string, id: string) =>
      json(
        t.call('POST', `/v1/nodes/${node}/events`, {
          token: tokens[node],
          body: {
            events: [
              { kind: 'started', job_id: id, attempt: 1, pid: 4242, cpu_ids: [0] },
              { kind: 'finished', job_id: id, attempt: 1, state: 'COMPLETED', exit_status: 0, exit_signal: null },
            ],
          },
        }),
        200,
      );

    it('waits at submit for an earlier job of its name; two nodes confirming both at once (a stale ref) start only the earlier', async () => {
      const ids = [await submit('solo'), await submit('solo')];
      // As sbatch(1): the second waits for the first, submitted before it and not ended.
      expect(await get(ids[1]!)).toMatchObject({
        reason: 'Dependency',
        reason_detail: `waits for singleton (job ${ids[0]} of this name was submitted before it and waits)`,
      });
      expect(await t.queue.missing([Number(ids[1])])).toEqual([Number(ids[1])]);
      // A ref of the second in the queue all the same (a race, a reconciler's push): each node claims one.
      await t.database.db
        .update(jobs)
        .set({ reason: 'Priority', enqueued: false })
        .where(eq(jobs.id, Number(ids[1])));
      await pushNotEnqueued(t.database.db, t.queue, 10);
      const claimed = [await claim('s1', 1), await claim('s2', 1)];
      expect(claimed.flat().sort()).toEqual([...ids].sort());
      const [first, second] = await Promise.all([confirm('s1', claimed[0]!), confirm('s2', claimed[1]!)]);
      expect([...first, ...second]).toEqual([ids[0]]);
      const node = first.length === 1 ? 's1' : 's2';
      expect(await get(ids[1]!)).toMatchObject({
        state: 'PENDING',
        reason: 'Dependency',
        reason_detail: `waits for singleton (job ${ids[0]} of this name runs)`,
      });
      expect(await t.queue.missing([Number(ids[1])])).toEqual([Number(ids[1])]);

      await finish(node, ids[0]!);
      expect((await get(ids[1]!)).reason).not.toBe('Dependency');
      expect(await t.queue.missing([Number(ids[1])])).toEqual([]);
      expect(await confirm('s1', await claim('s1', 1))).toEqual([ids[1]]);
      await finish('s1', ids[1]!);
    });

    it('waits for every earlier or running job of its name and user, singleton or not; another name is not held', async () => {
      const plain = await submit('pair', 'afterany:1');
      const single = await submit('pair');
      const other = await submit('other');
      expect((await get(single)).reason).toBe('Dependency');
      const claimed = await claim('s2', 8);
      expect(claimed.sort()).toEqual([plain, other].sort());
      expect((await confirm('s2', claimed)).sort()).toEqual([plain, other].sort());
      await finish('s2', other);
      // The earlier job of its name runs now: it still waits.
      expect((await get(single)).reason).toBe('Dependency');
      await finish('s2', plain);
      expect((await get(single)).reason).not.toBe('Dependency');
      expect(await confirm('s2', await claim('s2', 1))).toEqual([single]);
      await finish('s2', single);
    });

    it('is released when the earlier job of its name is cancelled before it ran', async () => {
      const plain = await submit('cancelled-first', 'afterany:1');
      const single = await submit('cancelled-first');
      expect((await get(single)).reason).toBe('Dependency');
      expect((await t.call('POST', `/v1/jobs/${plain}/cancel`)).status).toBe(200);
      expect((await get(single)).reason).not.toBe('Dependency');
      expect(await confirm('s1', await claim('s1', 1))).toEqual([single]);
      await finish('s1', single);
    });

    it("does not name another account's job that holds a singleton of the same name and user", async () => {
      const running = String(
        (
          await json(
            t.call('POST', '/v1/jobs', {
              body: { job: smallJob(PARTITION, { name: 'cross', account: 'elsewhere' }), script: '#!/bin/bash\ntrue' },
            }),
            201,
          )
        ).id,
      );
      expect(await confirm('s1', await claim('s1', 1))).toEqual([running]);
      const waiting = await submit('cross');
      expect(await get(waiting)).toMatchObject({
        reason: 'Dependency',
        reason_detail: 'waits for singleton (a job of this name and user runs in another account)',
      });
      await finish('s1', running);
      expect(await confirm('s1', await claim('s1', 1))).toEqual([waiting]);
      await finish('s1', waiting);
    });

    it.each(['later', 'a "quoted", {braced} back\\slash name'])(
      'a singleton job submitted while one of its name runs waits, and starts after it (name %j)',
      async (name) => {
        const running = await submit(name);
        expect(await confirm('s1', await claim('s1', 1))).toEqual([running]);
        const waiting = await submit(name);
        expect((await get(waiting)).reason).toBe('Dependency');
        expect(await t.queue.missing([Number(waiting)])).toEqual([Number(waiting)]);
        await finish('s1', running);
        expect(await confirm('s1', await claim('s1', 1))).toEqual([waiting]);
        await finish('s1', waiting);
      },
    );
  });
}
