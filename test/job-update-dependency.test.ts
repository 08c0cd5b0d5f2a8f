/**
 * PATCH /v1/jobs/{id} with `dependency`, as `scontrol update JobId=… Dependency=…` (issue 20), on each queue: the new
 * list replaces the old, is checked as at submit (unknown, other accounts' and later jobs refused, changing nothing),
 * is decided at once (waits, released, never satisfiable: cancelled or kept), keeps a hold, clears with "", and is
 * recorded as an update event.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from './helpers/test-app.js';
import { moveJob } from './helpers/job-states.js';
import { beat, json, smallJob } from './helpers/pending-cluster.js';
import { appsOnQueues } from './helpers/test-app-queues.js';

const PARTITION = 'p-ud';
const script = '#!/bin/bash\ntrue';

for (const setup of await appsOnQueues()) {
  describe.skipIf(setup.skip)(`update of a PENDING job's dependency on ${setup.name}`, () => {
    let t: TestApp;
    let alice: string;
    beforeAll(async () => {
      t = await setup.open();
      alice = await t.token('user', 'physics', 'alice');
      await beat(t, 'n-ud', [PARTITION]);
    });
    afterAll(() => t?.close());

    const submit = async (extra: Record<string, unknown> = {}, token?: string) =>
      String(
        (
          await json(
            t.call('POST', '/v1/jobs', {
              body: { job: smallJob(PARTITION, extra), script },
              ...(token ? { token } : {}),
            }),
            201,
          )
        ).id,
      );
    const patch = (id: string, body: unknown, status: number, token?: string) =>
      json(t.call('PATCH', `/v1/jobs/${id}`, { body, ...(token ? { token } : {}) }), status);
    const get = async (id: string) => json(t.call('GET', `/v1/jobs/${id}`), 200);
    const queued = async (id: string) => (await t.queue.missing([Number(id)])).length === 0;
    const lastEvent = async (id: string) => (await json(t.call('GET', `/v1/jobs/${id}/events`), 200)).events.at(-1);

    it('replaces a queued job’s dependency: it leaves the queue (Dependency), and its parent’s end releases it', async () => {
      const parent = await submit();
      const other = await submit();
      const child = await submit();
      expect(await queued(child)).toBe(true);
      const updated = await patch(child, { dependency: `afterok:${parent}` }, 200);
      expect(updated.job.reason).toBe('Dependency');
      expect(await get(child)).toMatchObject({ reason: 'Dependency', dependency: `afterok:${parent}(unfulfilled)` });
      expect(updated.changes).toEqual({
        dependency: { from: null, to: `afterok:${parent}` },
        reason: { from: 'Priority', to: 'Dependency' },
      });
      expect(await lastEvent(child)).toMatchObject({ kind: 'update', changes: updated.changes });
      expect(await queued(child)).toBe(false);
      // Replaced, not added to: the old parent no longer counts.
      const replaced = await patch(child, { dependency: `afterany:${other}` }, 200);
      expect(replaced.changes).toEqual({ dependency: { from: `afterok:${parent}`, to: `afterany:${other}` } });
      await moveJob(t.database.db, other, 'RUNNING');
      await moveJob(t.database.db, other, 'FAILED');
      expect((await get(child)).reason).toBe('Priority');
    });

    it('is decided at once: released by a parent that already ended so, cancelled or kept by one that never can', async () => {
      const pending = await submit();
      const done = await submit();
      await moveJob(t.database.db, done, 'RUNNING');
      await moveJob(t.database.db, done, 'COMPLETED');
      const child = await submit({ hold: false });
      const released = await patch(child, { dependency: `afterok:${done}` }, 200);
      expect(released.job.reason).toBe('Priority');
      expect(await queued(child)).toBe(true);

      // Released together with a begin time to come: it waits for that (BeginTime), out of the queue.
      const later = await submit({ dependency: `afterok:${pending}` });
      expect((await get(later)).reason).toBe('Dependency');
      const begins = await patch(later, { dependency: `afterok:${done}`, begin: 'now+1hour' }, 200);
      expect(begins.job.reason).toBe('BeginTime');
      expect(await queued(later)).toBe(false);

      const doomed = await submit();
      const killed = await patch(doomed, { dependency: `afternotok:${done}` }, 200);
      expect(killed.job).toMatchObject({ state: 'CANCELLED', reason: 'DependencyNeverSatisfied' });
      expect(await queued(doomed)).toBe(false);

      // kill_on_invalid_dep no, given at submit, stays the job's.
      const waiting = await submit();
      const keeper = await submit({ dependency: `afterok:${waiting}`, kill_on_invalid_dep: false });
      const kept = await patch(keeper, { dependency: `afternotok:${done}` }, 200);
      expect(kept.job).toMatchObject({ state: 'PENDING', reason: 'DependencyNeverSatisfied' });
    });

    it('clears with "", and keeps a hold, whose release gives the new dependency back', async () => {
      const parent = await submit();
      const child = await submit({ dependency: `afterok:${parent}` });
      const cleared = await patch(child, { dependency: '' }, 200);
      expect(cleared.job.reason).toBe('Priority');
      expect(await get(child)).toMatchObject({ reason: 'Priority', dependency: null });
      expect(cleared.changes.dependency).toEqual({ from: `afterok:${parent}`, to: null });
      expect(await queued(child)).toBe(true);

      const held = await submit({ hold: true });
      expect((await patch(held, { dependency: `afterok:${parent}` }, 200)).job.reason).toBe('JobHeldUser');
      expect((await json(t.call('POST', `/v1/jobs/${held}/release`), 200)).job.reason).toBe('Dependency');
      expect(await queued(held)).toBe(false);
    });

    it('refuses what a submit would, a later job and the job itself, naming dependency and changing nothing', async () => {
      const parent = await submit();
      const child = await submit({ dependency: `afterok:${parent}` });
      const later = await submit();
      const theirs = await submit({ account: 'chemistry' });
      const own = await submit({ account: 'physics' }, alice);
      const theirsLater = await submit({ account: 'chemistry' });
      const cases: [string, RegExp, string?][] = [
        [`afterok:${child}`, /cannot depend on itself/],
        [`afterok:${later}`, new RegExp(`job ${later} was submitted after job ${child}`)],
        ['afterok:999999999', /no job 999999999/],
        ['afterok:1, afterany:2', /blanks/],
        ['singleton:3', /no job ids/],
      ];
      for (const [dependency, message] of cases) {
        const refused = await patch(child, { dependency }, 422);
        expect(refused.errors, dependency).toEqual([
          expect.objectContaining({ field: 'dependency', message: expect.stringMatching(message) }),
        ]);
      }
      // Another account's job is as unknown as a missing one.
      const hidden = await patch(own, { dependency: `afterok:${theirs}` }, 422, alice);
      expect(hidden.errors[0].message).toBe(
        `no job ${theirs} in account "physics": a job may depend only on jobs submitted before it`,
      );
      const hiddenLater = await patch(own, { dependency: `afterok:${theirsLater}` }, 422, alice);
      expect(hiddenLater.errors[0].message).toMatch(new RegExp(`^no job ${theirsLater} in account "physics"`));
      expect(await get(child)).toMatchObject({ reason: 'Dependency', dependency: `afterok:${parent}(unfulfilled)` });
      expect(await get(own)).toMatchObject({ reason: 'Priority', dependency: null });
    });
  });
}
