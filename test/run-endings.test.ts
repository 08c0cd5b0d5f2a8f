/**
 * No false endings (issue 13): the daemon killed -9 at each point around a job's end, with real processes, many
 * times, and the job's final state and exit code checked every time (`Point` lists the points). They are made
 * deterministic by the wrapper's test gates (job-launcher.pl, CONDUCTOR_TEST_WRAPPER_GATES): it stops with its job a
 * zombie not yet collected, or with it collected and the status not written, until the test lets it go. The timing
 * of the grace itself is proven on a fake clock (run-ending-rule.test.ts); here, only that it is waited for.
 *
 * The finding it reproduces: a job that succeeded was reported FAILED ("the job process ended without leaving its
 * exit status", exit code null) when its daemon was restarted while its wrapper was between the job's end and its
 * status file: the restart took the zombie for gone and settled the run at once.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DAEMON_LOST_WRAPPER_MESSAGE } from '../worker-node/job-ending.js';
import { processStartTime } from '../worker-node/process-table.js';
import type { ChildServer } from './helpers/child-server.js';
import {
  ENDED,
  getJob,
  startTestApi,
  testNodes,
  waitFor,
  waitForState,
  type TestApi,
  type TestNodes,
} from './helpers/test-node.js';

/**
 * Where the job is when the daemon is killed: still running; ended and not collected (before `waitpid` returns);
 * collected, its status not written; its status just written (the daemon may have reported it or not: it hears
 * of it at once); and `away`: ended, its status written, while the daemon is away (killed while the job ran).
 */
type Point = 'running' | 'zombie' | 'collected' | 'written' | 'away';
const POINTS: Point[] = ['running', 'zombie', 'collected', 'written', 'away'];
/** The points whose run the restarted daemon holds for sure: all but `written`, which it may have forgotten. */
const HELD: Point[] = ['running', 'zombie', 'collected', 'away'];
const ROUNDS = 5;
const NODE = 'ender';

