/**
 * sbatch --dependency=singleton (issue 20): at most one job of a name and user runs at once. Two nodes confirming
 * two such jobs at the same moment start one (the confirm's name lock), one node confirming both in one batch starts
 * one, and the run's end releases the other at once (no reconciler run).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

    it('two nodes confirming two singleton jobs of one name at once start one; its end releases the other', async () => {
      const ids = [await submit('solo'), await submit('solo')];
      // Nothing of the name runs yet: both are in the queue, and each node claims one.
      const claimed = [await claim('s1', 1), await claim('s2', 1)];
      expect(claimed.flat().sort()).toEqual([...ids].sort());
      const [first, second] = await Promise.all([confirm('s1', claimed[0]!), confirm('s2', claimed[1]!)]);
      const started = [...first, ...second];
      expect(started).toHaveLength(1);
      const [winner] = started;
      const loser = ids.find((id) => id !== winner)!;
      const node = first.length === 1 ? 's1' : 's2';
      expect(await get(loser)).toMatchObject({
        state: 'PENDING',
        reason: 'Dependency',
        reason_detail: `waits for singleton (job ${winner} of this name runs)`,
      });
      expect(await t.queue.missing([Number(loser)])).toEqual([Number(loser)]);

      await finish(node, winner!);
      expect((await get(loser)).reason).not.toBe('Dependency');
      expect(await t.queue.missing([Number(loser)])).toEqual([]);
      expect(await confirm('s1', await claim('s1', 1))).toEqual([loser]);
      await finish('s1', loser);
    });

    it('one confirm of two singleton jobs of one name starts one; another name or a job without singleton is not held', async () => {
      const ids = [
        await submit('pair'),
        await submit('pair'),
        await submit('other'),
        await submit('pair', 'afterany:1'),
      ];
      const claimed = await claim('s2', 8);
      expect(claimed.sort()).toEqual([...ids].sort());
      const started = await confirm('s2', claimed);
      // The same name without singleton (afterany on a job that ended) is not held by it.
      expect(started.sort()).toEqual([ids[0], ids[2], ids[3]].sort());
      expect((await get(ids[1]!)).reason).toBe('Dependency');
      for (const id of started) await finish('s2', id);
      expect((await get(ids[1]!)).reason).not.toBe('Dependency');
      expect(await confirm('s2', await claim('s2', 1))).toEqual([ids[1]]);
      await finish('s2', ids[1]!);
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
