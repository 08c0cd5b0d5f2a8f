/**
 * sbatch's --signal (issue 14, item 6): the job's `signal` is sent its seconds before the time limit, before the
 * limit's SIGTERM; with `B:` to the batch shell only, without it to the job's steps (what srun runs) and not to the
 * batch shell, as sbatch(1) says; once, also when the daemon is restarted before or after sending it. Real daemons, real
 * processes; what is asserted is the order of what the job's traps wrote, never how long anything took.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildServer } from './helpers/child-server.js';
import { startTestApi, testNodes, waitFor, waitForState, type TestApi, type TestNodes } from './helpers/test-node.js';

// A grace long enough for the TERM traps to run on a busy machine: what is tested is that they run, and in which order.
const NODE = { CONDUCTOR_NODE_CPUS: '2', CONDUCTOR_NODE_OVERSUBSCRIBE: '2', CONDUCTOR_KILL_GRACE_SECONDS: '10' };
/** Waits for signals without a foreground command, so its traps run when a signal comes (bash defers them else). */
const IDLE = 'while :; do sleep 100 & wait $!; done';
/** One core each: the two restarted nodes share the machine's two. */
const ONE_CORE = { CONDUCTOR_NODE_CPUS: '1', CONDUCTOR_KILL_GRACE_SECONDS: '10' };
/** The lines a daemon logged for sending a warning. */
const sends = (daemon: ChildServer) => daemon.stdout().filter((line) => line.includes('(--signal)')).length;

describe("a job's warning signal (sbatch --signal)", () => {
  let api: TestApi;
  let nodes: TestNodes;
  let work: string;

  beforeAll(async () => {
    api = await startTestApi();
    nodes = testNodes(api);
    work = nodes.dir();
    await nodes.start('warn1', NODE);
  });
  afterAll(async () => {
    await nodes?.cleanup();
    await api?.close();
  });

  const submit = (script: string, job: Record<string, unknown>) =>
    api.t.submit(
      { name: 'warned', current_working_directory: work, standard_output: '%j.out', standard_error: '%j.err', ...job },
      `#!/bin/bash\n${script}\n`,
    );
  const lines = (id: string) =>
    readFileSync(join(work, `${id}.out`), 'utf8')
      .split('\n')
      .filter(Boolean);

  it("B:USR1: the batch shell's USR1 trap runs before the TERM at the limit; its child, trapping USR1 too, gets none", async () => {
    const id = await submit(
      [
        "trap 'echo batch-USR1' USR1",
        "trap 'echo batch-TERM; exit 0' TERM",
        `bash -c 'trap "echo child-USR1" USR1; trap "exit 0" TERM; ${IDLE}' &`,
        IDLE,
      ].join('\n'),
      { time_limit: '0:06', signal: 'B:USR1@3' },
    );
    const job = await waitForState(api.t, id, ['TIMEOUT', 'COMPLETED', 'FAILED']);
    expect(job.state).toBe('TIMEOUT');
    expect(lines(id)).toEqual(['batch-USR1', 'batch-TERM']);
  });

  it("USR1 (no B:): srun's tasks get it before the TERM at the limit, the batch shell does not", async () => {
    const id = await submit(
      [
        "trap 'echo batch-USR1' USR1",
        "trap 'echo batch-TERM; exit 0' TERM",
        `srun bash -c 'trap "echo task-$SLURM_PROCID-USR1" USR1; trap "echo task-$SLURM_PROCID-TERM; exit 0" TERM; ${IDLE}'`,
      ].join('\n'),
      { time_limit: '0:06', signal: 'USR1@3', ntasks_per_node: 2 },
    );
    const job = await waitForState(api.t, id, ['TIMEOUT', 'COMPLETED', 'FAILED']);
    expect(job.state).toBe('TIMEOUT');
    const seen = lines(id);
    expect(seen.slice(0, 2).sort()).toEqual(['task-0-USR1', 'task-1-USR1']);
    // The limit's TERM reached each task once (srun does not pass on what came from outside the job), then srun
    // ended with them and the batch shell ran its trap.
    expect(seen.slice(2, 4).sort()).toEqual(['task-0-TERM', 'task-1-TERM']);
    expect(seen.slice(4)).toEqual(['batch-TERM']);
  });

  it('a warning whose seconds are not below the time limit is sent at the start; one that ends before gets none', async () => {
    const early = await submit(["trap 'echo early-USR2; exit 0' USR2", IDLE].join('\n'), {
      time_limit: '10:00',
      signal: 'B:USR2@600',
    });
    const done = await submit(["trap 'echo late-USR1' USR1", 'echo done'].join('\n'), {
      time_limit: '10:00',
      signal: 'B:USR1@60',
    });
    expect(await waitForState(api.t, early, ['COMPLETED', 'FAILED', 'TIMEOUT'])).toMatchObject({ state: 'COMPLETED' });
    expect(lines(early)).toEqual(['early-USR2']);
    expect(await waitForState(api.t, done, ['COMPLETED', 'FAILED'])).toMatchObject({ state: 'COMPLETED' });
    expect(lines(done)).toEqual(['done']);
  });

  it("one sent at the start waits for the batch shell's trap: it does not end a job still starting up", async () => {
    // The shell is busy (not yet trapping USR1) for longer than a watch tick: sent then, USR1 would end it.
    const starting = await submit(['sleep 1 & wait $!', "trap 'echo warned; exit 0' USR1", IDLE].join('\n'), {
      time_limit: '10:00',
      signal: 'B:USR1@600',
    });
    expect(await waitForState(api.t, starting, ['COMPLETED', 'FAILED', 'TIMEOUT'])).toMatchObject({
      state: 'COMPLETED',
    });
    expect(lines(starting)).toEqual(['warned']);
  });
});