describe('no false endings: the daemon killed -9 around a job end', () => {
  let api: TestApi;
  let nodes: TestNodes;
  let work: string;
  let gates: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(async () => {
    await api.close();
  });
  beforeEach(() => {
    nodes = testNodes(api);
    work = nodes.dir();
    gates = join(nodes.dir(), 'gates');
    mkdirSync(gates);
    env = {
      CONDUCTOR_NODE_CPUS: '2',
      CONDUCTOR_NODE_OVERSUBSCRIBE: '4',
      CONDUCTOR_HEARTBEAT_SECONDS: '0.2',
      CONDUCTOR_TEST_WRAPPER_GATES: gates,
    };
  });
  afterEach(async () => {
    // Whatever a failed test left waiting goes on and ends: every job let go, every gate opened as it is reached.
    writeFileSync(join(work, 'end-all'), '');
    const runs = join(nodes.nodeDir(NODE), 'runs');
    await waitFor(
      'every wrapper done',
      () => {
        for (const file of readdirSync(gates)) if (!file.endsWith('.go')) writeFileSync(join(gates, `${file}.go`), '');
        return !existsSync(runs) || readdirSync(runs).every((run) => !wrapperAlive(join(runs, run))) ? true : undefined;
      },
      10_000,
    ).catch(() => {});
    rmSync(gates, { recursive: true, force: true });
    await nodes.cleanup();
  });

  const runDir = (id: string) => join(nodes.nodeDir(NODE), 'runs', `${id}-1`);
  const open = (id: string, point: 'zombie' | 'collected') => writeFileSync(join(gates, `${id}-1.${point}.go`), '');
  const reached = (id: string, point: 'zombie' | 'collected') =>
    waitFor(`job ${id}'s wrapper at its ${point} gate`, () =>
      existsSync(join(gates, `${id}-1.${point}`)) ? true : undefined,
    );
  const end = (id: string) => writeFileSync(join(work, `end-${id}`), '');
  /** Runs until the test ends it, then exits with `code`; writes its id to `starts` first (a job run twice shows). */
  const submit = (code: number) =>
    api.t.submit(
      // Never retried: each run's own end is what this suite checks.
      { name: 'job', current_working_directory: work, memory_per_node: '100M', requeue: false },
      [
        '#!/bin/bash',
        `echo $CONDUCTOR_JOB_ID >> ${work}/starts`,
        `while [ ! -e ${work}/end-$CONDUCTOR_JOB_ID ] && [ ! -e ${work}/end-all ]; do sleep 0.02; done`,
        `exit ${code}`,
      ].join('\n'),
    );
  const starts = () =>
    (existsSync(join(work, 'starts')) ? readFileSync(join(work, 'starts'), 'utf8') : '').trim().split('\n').sort();
  const pidFile = (id: string) =>
    waitFor(`job ${id}'s pid file`, () => {
      try {
        return readFileSync(join(runDir(id), 'pid'), 'utf8')
          .trim()
          .split(' ')
          .map(Number);
      } catch {
        return undefined;
      }
    });
  /**
   * Its wrapper has exited, so its status file is written: the file itself may be gone already, its run reported and
   * forgotten by a quick daemon.
   */
  const statusWritten = async (id: string) => {
    const [, , wrapper, start] = await pidFile(id);
    await waitFor(`job ${id}'s wrapper to write its status and exit`, () =>
      processStartTime(wrapper!) !== start ? true : undefined,
    );
  };
  const killNow = async (daemon: ChildServer) => {
    daemon.kill('SIGKILL');
    expect(await daemon.exited).toBe('signal SIGKILL');
  };
  /** The restarted daemon has looked at each of the jobs (its start-up said something of each). */
  const lookedAt = (daemon: ChildServer, ids: string[]) =>
    waitFor('the restart to look at every run', () => {
      const log = daemon.stdout().join('\n');
      return ids.every((id) => log.includes(`job ${id}: `)) ? true : undefined;
    });

  /** Brings a job to `point` (its gates set so that it stops there, or not at all) after its start. */
  const bringTo = async (id: string, point: Point) => {
    if (point === 'running' || point === 'away') return;
    if (point !== 'zombie') open(id, 'zombie');
    if (point === 'written') open(id, 'collected');
    end(id);
    if (point === 'written') return statusWritten(id);
    await reached(id, point);
  };
  /** What happens while the daemon is away: the `away` job ends, and its status is written. */
  const whileAway = async (id: string, point: Point) => {
    if (point !== 'away') return;
    open(id, 'zombie');
    open(id, 'collected');
    end(id);
    await waitFor(`job ${id}'s status file`, () => (existsSync(join(runDir(id), 'status')) ? true : undefined));
  };
  /** Lets a job go on from its point to its end. */
  const release = (id: string, point: Point) => {
    if (point === 'running') {
      open(id, 'zombie');
      open(id, 'collected');
      end(id);
    }
    if (point === 'zombie') open(id, 'zombie');
    if (point === 'zombie' || point === 'collected') open(id, 'collected');
  };

  it(`keeps every job's true ending, killed at each point ${ROUNDS} times`, async () => {
    let daemon = await nodes.start(NODE, env);
    const all: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Each point's job exits with its own code, 0 in turn: COMPLETED and FAILED both, at every point.
      const codes = POINTS.map((_, index) => (round + index) % 3);
      const ids: string[] = [];
      for (const code of codes) ids.push(await submit(code));
      all.push(...ids);
      await Promise.all(ids.map((id) => pidFile(id)));
      await Promise.all(ids.map((id, index) => bringTo(id, POINTS[index]!)));

      await killNow(daemon);
      await Promise.all(ids.map((id, index) => whileAway(id, POINTS[index]!)));
      daemon = await nodes.start(NODE, env);
      const point = (name: Point) => ids[POINTS.indexOf(name)]!;
      await lookedAt(
        daemon,
        HELD.map((name) => point(name)),
      );
      // The restarted daemon runs on a while before the held wrappers go on: until it has reported the run that
      // ended while it was away (its watch, shipper and outbox all at work meanwhile).
      await waitForState(api.t, point('away'), ENDED);
      for (const name of ['running', 'zombie', 'collected'] as const) {
        expect((await getJob(api.t, point(name))).state, name).toBe('RUNNING');
      }
      ids.forEach((id, index) => release(id, POINTS[index]!));

      const ended = await Promise.all(ids.map((id) => waitForState(api.t, id, ENDED)));
      const seen = ended.map((job, index) => [POINTS[index], job.state, job.exit_code?.status ?? null, job.attempt]);
      expect(seen, `round ${round}`).toEqual(
        codes.map((code, index) => [POINTS[index], code === 0 ? 'COMPLETED' : 'FAILED', code, 1]),
      );
    }
    // Each ran once.
    expect(starts()).toEqual([...all].sort());
  }, 60_000);

  it('settles a run whose wrapper is gone without a status only after the grace, NODE_FAIL saying so; a held wrapper outlives it', async () => {
    let daemon = await nodes.start(NODE, env);
    const [held, orphaned, lost] = [await submit(0), await submit(0), await submit(0)];
    const [orphanedPids, lostPids] = await Promise.all([orphaned, lost].map((id) => pidFile(id)));
    await bringTo(held, 'collected');

    await killNow(daemon);
    // While the daemon is away: one job loses its wrapper and runs on; another loses both.
    const [orphanedWrapper, orphanedWrapperStart] = [orphanedPids![2]!, orphanedPids![3]!];
    process.kill(orphanedWrapper, 'SIGKILL');
    await waitFor('the wrapper gone', () =>
      processStartTime(orphanedWrapper) !== orphanedWrapperStart ? true : undefined,
    );
    process.kill(lostPids![2]!, 'SIGKILL');
    process.kill(-lostPids![0]!, 'SIGKILL');
    await waitFor('the lost job and its wrapper gone', () =>
      processStartTime(lostPids![0]!) === undefined && processStartTime(lostPids![2]!) === undefined ? true : undefined,
    );

    daemon = await nodes.start(NODE, env);
    // Both settled only once the daemon has watched them for the grace (its clock, not this test's). Lost while the
    // daemon was away: the node's failure (NODE_FAIL, retried by default), not the job's.
    expect(await waitForState(api.t, orphaned, ENDED)).toMatchObject({
      state: 'NODE_FAIL',
      error_msg: DAEMON_LOST_WRAPPER_MESSAGE,
      exit_code: null,
    });
    expect(await waitForState(api.t, lost, ENDED)).toMatchObject({
      state: 'NODE_FAIL',
      error_msg: DAEMON_LOST_WRAPPER_MESSAGE,
      exit_code: null,
    });
    // The orphaned job was ended with its run.
    await waitFor('the orphaned job ended', () =>
      processStartTime(orphanedPids![0]!) === undefined ? true : undefined,
    );
    // Held all that while, the wrapper at its collected gate has not been given up: its run still runs.
    expect(await getJob(api.t, held)).toMatchObject({ state: 'RUNNING' });
    expect(daemon.stdout().join('\n')).toContain(`job ${held}: its process ended while the daemon was away`);
    release(held, 'collected');
    expect(await waitForState(api.t, held, ENDED)).toMatchObject({
      state: 'COMPLETED',
      exit_code: { status: 0, signal: null },
    });
  }, 60_000);
});

/** Whether the wrapper named by a run's pid file still lives. */
function wrapperAlive(dir: string): boolean {
  try {
    const [, , pid, start] = readFileSync(join(dir, 'pid'), 'utf8').trim().split(' ').map(Number);
    return processStartTime(pid!) === start;
  } catch {
    return false;
  }
}
