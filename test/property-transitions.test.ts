/**
 * Property tests of a job's life (fast-check): random sequences of what nodes, admins and users do to jobs, through
 * the API (claims and confirms, retried confirms, started and finished reports for right, stale and future attempts
 * from the right and the wrong node, retried reports, heartbeats that list or omit runs, cancels, nodes declared DOWN
 * and settled by the reconciler, nodes coming back), never reach an illegal state: every job's events are a legal
 * chain of the state table, an attempt is handed to one node (again only to it, when it retries its confirm), a
 * report is applied only from the node and attempt that hold the job, nothing moves a terminal job (a late report of
 * its attempt's real ending is kept as a note), and the job's columns agree with its state.
 */
import { asc, inArray, notInArray, sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Reconciler } from '../api/reconciler.js';
import { jobEvents, jobs } from '../shared/db/schema.js';
import { isTerminal, isTransitionAllowed, JOB_STATES, type JobState } from '../shared/job/job-state.js';
import { RUN_ENDINGS } from '../shared/protocol/events.js';
import { moveJob } from './helpers/job-states.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const NODES = ['n1', 'n2'] as const;
const TERMINAL_STATES = JOB_STATES.filter(isTerminal);
type Node = (typeof NODES)[number];
const capacity = { partitions: ['batch'], cpus: 8, memory_mb: 64_000 };

const node = fc.constantFrom(...NODES);
const job = fc.nat({ max: 2 });
/** Which attempt a report names, against the job's latest confirmed one. */
const attemptShift = fc.constantFrom(0, 0, 0, -1, 1);

const action = fc.oneof(
  {
    weight: 4,
    // A claim, then a confirm of what it claimed, and with `extra` of a job it may not have claimed.
    arbitrary: fc.record({ kind: fc.constant('confirm' as const), node, job, extra: fc.boolean() }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('started' as const), node, job, shift: attemptShift }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('finished' as const),
      node,
      job,
      shift: attemptShift,
      state: fc.constantFrom(...RUN_ENDINGS),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), job }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('heartbeat' as const),
      node,
      // Which of the node's confirmed runs it lists (bit i: run i), and whether it says what it journaled.
      listed: fc.nat({ max: 7 }),
      journaled: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('down' as const), node }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reconcile' as const) }) },
  // A node lost: declared DOWN, then settled by the reconciler at once (its requeue jobs become new attempts).
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('lose' as const), node }) },
);

type Action = typeof action extends fc.Arbitrary<infer A> ? A : never;