describe("a job's warning signal across a daemon's restart", () => {
  let api: TestApi;
  let nodes: TestNodes;
  let work: string;

  beforeAll(async () => {
    api = await startTestApi();
    nodes = testNodes(api);
    work = nodes.dir();
  });
  afterAll(async () => {
    await nodes?.cleanup();
    await api?.close();
  });

  const script = `#!/bin/bash\ntrap 'echo warned' USR1\ntrap 'echo term; exit 0' TERM\n${IDLE}\n`;
  const submit = (job: Record<string, unknown>) =>
    api.t.submit(
      { name: 'restart', current_working_directory: work, standard_output: '%j.out', standard_error: '%j.err', ...job },
      script,
    );
  const output = (id: string) => {
    try {
      return readFileSync(join(work, `${id}.out`), 'utf8');
    } catch {
      return '';
    }
  };

  it("restarted before the warning is due, the daemon sends it from the run's start time, once", async () => {
    const first = await nodes.start('warn2', ONE_CORE);
    const id = await submit({ time_limit: '0:14', signal: 'B:USR1@7' });
    await waitForState(api.t, id, ['RUNNING']);
    expect(await first.stop()).toBe('code 0');
    const again = await nodes.start('warn2', ONE_CORE);
    const job = await waitForState(api.t, id, ['TIMEOUT', 'COMPLETED', 'FAILED']);
    expect(job.state).toBe('TIMEOUT');
    expect(output(id)).toBe('warned\nterm\n');
    // Sent by one daemon or the other (the restarted one, unless the machine made the restart outlast the 7 s).
    expect(sends(first) + sends(again)).toBe(1);
  });

  it('restarted after the warning was sent, the daemon does not send it again', async () => {
    const first = await nodes.start('warn3', ONE_CORE);
    const id = await submit({ time_limit: '0:10', signal: 'B:USR1@8' });
    await waitFor(`job ${id}'s warning`, () => (output(id).includes('warned') ? true : undefined));
    expect(await first.stop()).toBe('code 0');
    const again = await nodes.start('warn3', ONE_CORE);
    const job = await waitForState(api.t, id, ['TIMEOUT', 'COMPLETED', 'FAILED']);
    expect(job.state).toBe('TIMEOUT');
    expect(output(id)).toBe('warned\nterm\n');
    expect(sends(again)).toBe(0);
  });
});
