/**
 * Owners (issue 12, item 1, and the API side of item 2): every job names the Unix login it runs as, or none. A user
 * token's jobs are always its user's; an admin may name any user but root, or none. A node is given, and may start,
 * only the jobs it runs (its runs_as, protocol 3): the claim skips the others, the confirm refuses them whatever the
 * queue said, and a PENDING job no UP node of its partition runs says why.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confirmClaims } from '../api/jobs/confirm-claims.js';
import { apiTokens } from '../shared/db/schema.js';
import type { RunsAs } from '../shared/protocol/runs-as.js';
import { createTestApp, TEST_PARTITIONS, validJob, type TestApp } from './helpers/test-app.js';
import { backends } from './helpers/test-databases.js';

const ROOT_ALLOWING: RunsAs = { any_user: true, users: [], unnamed: true };
const ROOT_REFUSING: RunsAs = { any_user: true, users: [], unnamed: false };
const alicesOwn: RunsAs = { any_user: false, users: ['alice'], unnamed: true };

/** Each test's own partition, configured for it. */
const OWN_PARTITIONS = [
  'unset',
  'own',
  'admin',
  'filter',
  'orig',
  'claim',
  'confirm',
  'statement',
  'reason',
  'rootless',
  'nonode',
];

/** A job of its own partition, so that each test's nodes decide alone. */
const jobIn = (partition: string, extra: Record<string, unknown> = {}) =>
  validJob({ partition, cpus_per_task: 1, ntasks_per_node: 1, memory_per_node: '1G', ...extra });

