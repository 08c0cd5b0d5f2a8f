/**
 * A job's script is a program (issue 14): the kernel runs the interpreter its `#!` line names, with its options, on
 * /dev/fd/3 (the descriptor the root wrapper opened); one without `#!` runs under /bin/bash; no interpreter, and not
 * taskset's, comes from the job's PATH. A job that cannot start for a reason of its own (its working directory, an
 * output file, its interpreter) ends FAILED naming the path and the OS error, `launch_failed: job` in its events,
 * exit code 0:0. Real daemon, real processes; the owner's case with a real Unix user (skipped when not root).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiWithNode,
  startTestApi,
  testNodes,
  waitForState,
  type TestApi,
  type TestNodes,
} from './helpers/test-node.js';
import { chownTo, unixUsers } from './helpers/unix-users.js';

const users = unixUsers('script-programs');

describe('a job script is run as a program', () => {
  let api: TestApi;
  let nodes: TestNodes;
  let work: string;

  beforeAll(async () => {
    api = await startTestApi();
    nodes = testNodes(api);
    work = nodes.dir();
    // Started with two more descriptors open (pipes to this test), as a daemon whose parent left some: no job gets them.
    await nodes.start('sp1', { CONDUCTOR_NODE_CPUS: '2' }, { extraPipes: 2 });
  });
  afterAll(async () => {
    await nodes?.cleanup();
    await api?.close();
  });

  const submit = (script: string, job: Record<string, unknown> = {}) =>
    api.t.submit({ name: 'prog', current_working_directory: work, ...job }, script);
  const output = (id: string) => readFileSync(join(work, `slurm-${id}.out`), 'utf8');
  const endReason = async (id: string) => {
    const { events } = await (await api.t.call('GET', `/v1/jobs/${id}/events`)).json();
    return (events as { to_state: string; reason: string | null }[]).at(-1)!;
  };

  it('`#!/bin/bash -e`: the first failing command ends it, FAILED with its status, nothing after it run', async () => {
    const id = await submit('#!/bin/bash -e\nfalse\necho should-not-print\n');
    const job = await waitForState(api.t, id, ['COMPLETED', 'FAILED']);
    expect(job).toMatchObject({ state: 'FAILED', exit_code: { status: 1, signal: null } });
    expect(output(id)).toBe('');
  });

  it('`#!/usr/bin/env python3` and `#!/usr/bin/perl -w` run under their interpreters', async () => {
    const python = await submit('#!/usr/bin/env python3\nimport sys\nprint("python", sys.version_info[0])\n');
    const perl = await submit('#!/usr/bin/perl -w\nmy $x = 1 + undef;\nprint "perl $^W\\n";\n', {
      standard_error: 'slurm-%j.err',
    });
    expect(await waitForState(api.t, python, ['COMPLETED', 'FAILED'])).toMatchObject({ state: 'COMPLETED' });
    expect(await waitForState(api.t, perl, ['COMPLETED', 'FAILED'])).toMatchObject({ state: 'COMPLETED' });
    expect(output(python)).toBe('python 3\n');
    // -w was honoured: the warning for the undefined value went to stderr.
    expect(output(perl)).toBe('perl 1\n');
    expect(readFileSync(join(work, `slurm-${perl}.err`), 'utf8')).toMatch(/uninitialized value/);
  });

  it("starts with no signal ignored, as slurmstepd starts it: SIGPIPE ends `yes | head -1`'s yes (141)", async () => {
    const id = await submit(
      '#!/bin/bash\ngrep SigIgn /proc/self/status\nyes | head -1 > /dev/null\necho "yes=${PIPESTATUS[0]}"\n',
    );
    expect(await waitForState(api.t, id, ['COMPLETED', 'FAILED'])).toMatchObject({ state: 'COMPLETED' });
    expect(output(id)).toBe('SigIgn:\t0000000000000000\nyes=141\n');
  });

  it('gets no descriptor of its daemon but its script (fd 3), as slurmstepd closes the rest', async () => {
    // Listed into a file: a command substitution would itself hold a pipe open in the shell.
    const id = await submit(
      '#!/bin/bash\nls -l /proc/$$/fd > fds-$SLURM_JOB_ID\necho "pipes=$(grep -c pipe: fds-$SLURM_JOB_ID)"\n',
    );
    expect(await waitForState(api.t, id, ['COMPLETED', 'FAILED'])).toMatchObject({ state: 'COMPLETED' });
    expect(output(id)).toBe('pipes=0\n');
  });

  it('a script without `#!` runs under /bin/bash, by that path: its PATH has no bash', async () => {
    const id = await submit('echo "bash $BASH_VERSION"\n', { environment: { PATH: '/opt/conda/bin' } });
    expect(await waitForState(api.t, id, ['COMPLETED', 'FAILED'])).toMatchObject({ state: 'COMPLETED' });
    expect(output(id)).toMatch(/^bash \d/);
  });

  it('starts a job whose PATH has no bash (PATH=/opt/conda/bin): no interpreter comes from the PATH', async () => {
    const id = await submit('#!/bin/bash\necho "path $PATH"\n', { environment: { PATH: '/opt/conda/bin' } });
    const job = await waitForState(api.t, id, ['COMPLETED', 'FAILED']);
    expect(job, JSON.stringify(job)).toMatchObject({ state: 'COMPLETED' });
    // The node's own programs (its srun) first, then the job's PATH: nothing there is an interpreter.
    expect(output(id)).toBe(`path ${join(nodes.nodeDir('sp1'), 'bin')}:/opt/conda/bin\n`);
  });

  const launchFailure = async (id: string, message: RegExp) => {
    const job = await waitForState(api.t, id, ['COMPLETED', 'FAILED']);
    expect(job.state).toBe('FAILED');
    expect(job.error_msg).toMatch(message);
    expect(job.exit_code).toEqual({ status: 0, signal: null });
    const last = await endReason(id);
    expect(last.to_state).toBe('FAILED');
    expect(last.reason).toMatch(/^launch_failed: job: /);
  };

  it('an output file in /proc: FAILED, naming the path and the OS error, exit code 0:0, launch_failed: job', async () => {
    const id = await submit('#!/bin/bash\necho x\n', { standard_output: '/proc/slurm-%j.out' });
    await launchFailure(id, new RegExp(`cannot open output /proc/slurm-${id}\\.out: (Permission denied|No such file)`));
  });

  it('an output path that is a directory: FAILED, naming it, Is a directory', async () => {
    const dir = join(work, 'a-directory');
    mkdirSync(dir, { recursive: true });
    const id = await submit('#!/bin/bash\necho x\n', { standard_output: dir });
    await launchFailure(id, new RegExp(`cannot open output ${dir}: Is a directory`));
  });

  it('a working directory that cannot be entered or made: FAILED, naming it and the OS error', async () => {
    writeFileSync(join(work, 'a-file'), '');
    const cwd = join(work, 'a-file', 'below');
    const id = await submit('#!/bin/bash\necho x\n', { current_working_directory: cwd });
    await launchFailure(id, new RegExp(`cannot enter ${cwd}: Not a directory`));
  });

  it('`#!/no/such/interpreter`: FAILED, naming the interpreter, never an errno as its exit status', async () => {
    const id = await submit('#!/no/such/interpreter\necho x\n');
    await launchFailure(id, /cannot execute interpreter \/no\/such\/interpreter: No such file or directory/);
  });
});

describe.skipIf(!users)('a script run as a program by its owner', () => {
  const { a: alice } = users!;
  const c = apiWithNode('sp2', { CONDUCTOR_NODE_CPUS: '2', CONDUCTOR_ALLOW_ROOT_JOBS: 'false' }, () => {
    const work = join(alice.home, 'programs');
    mkdirSync(work, { recursive: true });
    chownTo(work, alice);
    return work;
  });

  it('runs `#!/usr/bin/env python3` as the owner, through /dev/fd/3', async () => {
    const id = await c.api.t.submit(
      { name: 'owned', user: alice.name, current_working_directory: c.work },
      '#!/usr/bin/env python3\nimport os, sys\nprint(os.getuid(), sys.argv[0])\n',
    );
    const job = await waitForState(c.api.t, id, ['COMPLETED', 'FAILED']);
    const out = readFileSync(join(c.work, `slurm-${id}.out`), 'utf8');
    expect(job, out).toMatchObject({ state: 'COMPLETED' });
    expect(out).toBe(`${alice.uid} /dev/fd/3\n`);
  });

  it("names a missing interpreter for the owner's job too", async () => {
    const id = await c.api.t.submit(
      { name: 'owned', user: alice.name, current_working_directory: c.work },
      '#!/no/such/interpreter\necho x\n',
    );
    const job = await waitForState(c.api.t, id, ['COMPLETED', 'FAILED']);
    expect(job).toMatchObject({ state: 'FAILED', exit_code: { status: 0, signal: null } });
    expect(job.error_msg).toMatch(/cannot execute interpreter \/no\/such\/interpreter: No such file or directory/);
  });
});
