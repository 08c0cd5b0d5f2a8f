/**
 * "Why is my job pending?" (issue 19, item 6): GET /v1/jobs/{id}/why for a job held by each cause, node by node, with
 * its place in the queue, the account limit that holds it, and its expected start as squeue --start computes it
 * (running jobs end at start + time limit, the jobs ahead placed first fit in queue order, then the job).
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LISTED_AHEAD, SIMULATED_AHEAD } from '../api/jobs/why/explain-pending.js';
import { accounts, jobs } from '../shared/db/schema.js';
import type { TestApp } from './helpers/test-app.js';
import { beat, configurePartition, json, smallJob, startOn } from './helpers/pending-cluster.js';
import { appsOnQueues } from './helpers/test-app-queues.js';

const HOUR = 3600_000;
const MINUTE = 60_000;

for (const setup of await appsOnQueues()) {
  describe.skipIf(setup.skip)(`why pending on ${setup.name}`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await setup.open();
    });
    afterAll(() => t?.close());

    const submit = async (partition: string, extra: Record<string, unknown> = {}, token?: string) =>
      (
        await json(
          t.call('POST', '/v1/jobs', { token, body: { job: smallJob(partition, extra), script: '#!/bin/bash\ntrue' } }),
          201,
        )
      ).id as string;
    const why = (id: string, token?: string) => json(t.call('GET', `/v1/jobs/${id}/why`, { token }), 200);
    const startTime = async (id: string) =>
      Date.parse((await json(t.call('GET', `/v1/jobs/${id}`), 200)).start_time as string);
    const at = (ms: number) => new Date(ms).toISOString();

    it("explains a busy node: what is free now and when enough frees by the running jobs' limits", async () => {
      await beat(t, 'n-busy', ['p-busy'], { cpus: 2, memory_mb: 4000 });
      const running = await submit('p-busy', { cpus_per_task: 2, time_limit: '1:00:00' });
      await startOn(t, 'n-busy', 'p-busy', [running], 2, 4000);
      const waiting = await submit('p-busy');
      const answer = await why(waiting);
      const frees = (await startTime(running)) + HOUR;
      expect(answer).toMatchObject({
        job_id: waiting,
        state: 'PENDING',
        partition: 'p-busy',
        reason: 'Resources',
        queue: { position: 1, ahead: 0, jobs_ahead: [] },
        account_limit: null,
        expected_start: { time: at(frees), node: 'n-busy', note: null, simulated_jobs_ahead: 0, capped: false },
      });
      expect(answer.nodes).toEqual([
        {
          name: 'n-busy',
          state: 'UP',
          verdict: 'busy',
          detail: `busy: 0 of 2 CPUs and 2976M of 4000M free; enough frees by ${at(frees)}`,
          cpus: 2,
          memory_mb: 4000,
          free_cpus: 0,
          free_memory_mb: 2976,
          frees_at: at(frees),
        },
      ]);
    });

    it('has no computable start behind a running job with no time limit', async () => {
      await beat(t, 'n-unlimited', ['p-unlimited'], { cpus: 1, memory_mb: 4000 });
      const running = await submit('p-unlimited', { time_limit: 'UNLIMITED' });
      await startOn(t, 'n-unlimited', 'p-unlimited', [running], 1, 4000);
      const answer = await why(await submit('p-unlimited'));
      expect(answer.nodes[0]).toMatchObject({
        verdict: 'busy',
        frees_at: null,
        detail: expect.stringContaining(`no computable time: job ${running} on it has no time limit (UNLIMITED)`),
      });
      expect(answer.expected_start).toMatchObject({
        time: null,
        note: 'no computable start: the nodes it fits on are held by jobs with no time limit (UNLIMITED)',
      });
    });

    it('places the jobs ahead first, in queue order and first fit, then the job', async () => {
      await beat(t, 'n-plan', ['p-plan'], { cpus: 2, memory_mb: 8000 });
      const running = await submit('p-plan', { cpus_per_task: 2, time_limit: '1:00:00' });
      await startOn(t, 'n-plan', 'p-plan', [running], 2, 8000);
      const start = await startTime(running);
      // B takes the whole node for 30 minutes once A ends; C and D then start together.
      const b = await submit('p-plan', { cpus_per_task: 2, time_limit: '30:00' });
      const c = await submit('p-plan', { time_limit: '10:00' });
      const d = await submit('p-plan', { time_limit: '1:00:00' });
      expect((await why(b)).expected_start.time).toBe(at(start + HOUR));
      expect((await why(c)).expected_start.time).toBe(at(start + 90 * MINUTE));
      const answer = await why(d);
      expect(answer.reason).toBe('Priority');
      expect(answer.queue).toEqual({
        position: 3,
        ahead: 2,
        jobs_ahead: [
          {
            id: b,
            priority: 0,
            cpus: 2,
            memory_per_node: '1G',
            time_limit: '0-00:30:00',
            owner: 'physics',
            name: 'relax',
            user: null,
          },
          {
            id: c,
            priority: 0,
            cpus: 1,
            memory_per_node: '1G',
            time_limit: '0-00:10:00',
            owner: 'physics',
            name: 'relax',
            user: null,
          },
        ],
      });
      expect(answer.expected_start).toMatchObject({
        time: at(start + 90 * MINUTE),
        node: 'n-plan',
        simulated_jobs_ahead: 2,
        capped: false,
      });
      // A job of higher priority comes ahead of B: B's start moves behind it.
      const urgent = await submit('p-plan', { cpus_per_task: 2, time_limit: '20:00', priority: 10 });
      expect((await why(b)).expected_start.time).toBe(at(start + 80 * MINUTE));
      expect((await why(b)).queue.jobs_ahead.map((job: { id: string }) => job.id)).toEqual([urgent]);
    });

    it('simulates only the first jobs ahead, and says so', async () => {
      await beat(t, 'n-many', ['p-many'], { cpus: 1, memory_mb: 4000 });
      const running = await submit('p-many');
      await startOn(t, 'n-many', 'p-many', [running], 1, 4000);
      for (let i = 0; i < SIMULATED_AHEAD + 1; i++) await submit('p-many', { time_limit: '1' });
      const answer = await why(await submit('p-many'));
      expect(answer.queue).toMatchObject({ position: SIMULATED_AHEAD + 2, ahead: SIMULATED_AHEAD + 1 });
      expect(answer.queue.jobs_ahead).toHaveLength(LISTED_AHEAD);
      // Each of the simulated jobs takes the node for a minute after the running one's hour.
      expect(answer.expected_start).toEqual({
        time: at((await startTime(running)) + HOUR + SIMULATED_AHEAD * MINUTE),
        node: 'n-many',
        note: `only the first ${SIMULATED_AHEAD} of the ${SIMULATED_AHEAD + 1} jobs ahead were simulated: it may start later`,
        simulated_jobs_ahead: SIMULATED_AHEAD,
        capped: true,
      });
    });

    it('says of each node why not: DOWN, drained with its reason, not its owner, too small, or room now', async () => {
      await beat(t, 'n-all-down', ['p-all']);
      await beat(t, 'n-all-drained', ['p-all']);
      await beat(t, 'n-all-owner', ['p-all'], {}, { any_user: false, users: ['alice'], unnamed: true });
      await beat(t, 'n-all-small', ['p-all'], { cpus: 1 });
      await beat(t, 'n-all-free', ['p-all']);
      await json(t.call('POST', '/v1/nodes/n-all-down/down'), 200);
      await json(t.call('POST', '/v1/nodes/n-all-drained/drain', { body: { reason: 'fan failure' } }), 200);
      const answer = await why(await submit('p-all', { user: 'bob', cpus_per_task: 2 }));
      expect(answer.reason).toBe('Resources');
      expect(
        answer.nodes.map((node: { name: string; verdict: string; detail: string }) => [
          node.name,
          node.verdict,
          node.detail,
        ]),
      ).toEqual([
        ['n-all-down', 'down', 'DOWN: it has stopped heartbeating or an admin set it down'],
        ['n-all-drained', 'drained', 'drained: fan failure'],
        [
          'n-all-free',
          'free',
          'room now (8 of 8 CPUs and 64000M of 64000M free): it starts there once the jobs ahead of it have theirs',
        ],
        ['n-all-owner', 'owner_not_run', 'does not run jobs as bob'],
        ['n-all-small', 'too_small', 'too small ever: it has 1 CPUs and 64000M; the job needs 2 CPUs and 1G'],
      ]);
      expect(answer.expected_start).toMatchObject({ node: 'n-all-free' });
    });

    it('has no expected start in a DOWN partition, nor where no node may run it', async () => {
      await beat(t, 'n-pdown', ['p-pdown']);
      const id = await submit('p-pdown');
      await configurePartition(t, 'p-pdown', 'DOWN');
      expect(await why(id)).toMatchObject({
        reason: 'PartitionDown',
        reason_detail: 'partition p-pdown is DOWN',
        expected_start: { time: null, note: 'partition p-pdown starts no job while it is DOWN' },
      });
      await configurePartition(t, 'p-nowhere');
      expect(await why(await submit('p-nowhere'))).toMatchObject({
        reason: 'PartitionNoNodes',
        nodes: [],
        expected_start: { time: null, note: 'no node serves partition p-nowhere: it starts once one does' },
      });
    });

    it('plans no start for a held or dependent job, and the begin time for one that waits for it', async () => {
      await beat(t, 'n-wait', ['p-why-wait']);
      expect(await why(await submit('p-why-wait', { hold: true }))).toMatchObject({
        reason: 'JobHeldUser',
        expected_start: { time: null, note: 'held: it is planned once released' },
      });
      const parent = await submit('p-why-wait', { hold: true });
      expect(await why(await submit('p-why-wait', { dependency: `afterok:${parent}` }))).toMatchObject({
        reason: 'Dependency',
        expected_start: {
          time: null,
          note: 'it waits for the jobs it depends on: it is planned once they settle its dependency',
        },
      });
      const begin = new Date(Math.ceil(Date.now() / 1000) * 1000 + 30 * 86_400_000).toISOString();
      expect(await why(await submit('p-why-wait', { begin: begin.replace('.000Z', 'Z') }))).toMatchObject({
        reason: 'BeginTime',
        expected_start: { time: begin, note: 'its begin time: the earliest it may start' },
      });
    });

    it('names the account limit that holds it, with what is in use', async () => {
      await t.database.db.insert(accounts).values({ name: 'capped', maxRunningCpus: 2 }).onConflictDoNothing();
      await beat(t, 'n-capped', ['p-capped']);
      const running = await submit('p-capped', { account: 'capped', cpus_per_task: 2 });
      await startOn(t, 'n-capped', 'p-capped', [running]);
      const held = await submit('p-capped', { account: 'capped' });
      await t.database.db
        .update(jobs)
        .set({ reason: 'AssocGrpCpuLimit' })
        .where(eq(jobs.id, Number(held)));
      expect(await why(held)).toMatchObject({
        reason: 'AssocGrpCpuLimit',
        reason_detail: 'account capped runs 2 of its 2 CPUs (GrpTRES=cpu)',
        account_limit: { reason: 'AssocGrpCpuLimit', limit: 2, in_use: 2, unit: 'cpus' },
        expected_start: {
          time: null,
          note: "held by its account's limit: it is queued again when a run of account capped ends",
        },
      });
      // Out of the queue: the job behind it is not behind it.
      expect((await why(await submit('p-capped'))).queue).toMatchObject({ position: 1, ahead: 0 });
      // A job over the limit by itself is never queued again: the answer says so, not that a run's end frees it.
      // (Submitted under a higher limit: over the limit at submit, it is refused.)
      await t.database.db.update(accounts).set({ maxRunningCpus: 3 }).where(eq(accounts.name, 'capped'));
      const tooBig = await submit('p-capped', { account: 'capped', cpus_per_task: 3 });
      await t.database.db.update(accounts).set({ maxRunningCpus: 2 }).where(eq(accounts.name, 'capped'));
      await t.database.db
        .update(jobs)
        .set({ reason: 'AssocGrpCpuLimit' })
        .where(eq(jobs.id, Number(tooBig)));
      expect((await why(tooBig)).expected_start).toMatchObject({
        time: null,
        note: "it never starts under its account's limit: it asks for 3 CPUs, account capped may run 2 cpus at most (max_running_cpus); an admin must raise it",
      });
    });

    it("shows a user its own account's jobs only, and the jobs ahead of other accounts anonymised", async () => {
      const alice = await t.token('user', 'physics', 'alice');
      const carol = await t.token('user', 'chem', 'carol');
      await beat(t, 'n-shared', ['p-shared'], { cpus: 1, memory_mb: 4000 });
      const running = await submit('p-shared');
      await startOn(t, 'n-shared', 'p-shared', [running], 1, 4000);
      const hers = await submit('p-shared', { name: 'mine' }, alice);
      const chems = await submit('p-shared', { account: 'chem', name: 'secret' }, carol);
      const last = await submit('p-shared', { name: 'later' }, alice);
      expect((await t.call('GET', `/v1/jobs/${chems}/why`, { token: alice })).status).toBe(404);
      const answer = await why(last, alice);
      expect(answer.queue.jobs_ahead).toEqual([
        expect.objectContaining({ id: hers, owner: 'physics', name: 'mine', user: 'alice' }),
        expect.objectContaining({ id: chems, owner: 'another account', name: null, user: null }),
      ]);
      // An admin sees every account.
      expect((await why(last)).queue.jobs_ahead[1]).toMatchObject({ owner: 'chem', name: 'secret', user: 'carol' });
    });

    it('answers 409 job_not_pending for a job that does not wait, and 404 for none', async () => {
      await beat(t, 'n-ran', ['p-ran']);
      const id = await submit('p-ran');
      await startOn(t, 'n-ran', 'p-ran', [id]);
      const answer = await t.call('GET', `/v1/jobs/${id}/why`);
      expect(answer.status).toBe(409);
      expect(answer.headers.get('content-type')).toBe('application/problem+json');
      expect(await answer.json()).toMatchObject({
        code: 'job_not_pending',
        detail: `Job ${id} is RUNNING, not PENDING: it waits for nothing`,
      });
      expect((await t.call('GET', '/v1/jobs/987654321/why')).status).toBe(404);
      expect((await t.call('GET', '/v1/jobs/x/why')).status).toBe(422);
    });
  });
}