for (const backend of await backends()) {
  describe.skipIf(backend.skip)(`owners on ${backend.name}`, () => {
    let t: TestApp;
    let alice: string;
    beforeAll(async () => {
      t = await createTestApp(backend, {
        partitions: [...TEST_PARTITIONS, ...OWN_PARTITIONS.map((name) => `p-${name}`)],
      });
      alice = await t.token('user', 'physics', 'alice');
    });
    afterAll(() => t?.close());

    const json = async (response: Promise<Response>, status: number) => {
      const answer = await response;
      const body = await answer.json();
      expect(answer.status, JSON.stringify(body)).toBe(status);
      return body;
    };
    const submit = (job: Record<string, unknown>, token?: string) =>
      t.call('POST', '/v1/jobs', { token, body: { job, script: '#!/bin/bash\ntrue' } });
    const getJob = async (id: string) => json(t.call('GET', `/v1/jobs/${id}`), 200);
    /** Registers (or re-registers) a node serving one partition, saying how it runs jobs (or not: protocol 2). */
    const beat = async (node: string, partition: string, runsAs?: RunsAs) =>
      json(
        t.call('POST', `/v1/nodes/${node}/heartbeat`, {
          body: { partitions: [partition], cpus: 8, memory_mb: 64_000, ...(runsAs ? { runs_as: runsAs } : {}) },
        }),
        200,
      );
    const claimBody = (partition: string, runsAs?: RunsAs) => ({
      partitions: [partition],
      cpus: 8,
      memory_mb: 64_000,
      free_cpus: 8,
      free_memory_mb: 64_000,
      ...(runsAs ? { runs_as: runsAs } : {}),
    });
    const claim = async (node: string, partition: string, runsAs?: RunsAs) =>
      (await json(t.call('POST', `/v1/nodes/${node}/claim`, { body: claimBody(partition, runsAs) }), 200)).refs as {
        id: string;
        user: string | null;
      }[];
    const confirm = (node: string, ids: string[]) =>
      json(t.call('POST', `/v1/nodes/${node}/confirm`, { body: { job_ids: ids } }), 200);

    describe('tokens', () => {
      it('makes a user token with its account and Unix user, and shows the user', async () => {
        const made = await json(
          t.call('POST', '/v1/tokens', { body: { name: 'bob laptop', kind: 'user', account: 'chem', user: 'bob' } }),
          201,
        );
        expect(made).toMatchObject({ kind: 'user', account: 'chem', user: 'bob', node: null });
        const listed = (await json(t.call('GET', '/v1/tokens'), 200)).tokens;
        expect(listed.find((token: { id: string }) => token.id === made.id)).toMatchObject({ user: 'bob' });
        expect(listed.find((token: { kind: string }) => token.kind === 'node')?.user ?? null).toBeNull();
      });

      it.each([
        [{ user: 'root' }, 'user'],
        [{ user: '1alice' }, 'user'],
        [{ user: 'a'.repeat(33) }, 'user'],
        [{}, 'user'],
      ])('refuses a user token with %j, naming %s', async (extra, field) => {
        const body = await json(
          t.call('POST', '/v1/tokens', { body: { name: 'x', kind: 'user', account: 'chem', ...extra } }),
          422,
        );
        expect(body.errors.map((error: { field: string }) => error.field)).toContain(field);
      });

      it('refuses a submit from a user token without a user until an admin sets one, then runs as it', async () => {
        const made = await json(
          t.call('POST', '/v1/tokens', { body: { name: 'Old Laptop', kind: 'user', account: 'chem', user: 'carol' } }),
          201,
        );
        // As 0007 leaves a user token whose name was no login name.
        await t.database.db
          .update(apiTokens)
          .set({ user: null })
          .where(eq(apiTokens.id, Number(made.id)));
        const refused = await json(submit(jobIn('p-unset', { account: 'chem' }), made.token), 403);
        expect(refused.code).toBe('token_has_no_user');
        expect(refused.detail).toContain(`PATCH /v1/tokens/${made.id}`);

        const patched = await json(t.call('PATCH', `/v1/tokens/${made.id}`, { body: { user: 'carol' } }), 200);
        expect(patched).toMatchObject({ id: made.id, user: 'carol' });
        // At once in this process: the token's cached principal is dropped.
        const job = await json(submit(jobIn('p-unset', { account: 'chem' }), made.token), 201);
        expect(job.user).toBe('carol');
      });

      it('sets a user only on a user token, only as an admin, never root', async () => {
        const node = await json(
          t.call('POST', '/v1/tokens', { body: { name: 'nx', kind: 'node', node: 'nx', partitions: ['batch'] } }),
          201,
        );
        const onNode = await json(t.call('PATCH', `/v1/tokens/${node.id}`, { body: { user: 'alice' } }), 422);
        expect(onNode.errors.map((error: { field: string }) => error.field)).toEqual(['user']);
        expect((await t.call('PATCH', '/v1/tokens/999999', { body: { user: 'alice' } })).status).toBe(404);
        const root = await json(t.call('PATCH', `/v1/tokens/${node.id}`, { body: { user: 'root' } }), 422);
        expect(root.errors.map((error: { field: string }) => error.field)).toEqual(['user']);
        expect((await t.call('PATCH', `/v1/tokens/${node.id}`, { token: alice, body: { user: 'alice' } })).status).toBe(
          403,
        );
      });
    });

    describe('submit', () => {
      it("makes a user token's job its user's, shown on the job, its detail and the list", async () => {
        const created = await json(submit(jobIn('p-own'), alice), 201);
        expect(created.user).toBe('alice');
        expect((await getJob(created.id)).user).toBe('alice');
        const listed = (await json(t.call('GET', '/v1/jobs?partition=p-own'), 200)).jobs;
        expect(listed.map((job: { id: string; user: string }) => [job.id, job.user])).toEqual([[created.id, 'alice']]);
        // Naming its own user is the same.
        expect((await json(submit(jobIn('p-own', { user: 'alice' }), alice), 201)).user).toBe('alice');
      });

      it("refuses a user token's job naming another user: 403 naming job.user", async () => {
        const refused = await json(submit(jobIn('p-own', { user: 'bob' }), alice), 403);
        expect(refused.detail).toContain('job.user');
        expect(refused.detail).toContain('alice');
      });

      it('lets an admin name any user but root, or none', async () => {
        expect((await json(submit(jobIn('p-admin', { user: 'bob' })), 201)).user).toBe('bob');
        expect((await json(submit(jobIn('p-admin')), 201)).user).toBeNull();
        const root = await json(submit(jobIn('p-admin', { user: 'root' })), 422);
        expect(root.errors.map((error: { field: string }) => error.field)).toEqual(['job.user']);
        const invalid = await json(submit(jobIn('p-admin', { user: 'Bob Smith' })), 422);
        expect(invalid.errors.map((error: { field: string }) => error.field)).toEqual(['job.user']);
      });

      it('lists one owner with ?user=', async () => {
        const bobs = await json(submit(jobIn('p-filter', { user: 'bob' })), 201);
        await json(submit(jobIn('p-filter', { user: 'dave' })), 201);
        await json(submit(jobIn('p-filter')), 201);
        const listed = (await json(t.call('GET', '/v1/jobs?partition=p-filter&user=bob'), 200)).jobs;
        expect(listed.map((job: { id: string }) => job.id)).toEqual([bobs.id]);
        const refused = await json(t.call('GET', '/v1/jobs?user=Not%20A%20Login'), 422);
        expect(refused.errors.map((error: { field: string }) => error.field)).toEqual(['user']);
      });

      it("keeps the original's meanings: detail.user is the account, and its submit ignores a job.user", async () => {
        const submitted = await json(
          t.call('POST', '/jobs/submit', {
            token: alice,
            body: { job: jobIn('p-orig', { user: 'bob' }), script: 'true' },
          }),
          201,
        );
        const job = await getJob(submitted.job_id);
        expect(job.user).toBe('alice');
        expect(job.warnings).toEqual(['unknown field "job.user" ignored']);
        const query = await json(t.call('GET', `/jobs/query/${submitted.job_id}`, { token: alice }), 200);
        expect(query.detail.user).toBe('physics');
        const byAdmin = await json(
          t.call('POST', '/jobs/submit', { body: { job: jobIn('p-orig', { user: 'bob' }), script: 'true' } }),
          201,
        );
        expect((await getJob(byAdmin.job_id)).user).toBeNull();
      });
    });

    describe('dispatch', () => {
      it('gives a claim only the jobs its node runs, each ref with its owner', async () => {
        await beat('d1', 'p-claim', ROOT_ALLOWING);
        const alices = (await json(submit(jobIn('p-claim'), alice), 201)).id;
        const bobs = (await json(submit(jobIn('p-claim', { user: 'bob' })), 201)).id;
        const unnamed = (await json(submit(jobIn('p-claim')), 201)).id;
        // A daemon of protocol 2 says nothing: it gets only the job naming no user.
        expect(await claim('d1', 'p-claim')).toEqual([expect.objectContaining({ id: unnamed, user: null })]);
        // A daemon running as alice gets hers; a root daemon refusing root jobs, bob's.
        expect(await claim('d1', 'p-claim', alicesOwn)).toEqual([
          expect.objectContaining({ id: alices, user: 'alice' }),
        ]);
        expect(await claim('d1', 'p-claim', ROOT_REFUSING)).toEqual([
          expect.objectContaining({ id: bobs, user: 'bob' }),
        ]);
        const confirmed = await confirm('d1', [unnamed, alices, bobs]);
        expect(confirmed.jobs.map((job: { id: string; user: string | null }) => [job.id, job.user])).toEqual([
          [alices, 'alice'],
          [bobs, 'bob'],
          [unnamed, null],
        ]);
      });

      it('refuses at confirm a job whose owner the node does not run, whatever the queue said, and requeues it', async () => {
        // d2's heartbeat said nothing (protocol 2): it runs only jobs naming no user.
        await beat('d2', 'p-confirm');
        const bobs = (await json(submit(jobIn('p-confirm', { user: 'bob' })), 201)).id;
        // Taken straight from the queue, as an older daemon's Redis claim skips no owner.
        const taken = await t.queue.claim({
          node: 'd2',
          partitions: ['p-confirm'],
          cpus: 8,
          memoryMb: 64_000,
          freeCpus: 8,
          freeMemoryMb: 64_000,
          runsAs: ROOT_ALLOWING,
        });
        expect(taken.map((ref) => String(ref.id))).toEqual([bobs]);
        expect(await confirm('d2', [bobs])).toEqual({
          jobs: [],
          dropped: [bobs],
          sequence: expect.any(Number),
          cluster_id: expect.any(String),
        });
        expect((await getJob(bobs)).state).toBe('PENDING');
        // Back in the queue, for a node that runs bob's jobs.
        await beat('d3', 'p-confirm', ROOT_ALLOWING);
        expect((await claim('d3', 'p-confirm', ROOT_ALLOWING)).map((ref) => ref.id)).toEqual([bobs]);
        expect((await confirm('d3', [bobs])).jobs.map((job: { id: string }) => job.id)).toEqual([bobs]);
      });
    });

    it("starts a job, in the confirm's own statement, only on a node that runs its owner", async () => {
      // Past the route's check (a heartbeat may change runs_as between it and the statement): the statement holds.
      await beat('d4', 'p-statement');
      const bobs = (await json(submit(jobIn('p-statement', { user: 'bob' })), 201)).id;
      const unnamed = (await json(submit(jobIn('p-statement')), 201)).id;
      const result = await confirmClaims(t.database.db, 'd4', [Number(bobs), Number(unnamed)], 'test');
      expect(result.started.map((job) => String(job.id))).toEqual([unnamed]);
      expect(result.dropped.map(String)).toEqual([bobs]);
    });

    describe('the PENDING reason', () => {
      it('says ReqNodeNotAvail when no UP node of its partition runs its owner, on GET and list, not at submit', async () => {
        await beat('r1', 'p-reason', alicesOwn);
        const submitted = await json(submit(jobIn('p-reason', { user: 'bob' })), 201);
        expect(submitted).toMatchObject({ reason: 'Priority', reason_detail: null });
        const expected = {
          state: 'PENDING',
          reason: 'ReqNodeNotAvail',
          reason_detail: 'no UP node of partition p-reason runs jobs as bob',
        };
        expect(await getJob(submitted.id)).toMatchObject(expected);
        const listed = (await json(t.call('GET', '/v1/jobs?partition=p-reason'), 200)).jobs;
        expect(listed).toEqual([expect.objectContaining({ id: submitted.id, ...expected })]);
        // Alice's job, and one naming no user, are run by r1: they wait for their turn behind bob's, as usual.
        const hers = await json(submit(jobIn('p-reason'), alice), 201);
        const unnamed = await json(submit(jobIn('p-reason')), 201);
        for (const id of [hers.id, unnamed.id]) {
          expect(await getJob(id)).toMatchObject({ reason: 'Priority' });
        }
        // A node that runs bob's jobs comes up: the reason goes at once, and bob's job is next.
        await beat('r2', 'p-reason', ROOT_REFUSING);
        expect(await getJob(submitted.id)).toMatchObject({ reason: 'Resources' });
      });

      it('names a job naming no user as waiting for a node that runs root jobs', async () => {
        await beat('r3', 'p-rootless', ROOT_REFUSING);
        const submitted = await json(submit(jobIn('p-rootless')), 201);
        expect(await getJob(submitted.id)).toMatchObject({
          reason: 'ReqNodeNotAvail',
          reason_detail: 'no UP node of partition p-rootless runs jobs naming no user (as root)',
        });
      });

      it('says the partition has no node, not the owner, in a partition no node serves', async () => {
        const submitted = await json(submit(jobIn('p-nonode', { user: 'bob' })), 201);
        expect(await getJob(submitted.id)).toMatchObject({ reason: 'PartitionNoNodes' });
      });
    });
  });
}
