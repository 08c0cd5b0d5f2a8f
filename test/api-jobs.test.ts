import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobState } from '../shared/job/job-state.js';
import { createTestApp, TEST_PARTITIONS, validJob, type TestApp } from './helpers/test-app.js';
import { backends } from './helpers/test-databases.js';
import { moveJob } from './helpers/job-states.js';
import { DEFAULT_RETRY_POLICY } from '../shared/job/retry-policy.js';

const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

for (const backend of await backends()) {
  describe.skipIf(backend.skip)(`/v1 jobs on ${backend.name}`, () => {
    let t: TestApp;
    beforeAll(async () => {
      // The listing's jobs are in "gpu" and "cpu".
      t = await createTestApp(backend, { partitions: [...TEST_PARTITIONS, 'cpu'] });
    });
    afterAll(() => t?.close());

    const setState = (id: string, state: JobState) => moveJob(t.database.db, id, state);

    it('submits a job and answers it as stored', async () => {
      const response = await t.call('POST', '/v1/jobs', { body: { job: validJob(), script: '#!/bin/bash\necho hi' } });
      expect(response.status).toBe(201);
      expect(response.headers.get('x-request-id')).toBeTruthy();
      const job = await response.json();
      expect(response.headers.get('location')).toBe(`/v1/jobs/${job.id}`);
      expect(job).toMatchObject({
        name: 'relax',
        account: 'physics',
        partition: 'batch',
        state: 'PENDING',
        reason: 'Priority',
        attempt: 0,
        cpus: 4,
        ntasks_per_node: 2,
        cpus_per_task: 2,
        memory_per_node: '16G',
        time_limit: '1-02:03:04',
        exclusive: false,
        current_working_directory: '/home/alice/run',
        standard_output: `out-${job.id}-relax.log`,
        standard_error: `err-${job.id}.log`,
        exit_code: null,
        node: null,
        start_time: null,
        end_time: null,
        cancel_requested: false,
        submitted_by: 'admin:bootstrap',
      });
      expect(job.submit_time).toMatch(ISO_UTC);
      expect(job.eligible_time).toMatch(ISO_UTC);
      expect(job).not.toHaveProperty('script');
      const again = await t.call('GET', `/v1/jobs/${job.id}`);
      expect(again.status).toBe(200);
      expect(await again.json()).toEqual({
        ...job,
        // Read now, not stored: no node serves batch in this suite.
        reason: 'PartitionNoNodes',
        reason_detail: 'no node serves partition batch',
        environment: { OMP_PLACES: 'cores' },
        script: '#!/bin/bash\necho hi',
        retry: DEFAULT_RETRY_POLICY,
        // As sprio shows them: the test apps weigh every factor 0, so the priority is the typed one.
        priority_factors: { age: 0, fair_share: 0, job_size: 0, partition: 0, nice: 0, admin_set: false },
        // It depends on nothing (as squeue's %E shows such a job: null).
        dependency: null,
        // No run of it has ended: nothing used yet.
        usage: null,
        efficiency: null,
      });
    });

    it('keeps an explicit UNLIMITED time limit', async () => {
      const id = await t.submit(validJob({ time_limit: 'UNLIMITED' }));
      expect((await (await t.call('GET', `/v1/jobs/${id}`)).json()).time_limit).toBe('UNLIMITED');
    });

    it('answers 404 problem+json for an unknown job, and 422 for an id that is not one', async () => {
      const missing = await t.call('GET', '/v1/jobs/999999');
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toBe('application/problem+json');
      expect(await missing.json()).toMatchObject({ status: 404, code: 'job_not_found', title: 'Job not found' });
      const bad = await t.call('GET', '/v1/jobs/abc');
      expect(bad.status).toBe(422);
      expect((await bad.json()).errors).toEqual([
        { field: 'id', message: "must be a job id (a positive integer) or an array task's (123_7)" },
      ]);
    });

    it('answers 404 problem+json for an unknown route', async () => {
      const response = await t.call('GET', '/v1/nothing-here');
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ code: 'route_not_found' });
    });

    describe('listing', () => {
      let ids: string[];
      beforeAll(async () => {
        const t2 = t;
        ids = [];
        for (let i = 0; i < 7; i++) {
          ids.push(
            await t2.submit(
              validJob({ account: i % 2 ? 'chem' : 'bio', partition: i < 4 ? 'gpu' : 'cpu', name: `list-${i % 3}` }),
            ),
          );
        }
        await setState(ids[0]!, 'COMPLETED');
        await setState(ids[1]!, 'RUNNING');
      });

      const list = async (query: string) => {
        const response = await t.call('GET', `/v1/jobs?${query}`);
        expect(response.status).toBe(200);
        return (await response.json()) as {
          jobs: { id: string; state: string; account: string }[];
          next_cursor: string | null;
        };
      };

      it('is newest first and filters by account, partition, name and state', async () => {
        expect((await list('account=bio')).jobs.map((j) => j.id)).toEqual([ids[6], ids[4], ids[2], ids[0]]);
        expect((await list('account=chem&partition=gpu')).jobs.map((j) => j.id)).toEqual([ids[3], ids[1]]);
        expect((await list('name=list-0')).jobs.map((j) => j.id)).toEqual([ids[6], ids[3], ids[0]]);
        expect((await list('account=bio&state=COMPLETED,RUNNING')).jobs.map((j) => j.id)).toEqual([ids[0]]);
        expect((await list('state=RUNNING&partition=gpu')).jobs.map((j) => j.id)).toEqual([ids[1]]);
      });

      it('pages with a cursor, every job once', async () => {
        const seen: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const page = await list(`partition=gpu&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
          seen.push(...page.jobs.map((j) => j.id));
          cursor = page.next_cursor;
          pages++;
        } while (cursor);
        expect(seen).toEqual([ids[3], ids[2], ids[1], ids[0]]);
        expect(pages).toBe(2);
      });

      it('shows no script in a listing', async () => {
        const page = await list('limit=1');
        expect(page.jobs[0]).not.toHaveProperty('script');
        expect(page.jobs[0]).not.toHaveProperty('environment');
      });

      it.each([
        ['limit=501', 'limit'],
        ['limit=0', 'limit'],
        ['limit=ten', 'limit'],
        ['state=DONE', 'state'],
        ['state=PENDING,', 'state'],
        ['cursor=-1', 'cursor'],
      ])('refuses %s naming the field', async (query, field) => {
        const response = await t.call('GET', `/v1/jobs?${query}`);
        expect(response.status).toBe(422);
        expect((await response.json()).errors.map((e: { field: string }) => e.field)).toEqual([field]);
      });
    });

    describe('cancel', () => {
      it('cancels a PENDING job at once, and again changes nothing', async () => {
        const id = await t.submit();
        const first = await t.call('POST', `/v1/jobs/${id}/cancel`);
        expect(first.status).toBe(200);
        const body = await first.json();
        expect(body).toMatchObject({ effect: 'cancelled', job: { state: 'CANCELLED', reason: null } });
        expect(body.job.end_time).toMatch(ISO_UTC);
        const second = await t.call('POST', `/v1/jobs/${id}/cancel`);
        expect(second.status).toBe(200);
        expect(await second.json()).toMatchObject({
          effect: 'none',
          job: { state: 'CANCELLED', end_time: body.job.end_time },
        });
        const events = (await (await t.call('GET', `/v1/jobs/${id}/events`)).json()).events;
        expect(events).toMatchObject([
          { from_state: null, to_state: 'PENDING', reason: 'submitted' },
          { from_state: 'PENDING', to_state: 'CANCELLED', actor: 'admin:bootstrap' },
        ]);
        expect(events[1].at).toMatch(ISO_UTC);
      });

      it('marks a RUNNING job for its node once, and leaves it RUNNING', async () => {
        const id = await t.submit();
        await setState(id, 'RUNNING');
        const first = await (await t.call('POST', `/v1/jobs/${id}/cancel`)).json();
        expect(first).toMatchObject({ effect: 'cancel_requested', job: { state: 'RUNNING', cancel_requested: true } });
        const second = await (await t.call('POST', `/v1/jobs/${id}/cancel`)).json();
        expect(second).toMatchObject({ effect: 'none', job: { state: 'RUNNING', cancel_requested: true } });
        const events = (await (await t.call('GET', `/v1/jobs/${id}/events`)).json()).events;
        expect(events.filter((e: { reason: string }) => e.reason === 'cancel requested')).toHaveLength(1);
      });

      it.each(['COMPLETED', 'FAILED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL'] as const)(
        'refuses a %s job with 409',
        async (state) => {
          const id = await t.submit();
          await setState(id, state);
          const response = await t.call('POST', `/v1/jobs/${id}/cancel`);
          expect(response.status).toBe(409);
          expect(await response.json()).toMatchObject({
            code: 'invalid_transition',
            detail: `Job ${id} is ${state} and cannot become CANCELLED`,
          });
          expect((await (await t.call('GET', `/v1/jobs/${id}`)).json()).state).toBe(state);
        },
      );

      it('answers 404 for an unknown job', async () => {
        expect((await t.call('POST', '/v1/jobs/424242/cancel')).status).toBe(404);
      });
    });

    it('counts jobs per state and partition, exactly', async () => {
      const fresh = await createTestApp(backend, { partitions: ['a', 'b'] });
      try {
        for (let i = 0; i < 5; i++) await fresh.submit(validJob({ partition: 'a' }));
        const b1 = await fresh.submit(validJob({ partition: 'b' }));
        await fresh.submit(validJob({ partition: 'b' }));
        await moveJob(fresh.database.db, b1, 'FAILED');
        const stats = await (await fresh.call('GET', '/v1/stats')).json();
        const zero = {
          PENDING: 0,
          RUNNING: 0,
          COMPLETED: 0,
          FAILED: 0,
          CANCELLED: 0,
          TIMEOUT: 0,
          OUT_OF_MEMORY: 0,
          NODE_FAIL: 0,
        };
        expect(stats).toEqual({
          total: 7,
          by_state: { ...zero, PENDING: 6, FAILED: 1 },
          partitions: [
            { partition: 'a', total: 5, by_state: { ...zero, PENDING: 5 } },
            { partition: 'b', total: 2, by_state: { ...zero, PENDING: 1, FAILED: 1 } },
          ],
        });
      } finally {
        await fresh.close();
      }
    });
  });
}
