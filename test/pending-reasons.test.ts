/**
 * Reasons on read (issue 19, item 5): every PENDING job says the first thing that holds it, in precedence order, on
 * GET /v1/jobs/{id}, the list, and both dashboards: a stored account limit, the partition's state, its nodes (none, all
 * DOWN, none that may take it), then its place in the queue (Resources for the next, Priority behind it).
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accounts, jobs } from '../shared/db/schema.js';
import type { TestApp } from './helpers/test-app.js';
import { beat, claimOn, configurePartition, json, smallJob, startOn } from './helpers/pending-cluster.js';
import { appsOnQueues } from './helpers/test-app-queues.js';

for (const setup of await appsOnQueues()) {
  describe.skipIf(setup.skip)(`PENDING reasons on ${setup.name}`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await setup.open();
    });
    afterAll(() => t?.close());

    const submit = async (partition: string, extra: Record<string, unknown> = {}) =>
      (
        await json(
          t.call('POST', '/v1/jobs', { body: { job: smallJob(partition, extra), script: '#!/bin/bash\ntrue' } }),
          201,
        )
      ).id as string;
    const reasonOf = async (id: string) => {
      const job = await json(t.call('GET', `/v1/jobs/${id}`), 200);
      return { reason: job.reason, reason_detail: job.reason_detail };
    };
    /** The reason as the list, the /v1 dashboard and the original dashboard show it: all the same as GET's. */
    const everywhere = async (id: string, partition: string) => {
      const listed = (await json(t.call('GET', `/v1/jobs?partition=${partition}&state=PENDING`), 200)).jobs;
      const dashboard = (await json(t.call('GET', '/v1/dashboard'), 200)).pending;
      const original = (await json(t.call('GET', '/dashboard'), 200)).pending_jobs;
      const inList = listed.find((job: { id: string }) => job.id === id);
      const onDashboard = dashboard.find((job: { job_id: string }) => job.job_id === id);
      const onOriginal = original.find((job: { job_id: number }) => String(job.job_id) === id);
      return {
        list: { reason: inList.reason, reason_detail: inList.reason_detail },
        dashboard: { reason: onDashboard.reason, reason_detail: onDashboard.reason_detail },
        original: onOriginal.reason,
      };
    };

    it.each([
      ['DOWN', 'PartitionDown', 'partition p-state-down is DOWN'],
      ['INACTIVE', 'PartitionInactive', 'partition p-state-inactive is INACTIVE'],
    ] as const)('says a %s partition holds its jobs, whatever its nodes', async (state, reason, detail) => {
      const partition = `p-state-${state.toLowerCase()}`;
      await beat(t, `n-${partition}`, [partition]);
      const id = await submit(partition);
      await configurePartition(t, partition, state);
      expect(await reasonOf(id)).toEqual({ reason, reason_detail: detail });
      expect(await everywhere(id, partition)).toEqual({
        list: { reason, reason_detail: detail },
        dashboard: { reason, reason_detail: detail },
        original: reason,
      });
      // Set UP again: it is the next job of its partition.
      await configurePartition(t, partition, 'UP');
      expect((await reasonOf(id)).reason).toBe('Resources');
    });

    it("starts a DRAIN partition's queue: no partition reason", async () => {
      await beat(t, 'n-p-drain', ['p-drain']);
      const id = await submit('p-drain');
      await configurePartition(t, 'p-drain', 'DRAIN');
      expect((await reasonOf(id)).reason).toBe('Resources');
    });

    it('says PartitionNoNodes for a configured partition no node serves, until one does', async () => {
      await configurePartition(t, 'p-empty');
      const id = await submit('p-empty');
      expect(await reasonOf(id)).toEqual({
        reason: 'PartitionNoNodes',
        reason_detail: 'no node serves partition p-empty',
      });
      await beat(t, 'n-p-empty', ['p-empty']);
      expect((await reasonOf(id)).reason).toBe('Resources');
    });

    it('says NodeDown when every node of the partition is DOWN, ReqNodeNotAvail when the others are drained', async () => {
      await beat(t, 'n-down-1', ['p-down']);
      await beat(t, 'n-down-2', ['p-down']);
      const id = await submit('p-down');
      await json(t.call('POST', '/v1/nodes/n-down-1/down'), 200);
      expect((await reasonOf(id)).reason).toBe('Resources');
      await json(t.call('POST', '/v1/nodes/n-down-2/drain', { body: { reason: 'disk check' } }), 200);
      expect(await reasonOf(id)).toEqual({
        reason: 'ReqNodeNotAvail',
        reason_detail: 'every node of partition p-down that is not DOWN is drained (1)',
      });
      await json(t.call('POST', '/v1/nodes/n-down-2/down'), 200);
      expect(await reasonOf(id)).toEqual({
        reason: 'NodeDown',
        reason_detail: 'every node of partition p-down is DOWN (2)',
      });
      // A heartbeat brings n-down-1 back UP: the job is next again.
      await beat(t, 'n-down-1', ['p-down']);
      expect((await reasonOf(id)).reason).toBe('Resources');
    });

    it("says ReqNodeNotAvail when no available node runs its owner, with issue 12's words", async () => {
      await beat(t, 'n-owner', ['p-owner'], {}, { any_user: false, users: ['alice'], unnamed: true });
      const id = await submit('p-owner', { user: 'bob' });
      expect(await reasonOf(id)).toEqual({
        reason: 'ReqNodeNotAvail',
        reason_detail: 'no UP node of partition p-owner runs jobs as bob',
      });
    });

    it('says Resources for the next job of the partition and Priority behind it, in queue order', async () => {
      await beat(t, 'n-order', ['p-order'], { cpus: 1, memory_mb: 4000 });
      const running = await submit('p-order');
      await startOn(t, 'n-order', 'p-order', [running], 1, 4000);
      const first = await submit('p-order');
      const second = await submit('p-order');
      expect(await reasonOf(first)).toEqual({
        reason: 'Resources',
        reason_detail: 'next in partition p-order: waits for CPUs or memory to free',
      });
      expect(await reasonOf(second)).toEqual({
        reason: 'Priority',
        reason_detail: `jobs of higher priority are ahead of it in partition p-order, job ${first} first`,
      });
      // A job of higher priority goes ahead of both.
      const urgent = await submit('p-order', { priority: 50 });
      expect((await reasonOf(urgent)).reason).toBe('Resources');
      expect(await everywhere(first, 'p-order')).toMatchObject({ list: { reason: 'Priority' }, original: 'Priority' });
      // Other partitions' queues are their own.
      await beat(t, 'n-order-2', ['p-order-2']);
      expect((await reasonOf(await submit('p-order-2'))).reason).toBe('Resources');
    });

    it('reads back a stored account limit over every other reason; the job it holds is not next', async () => {
      await t.database.db
        .insert(accounts)
        .values({ name: 'limited', maxRunningCpus: 1, maxRunningJobs: 1 })
        .onConflictDoNothing();
      await beat(t, 'n-limit', ['p-limit']);
      const running = await submit('p-limit', { account: 'limited' });
      await startOn(t, 'n-limit', 'p-limit', [running]);
      const heldCpu = await submit('p-limit', { account: 'limited' });
      const heldJobs = await submit('p-limit', { account: 'limited' });
      const other = await submit('p-limit');
      // As the confirm that refused them stores it.
      await t.database.db
        .update(jobs)
        .set({ reason: 'AssocGrpCpuLimit' })
        .where(eq(jobs.id, Number(heldCpu)));
      await t.database.db
        .update(jobs)
        .set({ reason: 'AssocMaxJobsLimit' })
        .where(eq(jobs.id, Number(heldJobs)));
      expect(await reasonOf(heldCpu)).toEqual({
        reason: 'AssocGrpCpuLimit',
        reason_detail: 'account limited runs 1 of its 1 CPUs (GrpTRES=cpu)',
      });
      expect(await reasonOf(heldJobs)).toEqual({
        reason: 'AssocMaxJobsLimit',
        reason_detail: 'account limited runs 1 of its 1 jobs (GrpJobs)',
      });
      expect((await reasonOf(other)).reason).toBe('Resources');
      // Before the partition's state.
      await configurePartition(t, 'p-limit', 'DOWN');
      expect((await reasonOf(heldCpu)).reason).toBe('AssocGrpCpuLimit');
      expect((await reasonOf(other)).reason).toBe('PartitionDown');
    });

    it('reads back a stored workflow wait; the job it holds is not next, and a ref of it claimed does not start', async () => {
      await beat(t, 'n-wait', ['p-wait']);
      const held = await submit('p-wait');
      const other = await submit('p-wait');
      // As a hold stores it (issue 20), after the ref was pushed: a node may still claim that ref.
      await t.database.db
        .update(jobs)
        .set({ reason: 'JobHeldUser' })
        .where(eq(jobs.id, Number(held)));
      expect(await reasonOf(held)).toEqual({
        reason: 'JobHeldUser',
        reason_detail: 'held by its user: it starts once released',
      });
      expect((await reasonOf(other)).reason).toBe('Resources');
      await configurePartition(t, 'p-wait', 'DOWN');
      expect((await reasonOf(held)).reason).toBe('JobHeldUser');
      await configurePartition(t, 'p-wait', 'UP');
      await claimOn(t, 'n-wait', 'p-wait');
      const confirmed = await json(
        t.call('POST', '/v1/nodes/n-wait/confirm', { body: { job_ids: [held, other] } }),
        200,
      );
      expect(confirmed.jobs.map((job: { id: string }) => job.id)).toEqual([other]);
      expect(confirmed.dropped).toEqual([held]);
      expect(await reasonOf(held)).toMatchObject({ reason: 'JobHeldUser' });
    });

    it('gives no reason to a job that left PENDING', async () => {
      await beat(t, 'n-ran', ['p-ran']);
      const id = await submit('p-ran');
      await startOn(t, 'n-ran', 'p-ran', [id]);
      expect(await reasonOf(id)).toEqual({ reason: null, reason_detail: null });
    });
  });
}