describe('any sequence of node events, cancels and node losses', () => {
  let t: TestApp;
  const tokens = {} as Record<Node, string>;
  beforeAll(async () => {
    t = await createTestApp({ name: 'pglite', skip: undefined });
    for (const name of NODES) tokens[name] = await t.token('node', name);
  });
  afterAll(() => t?.close());

  const post = async (path: string, body: unknown, token?: string) => {
    const response = await t.call('POST', path, { body, ...(token ? { token } : {}) });
    expect(response.status, `${path}: ${await response.clone().text()}`).toBeLessThan(500);
    return response;
  };

  /** Runs one sequence on three new jobs (the first asks for requeue) and checks the invariants after each step. */
  async function play(actions: Action[]): Promise<void> {
    // Earlier sequences' jobs are ended and their refs dropped, so that claims, heartbeats and node losses reach only
    // this one's (and the reconciler below never sweeps them back).
    const live = await t.database.db.select({ id: jobs.id }).from(jobs).where(notInArray(jobs.state, TERMINAL_STATES));
    for (const { id } of live) await moveJob(t.database.db, id, 'CANCELLED');
    await t.database.db.execute(sql`DELETE FROM queue_refs`);
    // Every node UP, as after a heartbeat with nothing running.
    const sequences = {} as Record<Node, number>;
    for (const name of NODES) {
      await post(`/v1/nodes/${name}/heartbeat`, capacity, tokens[name]);
      sequences[name] = 0;
    }
    const ids = [
      Number(await t.submit({ partition: 'batch', requeue: true })),
      Number(await t.submit({ partition: 'batch' })),
      Number(await t.submit({ partition: 'batch', requeue: true })),
    ];
    /** Every attempt handed out: "job/attempt" → node. */
    const handed = new Map<string, Node>();
    /** The terminal rows seen: they must never change. */
    const settled = new Map<number, string>();

    for (const step of actions) {
      const before = await rows(ids);
      switch (step.kind) {
        case 'confirm': {
          const claim = { ...capacity, free_cpus: 8, free_memory_mb: 64_000 };
          const refs = (await (await post(`/v1/nodes/${step.node}/claim`, claim, tokens[step.node])).json()).refs;
          const wanted = refs.map((ref: { id: string }) => ref.id);
          if (step.extra) wanted.push(String(ids[step.job]));
          const answer = await (
            await post(`/v1/nodes/${step.node}/confirm`, { job_ids: wanted }, tokens[step.node])
          ).json();
          if (answer.sequence !== undefined) sequences[step.node] = answer.sequence;
          for (const started of answer.jobs as { id: string; attempt: number }[]) {
            const key = `${started.id}/${started.attempt}`;
            // A confirm retried (its answer lost) is answered the runs it started again: to that node only.
            if (handed.has(key)) {
              expect(handed.get(key), `attempt ${key} handed to a second node`).toBe(step.node);
              continue;
            }
            expect(before.get(Number(started.id))!.state).toBe('PENDING');
            handed.set(key, step.node);
          }
          break;
        }
        case 'started':
        case 'finished': {
          const id = ids[step.job]!;
          const attempt = before.get(id)!.attempt + step.shift;
          if (attempt < 1) break;
          const event =
            step.kind === 'started'
              ? { kind: 'started', job_id: String(id), attempt, pid: 4242, cpu_ids: [0] }
              : {
                  kind: 'finished',
                  job_id: String(id),
                  attempt,
                  state: step.state,
                  exit_status: step.state === 'COMPLETED' ? 0 : 1,
                  exit_signal: null,
                };
          const answer = await (
            await post(`/v1/nodes/${step.node}/events`, { events: [event] }, tokens[step.node])
          ).json();
          const result = answer.results[0].result as string;
          if (result === 'applied') {
            // Only the node the attempt was handed to, for the job's latest attempt, while it runs.
            expect(handed.get(`${id}/${attempt}`)).toBe(step.node);
            expect(attempt).toBe(before.get(id)!.attempt);
            expect(before.get(id)!.state).toBe('RUNNING');
          }
          break;
        }
        case 'cancel':
          await post(`/v1/jobs/${ids[step.job]}/cancel`, undefined);
          break;
        case 'heartbeat': {
          const mine = [...handed].filter(([, holder]) => holder === step.node).map(([key]) => key);
          const running = mine
            .filter((_, index) => (step.listed >> index) & 1)
            .map((key) => ({ job_id: key.split('/')[0]!, attempt: Number(key.split('/')[1]) }));
          await post(
            `/v1/nodes/${step.node}/heartbeat`,
            { ...capacity, running, ...(step.journaled ? { confirmed_through: sequences[step.node] } : {}) },
            tokens[step.node],
          );
          break;
        }
        case 'down':
          await post(`/v1/nodes/${step.node}/down`, undefined);
          break;
        case 'reconcile':
          await reconcile();
          break;
        case 'lose':
          await post(`/v1/nodes/${step.node}/down`, undefined);
          await reconcile();
          break;
      }
      await checkInvariants(ids, settled);
    }
  }

  const reconcile = () => new Reconciler(t.queue, { sweepAfterMs: 24 * 3600_000 }).run(t.database.db);

  async function rows(ids: number[]) {
    const found = await t.database.db.select().from(jobs).where(inArray(jobs.id, ids));
    return new Map(found.map((row) => [row.id, row]));
  }

  async function checkInvariants(ids: number[], settled: Map<number, string>): Promise<void> {
    const events = await t.database.db
      .select()
      .from(jobEvents)
      .where(inArray(jobEvents.jobId, ids))
      .orderBy(asc(jobEvents.id));
    for (const [id, row] of await rows(ids)) {
      const chain = events.filter((event) => event.jobId === id);
      expect(chain[0]).toMatchObject({ fromState: null, toState: 'PENDING' });
      let state: JobState = 'PENDING';
      for (const event of chain.slice(1)) {
        expect(event.fromState, `job ${id}: an event from ${event.fromState} after ${state}`).toBe(state);
        // After the end only notes (a late report of the attempt's real ending, kept in the events): no move.
        if (isTerminal(state)) expect(event.toState, `job ${id}: moved after ${state}`).toBe(state);
        if (event.toState !== state) {
          expect(isTransitionAllowed(state, event.toState), `${state} -> ${event.toState}`).toBe(true);
        }
        state = event.toState;
      }
      expect(row.state).toBe(state);
      const starts = chain.filter((event) => event.fromState === 'PENDING' && event.toState === 'RUNNING').length;
      expect(row.attempt).toBe(starts);
      if (row.state === 'RUNNING') expect(row.nodeName).not.toBeNull();
      expect(row.endTime !== null).toBe(isTerminal(row.state));
      const seen = JSON.stringify([row.state, row.exitStatus, row.exitSignal, row.endTime, row.attempt]);
      if (settled.has(id)) expect(seen, `terminal job ${id} changed`).toBe(settled.get(id));
      else if (isTerminal(row.state)) settled.set(id, seen);
    }
  }

  it('never reach an illegal state, a second holder of an attempt, or a change to a terminal job', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 25 }), (actions) => play(actions)),
      {
        numRuns: 60,
        // Found by a run: a node lost, then its late report of the real ending (a note after NODE_FAIL).
        examples: [
          [
            [
              { kind: 'confirm', node: 'n1', job: 0, extra: false },
              { kind: 'lose', node: 'n1' },
              { kind: 'finished', node: 'n1', job: 1, shift: 0, state: 'COMPLETED' },
              { kind: 'lose', node: 'n1' },
            ],
          ],
        ],
      },
    );
  });
});
