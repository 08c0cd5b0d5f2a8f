/**
 * `srun` inside a job (issue 14, item 7): the node's srun (worker-node/srun.pl) is on every job's PATH, runs its
 * command once per task with SLURM_PROCID/SLURM_LOCALID, within the job's CPUs and its cgroups, returns the first
 * non-zero status, and refuses what one node cannot honour. Real daemon, real processes, through the API.
 */
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processStartTime } from '../worker-node/process-table.js';
import {
  apiWithNode,
  startTestApi,
  testNodes,
  waitFor,
  waitForState,
  type TestApi,
  type TestNodes,
} from './helpers/test-node.js';
import { chownTo, unixUsers } from './helpers/unix-users.js';

const users = unixUsers('srun');

describe('srun inside a job', () => {
  let api: TestApi;
  let nodes: TestNodes;
  let work: string;

  beforeAll(async () => {
    api = await startTestApi();
    nodes = testNodes(api);
    work = nodes.dir();
    // 4 CPUs on the machine's 2 cores: room for a job of 3 tasks.
    await nodes.start('srun1', { CONDUCTOR_NODE_CPUS: '2', CONDUCTOR_NODE_OVERSUBSCRIBE: '2' });
  });
  afterAll(async () => {
    await nodes?.cleanup();
    await api?.close();
  });

  const submit = (script: string, job: Record<string, unknown> = {}) =>
    api.t.submit(
      { name: 'steps', current_working_directory: work, standard_output: '%j.out', standard_error: '%j.err', ...job },
      `#!/bin/bash\n${script}\n`,
    );
  const ran = async (id: string) => {
    const job = await waitForState(api.t, id, ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT']);
    const out = readFileSync(join(work, `${id}.out`), 'utf8');
    const err = readFileSync(join(work, `${id}.err`), 'utf8');
    expect(job.state, err).toBe('COMPLETED');
    return { out, err, lines: out.split('\n').filter(Boolean) };
  };

  it("runs the README's `srun ./relax` once per task of the job (-n defaults to its ntasks)", async () => {
    const relax = join(work, 'relax');
    writeFileSync(relax, '#!/bin/bash\necho "relax $SLURM_PROCID $SLURM_LOCALID $SLURM_NODEID of $SLURM_NTASKS"\n');
    chmodSync(relax, 0o755);
    const id = await submit('srun ./relax', { ntasks_per_node: 2 });
    expect((await ran(id)).lines.sort()).toEqual(['relax 0 0 0 of 2', 'relax 1 1 0 of 2']);
  });

  it("`srun -n 3 bash -c 'echo $SLURM_PROCID'` prints 0, 1 and 2; -l labels each line with its task", async () => {
    const id = await submit(
      ["srun -n 3 bash -c 'echo $SLURM_PROCID'", "srun -l -n 2 bash -c 'echo hello; echo oops >&2'"].join('\n'),
      { ntasks_per_node: 3 },
    );
    const { lines, err } = await ran(id);
    expect(lines.slice(0, 3).sort()).toEqual(['0', '1', '2']);
    expect(lines.slice(3).sort()).toEqual(['0: hello', '1: hello']);
    expect(err.split('\n').filter(Boolean).sort()).toEqual(['0: oops', '1: oops']);
  });

  it('returns the first non-zero status of a task to end (128 + signal for one killed), and says which task', async () => {
    const id = await submit(
      [
        // Task 0 fails first; task 1 fails with another status only once srun has collected task 0.
        "srun -n 2 bash -c 'if [ $SLURM_PROCID = 0 ]; then echo $$ > first-$SLURM_JOB_ID; exit 4; fi; " +
          'until [ -s first-$SLURM_JOB_ID ]; do sleep 0.02; done; ' +
          "while [ -e /proc/$(cat first-$SLURM_JOB_ID) ]; do sleep 0.02; done; exit 7'",
        'echo "first=$?"',
        "srun -n 1 bash -c 'kill -KILL $$'",
        'echo "killed=$?"',
        'srun -n 2 true',
        'echo "fine=$?"',
      ].join('\n'),
      { ntasks_per_node: 2 },
    );
    const { lines, err } = await ran(id);
    expect(lines).toEqual(['first=4', 'killed=137', 'fine=0']);
    expect(err).toMatch(/^srun: error: srun1: task 0: Exited with exit code 4$/m);
    expect(err).toMatch(/^srun: error: srun1: task 1: Exited with exit code 7$/m);
    expect(err).toMatch(/^srun: error: srun1: task 0: Killed by signal 9$/m);
  });

  it('refuses, with its message and status 1, what one node or the allocation cannot honour; -c within it runs', async () => {
    const id = await submit(
      [
        'srun --gres=gpu:1 true; echo "gres=$?"',
        'srun -N 2 true; echo "nodes=$?"',
        'srun -n 5 true; echo "ntasks=$?"',
        'srun --nodelist=elsewhere true; echo "nodelist=$?"',
        'srun --mpi=pmix true; echo "mpi=$?"',
        'srun --no-such-option true; echo "unknown=$?"',
        'srun -N 1 -n 2 -c 2 true; echo "fits=$?"',
      ].join('\n'),
      { ntasks_per_node: 2, cpus_per_task: 2 },
    );
    const { lines, err } = await ran(id);
    expect(lines).toEqual(['gres=1', 'nodes=1', 'ntasks=1', 'nodelist=1', 'mpi=1', 'unknown=1', 'fits=0']);
    expect(err).toMatch(/^srun: error: --gres cannot be honoured: there are no generic resources/m);
    expect(err).toMatch(/^srun: error: -N 2 cannot be honoured: this job has one node$/m);
    expect(err).toMatch(/^srun: error: Unable to create step for job \d+: More processors requested than permitted/m);
    expect(err).toMatch(/^srun: error: --nodelist cannot be honoured: it names nodes/m);
    expect(err).toMatch(/^srun: error: --mpi=pmix cannot be honoured/m);
    expect(err).toMatch(/^srun: error: --no-such-option is not an option srun supports here/m);
  });

  it('-l returns once its tasks end, though a process a task left behind still holds its output (srun(1) does)', async () => {
    const id = await submit(
      [
        // Each task leaves a sleep behind that keeps the task's end of srun's label pipe open.
        "srun -l -n 2 bash -c 'sleep 1000 & echo $! > left-$SLURM_PROCID-$SLURM_JOB_ID; echo done'",
        'echo "srun=$?"',
        'kill $(cat left-*-$SLURM_JOB_ID)',
      ].join('\n'),
      // Without the fix srun waits for the sleeps: the job ends at this limit, TIMEOUT, not COMPLETED.
      { ntasks_per_node: 2, time_limit: '0:30' },
    );
    const { lines } = await ran(id);
    expect(lines.slice(0, 2).sort()).toEqual(['0: done', '1: done']);
    expect(lines.slice(2)).toEqual(['srun=0']);
  });

  it('passes on to its tasks a signal sent to it from inside the job (a trap passing one on)', async () => {
    const id = await submit(
      [
        `srun -n 2 bash -c 'trap "echo task-$SLURM_PROCID-USR2; exit 0" USR2; echo ready >> ready-$SLURM_JOB_ID; ` +
          "while :; do sleep 100 & wait $!; done' &",
        'until [ "$(wc -l < ready-$SLURM_JOB_ID 2>/dev/null)" = 2 ]; do sleep 0.02; done',
        'kill -USR2 $!',
        'wait $!',
        'echo "srun=$?"',
      ].join('\n'),
      { ntasks_per_node: 2 },
    );
    const { lines } = await ran(id);
    expect(lines.slice(0, 2).sort()).toEqual(['task-0-USR2', 'task-1-USR2']);
    expect(lines.slice(2)).toEqual(['srun=0']);
  });

  it('is found first on the PATH of a job whose environment sets PATH=/opt/conda/bin', async () => {
    const id = await submit('echo "$PATH"\nsrun -n 1 /bin/echo via-srun', { environment: { PATH: '/opt/conda/bin' } });
    const { lines } = await ran(id);
    expect(lines).toEqual([`${join(nodes.nodeDir('srun1'), 'bin')}:/opt/conda/bin`, 'via-srun']);
  });

  it("runs its tasks in the job's process group and cgroups: a cancel ends them", async () => {
    const id = await submit(
      "echo $$ > shell-$SLURM_JOB_ID\nsrun -n 2 bash -c 'echo $$ >> tasks-$SLURM_JOB_ID; exec sleep 600'",
      { ntasks_per_node: 2 },
    );
    const pidsIn = (file: string, count: number) =>
      waitFor(`job ${id}'s ${file}`, () => {
        try {
          const pids = readFileSync(join(work, `${file}-${id}`), 'utf8')
            .trim()
            .split('\n')
            .map(Number);
          return pids.length === count ? pids : undefined;
        } catch {
          return undefined;
        }
      });
    const tasks = await pidsIn('tasks', 2);
    const [shell] = await pidsIn('shell', 1);
    const cgroupOf = (pid: number) => readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    const groupOf = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[2];
    for (const task of tasks) {
      expect(cgroupOf(task)).toBe(cgroupOf(shell!));
      expect(groupOf(task)).toBe(String(shell));
    }
    const started = tasks.map((pid) => processStartTime(pid));
    expect(started.every((time) => time !== undefined)).toBe(true);
    expect((await api.t.call('POST', `/v1/jobs/${id}/cancel`)).status).toBeLessThan(300);
    await waitForState(api.t, id, ['CANCELLED']);
    // Each task's process is gone (its pid, if in use again, names another process).
    expect(tasks.map((pid, n) => processStartTime(pid) === started[n])).toEqual([false, false]);
  });
});

describe.skipIf(!users)("srun in an owner's job on a root daemon", () => {
  const { a: alice } = users!;
  const c = apiWithNode('srun2', { CONDUCTOR_NODE_CPUS: '2', CONDUCTOR_ALLOW_ROOT_JOBS: 'false' }, () => {
    const work = join(alice.home, 'srun');
    mkdirSync(work, { recursive: true });
    chownTo(work, alice);
    return work;
  });

  it("runs it as the owner, who can run it but not change it (the daemon's, 0755, in a 0711 directory)", async () => {
    const id = await c.api.t.submit(
      { name: 'owned', user: alice.name, current_working_directory: c.work, ntasks_per_node: 2 },
      '#!/bin/bash\nsrun bash -c \'echo "$SLURM_PROCID $(id -u)"\'\nif echo 2>/dev/null >> "$(command -v srun)"; then echo changed; fi\n',
    );
    const job = await waitForState(c.api.t, id, ['COMPLETED', 'FAILED']);
    const out = readFileSync(join(c.work, `slurm-${id}.out`), 'utf8');
    expect(job, out).toMatchObject({ state: 'COMPLETED' });
    expect(out.split('\n').filter(Boolean).sort()).toEqual([`0 ${alice.uid}`, `1 ${alice.uid}`]);
    const bin = join(c.nodes.nodeDir('srun2'), 'bin');
    expect(statSync(bin).mode & 0o777).toBe(0o711);
    expect(statSync(join(bin, 'srun'))).toMatchObject({ uid: 0 });
    expect(statSync(join(bin, 'srun')).mode & 0o777).toBe(0o755);
  });
});
