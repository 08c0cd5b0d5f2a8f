/**
 * A run's containment on this machine's real cgroups, as root: limits written, every process killed whatever it did
 * (setsid, fork), the kernel's OOM count, CPUs that cannot be widened. Skipped with a printed reason when not root or
 * when the machine has no cgroup to use; each test removes its cgroups. The v2 limit files are tested where the
 * node's cgroup2 hierarchy has the controllers, and skipped with the reason where not (this machine: v1 controllers,
 * cgroup2 for cgroup.kill only).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ContainmentLevels } from '../worker-node/containment/containment-levels.js';
import { prepareNodeCgroups, removeNodeCgroups, type NodeCgroups } from '../worker-node/containment/node-cgroups.js';
import { RunContainment, type RunLimits } from '../worker-node/containment/run-containment.js';
import { processStartTime } from '../worker-node/process-table.js';

const root = process.getuid?.() === 0;
const node = root ? prepareNodeCgroups(`containment-test-${process.pid}`, true) : undefined;
const hasCgroups = node !== undefined && Object.keys(node.dirs).length > 0;
if (!root && process.env.CONDUCTOR_REQUIRE_SERVICES === '1') {
  throw new Error('run-containment: not root (cgroups need root to be made; CI runs as root)');
}
if (!root) console.log('run-containment: skipped, not root (cgroups need root to be made)');
else if (!hasCgroups) console.log('run-containment: skipped, this machine has no writable cgroup hierarchy');

describe.runIf(hasCgroups)('a run contained in its cgroups', () => {
  const cgroups = node!;
  const runs: RunContainment[] = [];
  const children: ChildProcess[] = [];
  let serial = 0;

  beforeAll(() => console.log(`run-containment: node levels ${JSON.stringify(cgroups.levels)}`));
  afterEach(async () => {
    for (const run of runs.splice(0)) {
      await run.killAll();
      await run.remove();
    }
    for (const child of children.splice(0)) child.kill('SIGKILL');
  });
  afterAll(() => removeNodeCgroups(cgroups));

  /** The node's cgroups with some concerns' levels changed: each kill path that this machine has is tried. */
  const at = (levels: Partial<ContainmentLevels>): NodeCgroups => ({
    ...cgroups,
    levels: { ...cgroups.levels, ...levels },
  });

  function contain(limits: RunLimits = { memoryMb: 64, cpuIds: [0] }, node = cgroups) {
    const run = RunContainment.create(node, `${++serial}.1`, limits);
    runs.push(run);
    return run;
  }

  /**
   * Starts bash inside the run, as the launcher's child does: it writes its own pid to each cgroup.procs, then runs
   * the script with the run's marker in its environment. Answers with the first line the script prints.
   */
  async function startInside(run: RunContainment, script: string): Promise<{ child: ChildProcess; line: string }> {
    const enter = run.cgroupProcs.map((file) => `echo $$ > ${file}`).join('; ');
    const child = spawn('bash', ['-c', `${enter}; ${script}`], {
      detached: true,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { PATH: process.env.PATH!, ...run.env },
    });
    children.push(child);
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`the contained script exited (${code}) before saying anything`)));
    });
    return { child, line };
  }

  /**
   * A job that left a `setsid` child behind, out of its process group: both pids, said once the child leads its own
   * session (field 6 of its stat).
   */
  const LEAVE_A_SETSID_CHILD = [
    'setsid sleep 1000 & child=$!',
    'until [ "$(cut -d" " -f6 /proc/$child/stat)" = "$child" ]; do sleep 0.01; done',
    'echo $$ $child',
    'exec sleep 1000',
  ].join('\n');

  it('writes the v1 limits: memory (and memory+swap), CPUs, processes', (context) => {
    if (cgroups.levels.memory !== 'cgroup1' && cgroups.levels.cpus !== 'cgroup1') {
      console.log('run-containment: v1 limits skipped: no v1 memory or cpuset hierarchy here');
      return context.skip('no v1 memory or cpuset hierarchy here');
    }
    const run = RunContainment.create(at({ pids: cgroups.dirs.pids ? 'cgroup1' : 'none' }), `${++serial}.1`, {
      memoryMb: 50,
      cpuIds: [1],
      pidsMax: 7,
    });
    runs.push(run);
    const read = (dir: string | undefined, file: string) => readFileSync(join(dir!, file), 'utf8').trim();
    if (run.dirs.memory) {
      expect(read(run.dirs.memory, 'memory.limit_in_bytes')).toBe(String(50 * 2 ** 20));
      if (cgroups.memsw) expect(read(run.dirs.memory, 'memory.memsw.limit_in_bytes')).toBe(String(50 * 2 ** 20));
    }
    if (run.dirs.cpuset) expect(read(run.dirs.cpuset, 'cpuset.cpus')).toBe('1');
    if (run.dirs.pids) expect(read(run.dirs.pids, 'pids.max')).toBe('7');
  });

  it('writes the v2 limits where the cgroup2 hierarchy has the controllers', (context) => {
    const v2 = (['memory', 'cpus', 'pids'] as const).filter((concern) => cgroups.levels[concern] === 'cgroup2');
    if (v2.length === 0) {
      const reason = 'the cgroup2 hierarchy here has no memory, cpuset or pids controller';
      console.log(`run-containment: v2 limits skipped: ${reason}`);
      return context.skip(reason);
    }
    const run = contain({ memoryMb: 50, cpuIds: [0] });
    const read = (file: string) => readFileSync(join(run.dirs.unified!, file), 'utf8').trim();
    if (v2.includes('memory')) expect(read('memory.max')).toBe(String(50 * 2 ** 20));
    if (v2.includes('memory') && cgroups.swapMax) expect(read('memory.swap.max')).toBe('0');
    if (v2.includes('cpus')) expect(read('cpuset.cpus')).toBe('0');
    if (v2.includes('pids')) expect(read('pids.max')).toBe('max');
  });

  const killLevels = (['cgroup2', 'cgroup1-freezer', 'marker-sweep'] as const).filter(
    (kill) =>
      kill === 'marker-sweep' || (kill === 'cgroup2' ? cgroups.levels.kill === 'cgroup2' : cgroups.dirs.freezer),
  );
  it.each(killLevels)('kills every process, a setsid child too, by %s', async (kill) => {
    const run = contain(undefined, at({ kill }));
    const { line } = await startInside(run, LEAVE_A_SETSID_CHILD);
    const [main, escaped] = line.split(' ').map(Number);
    expect(run.members()).toEqual(expect.arrayContaining([main, escaped]));
    await run.killAll();
    expect(run.members()).toEqual([]);
    expect(processStartTime(main!)).toBeUndefined();
    expect(processStartTime(escaped!)).toBeUndefined();
  });

  it('counts the kernel’s OOM kill of a child over the memory limit', async (context) => {
    if (cgroups.levels.memory === 'polled') return context.skip('no memory cgroup here');
    const run = contain({ memoryMb: 50, cpuIds: [0] });
    expect(run.oomKills()).toBe(0);
    const { child } = await startInside(
      run,
      `echo in; setsid perl -e '$x = "a" x (600 * 2**20); sleep 1' ; echo "perl ended $?"; sleep 1000`,
    );
    for (const deadline = Date.now() + 20_000; (run.oomKills() ?? 0) === 0;) {
      if (Date.now() > deadline) throw new Error('no OOM kill counted within 20 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(run.oomKills()).toBeGreaterThanOrEqual(1);
    expect(child.exitCode).toBeNull(); // the shell itself was under the limit: only the child was killed
  });

  it('keeps the job on its CPUs: taskset cannot widen them', async (context) => {
    if (cgroups.levels.cpus === 'affinity') return context.skip('no cpuset cgroup here');
    const run = contain({ memoryMb: 64, cpuIds: [0] });
    const { line } = await startInside(run, `taskset -pc 0-1 $$ >/dev/null 2>&1; echo "$? $(taskset -pc $$)"`);
    expect(line).toMatch(/ current affinity list: 0$/);
  });

  it('limits the number of processes', async (context) => {
    if (cgroups.levels.pids === 'none') return context.skip('no pids cgroup here');
    const run = contain({ memoryMb: 64, cpuIds: [0], pidsMax: 4 });
    // perl's fork answers undef at the limit (EAGAIN) where bash would retry: counts the children it could make.
    const forks =
      'my $n = 0; for (1 .. 6) { my $pid = fork(); last unless defined $pid; if (!$pid) { sleep 1000; exit } $n++ } print "$n\\n"';
    const { line } = await startInside(run, `exec perl -e '${forks}'`);
    expect(Number(line)).toBe(3); // itself and 3 children: 4
  });

  /**
   * The cgroups' CPU time and peak memory against what a process that burns 0.5 s of CPU and holds 100 MiB measured
   * of itself, within 10%: from v2 cpu.stat where the run has a v2 cgroup, and from a v1 cpuacct cgroup where not.
   */
  const accounting = [
    ...(cgroups.dirs.unified ? [['cgroup2 cpu.stat', cgroups] as const] : []),
    // Without a v2 cgroup of its own (no level is cgroup2), a run's CPU time is counted in cpuacct.
    ...(cgroups.dirs.cpuacct ? [['cgroup1 cpuacct', at({ kill: 'cgroup1-freezer' })] as const] : []),
  ];
  if (accounting.length < 2)
    console.log(
      `run-containment: CPU accounting from ${accounting.map(([name]) => name).join(', ') || 'no cgroup'} only here`,
    );
  it.each(accounting)('counts what its processes used (%s)', async (_name, node) => {
    const run = contain({ memoryMb: 256, cpuIds: [0] }, node);
    const burn =
      'my $held = ""; vec($held, 100 * 2**20 - 1, 8) = 1; my $cpu = 0; while ($cpu < 0.5) { my $x = 0; $x++ for 1 .. 100_000; my @t = times(); $cpu = $t[0] + $t[1]; }';
    // bash's `times`, second line: its children's user and system time as it waited for them (exit included).
    const { child, line } = await startInside(run, `perl -e '${burn}'; times > >(tail -1); wait`);
    if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
    const [user, system] = [...line.matchAll(/(\d+)m([\d.]+)s/g)].map(
      ([, m, sec]) => 60_000 * Number(m) + 1000 * Number(sec),
    );
    const usage = run.usage();
    const cpuMs = usage.cpu!.userMs + usage.cpu!.systemMs;
    console.log(`run-containment: cgroup CPU ${cpuMs} ms, the shell's children ${user! + system!} ms`);
    expect(cpuMs).toBeGreaterThanOrEqual(0.9 * (user! + system!));
    expect(cpuMs).toBeLessThanOrEqual(1.1 * (user! + system!));
    if (cgroups.levels.memory !== 'polled') {
      expect(usage.maxRssBytes).toBeGreaterThanOrEqual(100 * 2 ** 20);
      expect(usage.maxRssBytes).toBeLessThanOrEqual(1.1 * 100 * 2 ** 20 + 16 * 2 ** 20);
    }
  });

  it('is found again by name after a restart, and removed', async () => {
    const run = contain();
    const { line } = await startInside(run, 'echo $$; exec sleep 1000');
    const found = RunContainment.find(cgroups, `${serial}.1`);
    expect(found.dirs).toEqual(run.dirs);
    expect(found.members()).toEqual([Number(line)]);
    await found.killAll();
    await found.remove();
    for (const dir of Object.values(run.dirs)) expect(() => readFileSync(join(dir, 'cgroup.procs'))).toThrow(/ENOENT/);
  });
});
