/** Real bash, real process groups: what the node daemon's runner does with a job. */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LaunchRefused, parseJobStart } from '../worker-node/job-launcher.js';
import {
  groupAlive,
  launchJob,
  readJobExit,
  terminateGroup,
  waitForLaunch,
  type JobExit,
  type JobLaunch,
} from '../worker-node/job-process.js';
import { processStartTime } from '../worker-node/process-table.js';
import { waitFor, waitUntil } from './helpers/wait-for.js';

describe('running a job as its own process group', () => {
  const dirs: string[] = [];
  const groups: number[] = [];
  afterEach(async () => {
    for (const pgid of groups.splice(0)) if (groupAlive(pgid)) await terminateGroup(pgid, 100);
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** `extra`: launch fields over the defaults, made from the job's root directory, in which `prepare` runs first. */
  async function run(
    script: string,
    env: Record<string, string> = {},
    extra: Partial<JobLaunch> | ((root: string) => Partial<JobLaunch>) = {},
    prepare: (root: string) => void = () => {},
  ) {
    const root = mkdtempSync(join(tmpdir(), 'conductor-job-'));
    dirs.push(root);
    prepare(root);
    const dir = join(root, 'job');
    const launched = await launchJob({
      dir,
      script,
      cwd: join(root, 'work'),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      stdoutPath: join(root, 'out.log'),
      stderrPath: join(root, 'err.log'),
      openMode: 'truncate',
      cpuIds: [0],
      user: undefined,
      minUid: 1000,
      makeCwd: false,
      ...(typeof extra === 'function' ? extra(root) : extra),
    });
    groups.push(launched.pid);
    const ended = (): Promise<JobExit> =>
      waitFor(`the exit status of job ${launched.pid}`, () => readJobExit(dir) ?? undefined);
    /** The script has reached its `touch ready`. */
    const ready = () => waitUntil(`job ${launched.pid} ready`, () => existsSync(join(root, 'work', 'ready')));
    return { ...launched, root, dir, ended, ready, out: () => readFileSync(join(root, 'out.log'), 'utf8') };
  }

  it('runs bash on the script in its working directory, with its environment, output to files', async () => {
    const job = await run('echo "$GREETING from $(pwd)"; echo oops >&2; exit 3', { GREETING: 'hello' });
    expect(await job.ended()).toEqual({ exitStatus: 3, signal: null });
    expect(job.out()).toBe(`hello from ${join(job.root, 'work')}\n`);
    expect(readFileSync(join(job.root, 'err.log'), 'utf8')).toBe('oops\n');
  });

  it('keeps exit status and signal apart', async () => {
    expect(await (await run('true')).ended()).toEqual({ exitStatus: 0, signal: null });
    expect(await (await run('kill -KILL $$')).ended()).toEqual({ exitStatus: null, signal: 9 });
    expect(await (await run('exit 137')).ended()).toEqual({ exitStatus: 137, signal: null });
  });

  it('pins the job to its cores', async () => {
    const job = await run('taskset -cp $$');
    await job.ended();
    expect(job.out()).toMatch(/current affinity list: 0\n$/);
  });

  it('names the process by pid and start time', async () => {
    const job = await run('sleep 30');
    expect(job.startTime).toBeGreaterThan(0);
    expect(processStartTime(job.pid)).toBe(job.startTime);
    await terminateGroup(job.pid, 1000);
    await job.ended();
    expect(processStartTime(job.pid)).toBeUndefined();
  });

  it('a kill the moment the launch answers reaches the job: its group exists before its pid is told', async () => {
    // Many at once, so that some children are still between fork and their own setpgrp when the pid is known.
    const jobs = await Promise.all(Array.from({ length: 20 }, () => run('sleep 30')));
    await Promise.all(jobs.map((job) => terminateGroup(job.pid, 1000)));
    for (const job of jobs) expect(await job.ended()).toEqual({ exitStatus: null, signal: 15 });
  });

  it('ends the whole tree, children and grandchildren, with SIGTERM then SIGKILL', async () => {
    // A child that ignores SIGTERM, and a grandchild behind it.
    const job = await run(`
      trap '' TERM
      ( trap '' TERM; sleep 300 & sleep 300 ) &
      sleep 300 &
      touch ready
      wait
    `);
    // Ready: the shell ignores SIGTERM, and so does every process it started since (an ignored signal is inherited).
    await job.ready();
    expect(groupAlive(job.pid)).toBe(true);
    await terminateGroup(job.pid, 300);
    expect(groupAlive(job.pid)).toBe(false);
    // Ended by SIGKILL: the SIGTERM was ignored, and the grace period ran out.
    expect(await job.ended()).toEqual({ exitStatus: null, signal: 9 });
  });

  it('lets a job that ends on SIGTERM end within the grace period', async () => {
    const job = await run('touch ready\nsleep 300');
    await job.ready();
    await terminateGroup(job.pid, 10_000);
    expect(await job.ended()).toEqual({ exitStatus: null, signal: 15 });
  });

  it("says its wrapper's pid and start time, and the output files it opened, in its answer and its pid file", async () => {
    const job = await run('sleep 30');
    expect(processStartTime(job.wrapper!.pid)).toBe(job.wrapper!.start);
    const { dev, ino } = statSync(join(job.root, 'out.log'), { bigint: true });
    expect(job.outputIds?.stdout).toBe(`${dev}:${ino}`);
    expect(await waitForLaunch(job.dir, 0)).toEqual({
      pid: job.pid,
      startTime: job.startTime,
      wrapper: job.wrapper,
      outputIds: job.outputIds,
      outputBase: { stdout: 0, stderr: 0 },
    });
    await terminateGroup(job.pid, 1000);
  });

  describe('opens its output files as sbatch does (--open-mode)', () => {
    const file = (job: { root: string }, name: string) => readFileSync(join(job.root, name), 'utf8');
    const holding = (files: Record<string, string>) => (root: string) => {
      for (const [name, text] of Object.entries(files)) writeFileSync(join(root, name), text);
    };

    it('truncate empties the files first: its output starts at 0', async () => {
      const job = await run('echo new; echo new-err >&2', {}, {}, holding({ 'out.log': 'old\n', 'err.log': 'e\n' }));
      await job.ended();
      expect(file(job, 'out.log')).toBe('new\n');
      expect(file(job, 'err.log')).toBe('new-err\n');
      expect(job.outputBase).toEqual({ stdout: 0, stderr: 0 });
    });

    it("append adds to them: its output starts at each file's size", async () => {
      const job = await run(
        'echo new; echo new-err >&2',
        {},
        { openMode: 'append' },
        holding({ 'out.log': 'old\n', 'err.log': 'older-err\n' }),
      );
      await job.ended();
      expect(file(job, 'out.log')).toBe('old\nnew\n');
      expect(file(job, 'err.log')).toBe('older-err\nnew-err\n');
      expect(job.outputBase).toEqual({ stdout: 4, stderr: 10 });
    });

    it('one path for both: one descriptor, the streams interleaved as written, one file id', async () => {
      // fd 2's offset moved with fd 1's write: they are one open file, not two opened apart.
      const job = await run(
        'for i in 1 2; do echo out $i; echo err $i >&2; done; sed -n "s/^pos:\\s*//p" /proc/$$/fdinfo/2',
        {},
        (root) => ({ stderrPath: join(root, 'out.log') }),
      );
      await job.ended();
      expect(file(job, 'out.log')).toBe('out 1\nerr 1\nout 2\nerr 2\n24\n');
      expect(job.outputIds!.stderr).toBe(job.outputIds!.stdout);
    });

    it('stderr through a link to the stdout file: opened once too, so never emptied after a write', async () => {
      const job = await run(
        'echo out; echo err >&2; sed -n "s/^pos:\\s*//p" /proc/$$/fdinfo/2',
        {},
        (root) => ({ stderrPath: join(root, 'link.log') }),
        (root) => {
          writeFileSync(join(root, 'out.log'), 'old\n');
          symlinkSync(join(root, 'out.log'), join(root, 'link.log'));
        },
      );
      await job.ended();
      expect(file(job, 'out.log')).toBe('out\nerr\n8\n');
      expect(job.outputIds!.stderr).toBe(job.outputIds!.stdout);
    });
  });

  it('reads the two words of an older pid file', () => {
    expect(parseJobStart('12 34\n')).toEqual({ pid: 12, startTime: 34 });
  });

  it('joins the cgroups it is given (their procs files) before anything else', async () => {
    const procs = join(mkdtempSync(join(tmpdir(), 'conductor-procs-')), 'cgroup.procs');
    dirs.push(join(procs, '..'));
    writeFileSync(procs, '');
    const job = await run('true', {}, { cgroupProcs: [procs] });
    await job.ended();
    expect(readFileSync(procs, 'utf8')).toBe(`${job.pid}\n`);
  });

  it('refuses, before running anything, an owner the node does not know or a file it cannot open', async () => {
    // As root the owner is looked up; as another user, anyone but itself is refused.
    await expect(run('echo ran > ran', {}, { user: 'cndt-no-such-user' })).rejects.toThrow(LaunchRefused);
    await expect(run('true', {}, { stdoutPath: '/proc/no/such/file' })).rejects.toThrow(
      /cannot open output \/proc\/no/,
    );
  });

  it("tells a refusal for the job's reasons (its files, its interpreter) from the node's (its cgroups, a fork)", async () => {
    const refusal = await run('true', {}, { stdoutPath: '/proc/no/such/file' }).catch((error: unknown) => error);
    expect(refusal).toMatchObject({ byNode: false });
    expect(new LaunchRefused('cannot join its cgroup /sys/fs/cgroup/x/cgroup.procs: No such file')).toMatchObject({
      byNode: true,
    });
    expect(new LaunchRefused('fork: Resource temporarily unavailable')).toMatchObject({ byNode: true });
    expect(new LaunchRefused('cannot execute interpreter /no/such: No such file or directory')).toMatchObject({
      byNode: false,
    });
  });
});
