/**
 * One run's containment: its cgroup in each hierarchy the node uses (`<node cgroup>/<job>.<attempt>`), its limits,
 * and its marker variable. Made before the launch: the job's process writes its own pid to `cgroupProcs` (as root,
 * before it drops privileges and execs), so everything it starts is inside before it can run a thing. `killAll`
 * leaves no process of the run alive; `oomKills` is the kernel's count of the run's processes it killed for memory.
 * A restarted daemon finds a run's cgroups again by its name (`RunContainment.find`).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupProcesses, flatKey, makeCgroup, readCgroupFile, removeCgroup, writeCgroupFile } from './cgroup-files.js';
import { CgroupSetupFailed, ContainmentKillFailed } from './containment-errors.js';
import { MARKER_VARIABLE, processesCarrying } from './marker-sweep.js';
import { inheritCpuset, type Hierarchy, type NodeCgroups } from './node-cgroups.js';
import { processGroup } from '../process-table.js';

/** A run's use as its cgroups counted it: CPU time (ms) and peak memory (bytes), each where a cgroup counts it. */
export interface CgroupUsage {
  cpu?: { userMs: number; systemMs: number };
  maxRssBytes?: number;
}

export interface RunLimits {
  memoryMb: number;
  /** Machine cores the run may use. */
  cpuIds: number[];
  /** Most processes and threads at once; undefined: counted, not limited. */
  pidsMax?: number;
}

// How long killAll waits for SIGKILLed processes to go (a process in uninterruptible I/O dies when that returns).
const KILL_WAIT_MS = 10_000;
// How long a v1 freezer may take to stop every task (FREEZING → FROZEN) before the kill goes on regardless.
const FREEZE_WAIT_MS = 1000;
// How long an emptied cgroup may stay busy (v1 memory uncharging) before remove() gives up.
const REMOVE_WAIT_MS = 2000;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class RunContainment {
  /** The run's cgroup directory in each hierarchy it uses. */
  readonly dirs: Partial<Record<Hierarchy, string>>;
  /** `<node>/<job>.<attempt>`: the marker variable's value. */
  readonly marker: string;

  private constructor(
    private readonly node: NodeCgroups,
    /** `<job>.<attempt>`: the run's cgroup name under the node's. */
    readonly name: string,
  ) {
    this.marker = `${node.node}/${name}`;
    const { levels } = node;
    const used = new Set<Hierarchy>();
    if ([levels.memory, levels.cpus, levels.kill, levels.pids].includes('cgroup2')) used.add('unified');
    if (levels.memory === 'cgroup1') used.add('memory');
    if (levels.cpus === 'cgroup1') used.add('cpuset');
    if (levels.kill === 'cgroup1-freezer') used.add('freezer');
    if (levels.pids === 'cgroup1') used.add('pids');
    // For its CPU time only, where no v2 cgroup of the run counts it (cpu.stat).
    if (!used.has('unified')) used.add('cpuacct');
    this.dirs = Object.fromEntries(
      [...used]
        .filter((hierarchy) => node.dirs[hierarchy])
        .map((hierarchy) => [hierarchy, join(node.dirs[hierarchy]!, name)]),
    );
  }

  /**
   * Makes the run's cgroups and writes its limits. `name` is `<job>.<attempt>`. Throws CgroupSetupFailed (and leaves
   * nothing behind) when a cgroup cannot be made or a limit is refused.
   */
  static create(node: NodeCgroups, name: string, limits: RunLimits): RunContainment {
    const run = new RunContainment(node, name);
    let current = '';
    try {
      for (const [hierarchy, dir] of Object.entries(run.dirs) as [Hierarchy, string][]) {
        current = dir;
        makeCgroup(dir);
        run.#limit(hierarchy, dir, limits);
      }
    } catch (error) {
      for (const dir of Object.values(run.dirs)) removeCgroup(dir);
      throw new CgroupSetupFailed(current, error as Error);
    }
    return run;
  }

  /** The run's cgroups as a restarted daemon finds them, by name; nothing is made. */
  static find(node: NodeCgroups, name: string): RunContainment {
    return new RunContainment(node, name);
  }

  /** Every run's cgroups under the node's, by name (what a node left behind, for a test's or an admin's cleanup). */
  static all(node: NodeCgroups): RunContainment[] {
    const names = new Set<string>();
    for (const dir of Object.values(node.dirs)) {
      for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) names.add(entry.name);
    }
    return [...names].map((name) => new RunContainment(node, name));
  }

  /** The files the job's process writes its own pid to before it execs: it and all it starts are then inside. */
  get cgroupProcs(): string[] {
    return Object.values(this.dirs).map((dir) => join(dir, 'cgroup.procs'));
  }

  /** The marker variable, for the job's environment: how the fallback sweep finds its processes (none when off). */
  get env(): Record<string, string> {
    return this.node.levels.kill === 'process-group' ? {} : { [MARKER_VARIABLE]: this.marker };
  }

  /**
   * Sends `signal` to every process of the run outside its process group `group` (SIGTERM before a kill's grace
   * period: a setsid child gets it too). The group's own are left to the caller's signal to the group: each process
   * gets it once, so a TERM trap runs once.
   */
  signal(signal: NodeJS.Signals, group: number): void {
    for (const pid of this.members()) if (processGroup(pid) !== group) send(pid, signal);
  }

  /** The run's live processes: in any of its cgroups, and (where no cgroup kills) carrying its marker. */
  members(): number[] {
    const pids = new Set(Object.values(this.dirs).flatMap((dir) => cgroupProcesses(dir)));
    if (this.node.levels.kill === 'marker-sweep') for (const pid of processesCarrying(this.marker)) pids.add(pid);
    pids.delete(process.pid);
    return [...pids];
  }

  /**
   * SIGKILLs every process of the run, by the node's kill level, and answers once none is left. A fork racing the
   * kill is caught by the next round. Throws ContainmentKillFailed if some outlive `KILL_WAIT_MS`. At
   * `process-group` (containment off) it knows no processes: the caller ends the group.
   */
  async killAll(): Promise<void> {
    const deadline = Date.now() + KILL_WAIT_MS;
    for (;;) {
      const left = this.members();
      if (left.length === 0) return;
      if (Date.now() > deadline) throw new ContainmentKillFailed(this.marker, left, KILL_WAIT_MS);
      await this.#killRound(left);
      await pause(5);
    }
  }

  /**
   * How many of the run's processes the kernel killed for memory; undefined where memory is only polled, or where
   * the run has no memory cgroup (one launched by a daemon from before containment, or with it off).
   */
  oomKills(): number | undefined {
    const { memory } = this.node.levels;
    if (memory === 'cgroup2' && this.dirs.unified) {
      const events = readCgroupFile(this.dirs.unified, 'memory.events');
      return events === undefined ? undefined : (flatKey(events, 'oom_kill') ?? 0);
    }
    if (memory === 'cgroup1' && this.dirs.memory) {
      // oom_kill is in memory.oom_control from Linux 4.13; before, failcnt (times the limit was hit) is all there is.
      const control = readCgroupFile(this.dirs.memory, 'memory.oom_control');
      if (control === undefined) return undefined;
      return flatKey(control, 'oom_kill') ?? Number(readCgroupFile(this.dirs.memory, 'memory.failcnt') ?? 0);
    }
    return undefined;
  }

  /**
   * What the run's processes used, as its cgroups counted it (read once they have all ended: a cgroup keeps its
   * counts until it is removed, also for a daemon restarted meanwhile). CPU: v2 cpu.stat's user_usec and system_usec
   * (there in every v2 cgroup, the cpu controller enabled or not: cgroup-v2.rst), else a v1 cpuacct hierarchy's
   * cpuacct.usage split as cpuacct.usage_user and cpuacct.usage_sys (ns; Linux 4.7+). Memory: v2 memory.peak (Linux 5.19+, with the memory
   * controller), else v1 memory.max_usage_in_bytes (its charge at its highest: anonymous memory and page cache, as
   * the limit counts it). Each is undefined where no cgroup of the run has it.
   */
  usage(): CgroupUsage {
    const usage: CgroupUsage = {};
    const { unified, memory, cpuacct } = this.dirs;
    const cpuStat = unified && readCgroupFile(unified, 'cpu.stat');
    const user = flatKey(cpuStat, 'user_usec');
    const system = flatKey(cpuStat, 'system_usec');
    if (user !== undefined && system !== undefined) usage.cpu = { userMs: user / 1000, systemMs: system / 1000 };
    else if (cpuacct) {
      const [totalNs, userNs, systemNs] = ['cpuacct.usage', 'cpuacct.usage_user', 'cpuacct.usage_sys'].map((file) =>
        Number(readCgroupFile(cpuacct, file) ?? NaN),
      );
      // usage_user and usage_sys are sampled at each tick (10% over on a 0.5 s job, measured here); cpuacct.usage is
      // exact. Its total is split in their proportion, as v2's cpu.stat does for its own (cputime_adjust).
      const sampled = userNs! + systemNs!;
      if (sampled >= 0 && totalNs! >= 0) {
        const userShare = sampled > 0 ? userNs! / sampled : 1;
        usage.cpu = { userMs: (totalNs! * userShare) / 1e6, systemMs: (totalNs! * (1 - userShare)) / 1e6 };
      }
    }
    const peak =
      (unified && readCgroupFile(unified, 'memory.peak')) ||
      (memory && readCgroupFile(memory, 'memory.max_usage_in_bytes'));
    if (peak) usage.maxRssBytes = Number(peak);
    return usage;
  }

  /** Removes the run's cgroups (kill its processes first). Throws if one is still busy after `REMOVE_WAIT_MS`. */
  async remove(): Promise<void> {
    const deadline = Date.now() + REMOVE_WAIT_MS;
    let busy = Object.values(this.dirs);
    while ((busy = busy.filter((dir) => !removeCgroup(dir))).length) {
      if (Date.now() > deadline) throw new Error(`run ${this.marker}: cgroup ${busy.join(', ')} stays busy`);
      await pause(10);
    }
  }

  #limit(hierarchy: Hierarchy, dir: string, limits: RunLimits): void {
    const { levels, memsw, swapMax } = this.node;
    const bytes = String(limits.memoryMb * 2 ** 20);
    // Oversubscribed, two CPUs of a run may be on one core: the core is named once.
    const cpus = [...new Set(limits.cpuIds)].join(',');
    const pids = limits.pidsMax === undefined ? 'max' : String(limits.pidsMax);
    if (hierarchy === 'unified') {
      // cgroup-v2.rst: memory.max is the hard limit (over it, reclaim, then the OOM killer); swap 0 so it is memory.
      if (levels.memory === 'cgroup2') writeCgroupFile(dir, 'memory.max', bytes);
      if (levels.memory === 'cgroup2' && swapMax) writeCgroupFile(dir, 'memory.swap.max', '0');
      if (levels.cpus === 'cgroup2' && cpus) writeCgroupFile(dir, 'cpuset.cpus', cpus);
      if (levels.pids === 'cgroup2') writeCgroupFile(dir, 'pids.max', pids);
    } else if (hierarchy === 'memory') {
      // memsw (memory + swap) may not be below the memory limit: the memory limit goes first.
      writeCgroupFile(dir, 'memory.limit_in_bytes', bytes);
      if (memsw) writeCgroupFile(dir, 'memory.memsw.limit_in_bytes', bytes);
    } else if (hierarchy === 'cpuset') {
      inheritCpuset(dir);
      if (cpus) writeCgroupFile(dir, 'cpuset.cpus', cpus);
    } else if (hierarchy === 'pids') {
      writeCgroupFile(dir, 'pids.max', pids);
    }
  }

  async #killRound(members: number[]): Promise<void> {
    const { kill } = this.node.levels;
    if (kill === 'cgroup2' && this.dirs.unified) writeCgroupFile(this.dirs.unified, 'cgroup.kill', '1');
    if (kill === 'cgroup1-freezer' && this.dirs.freezer) {
      // Frozen, no task can fork or move while its siblings are killed; thawed, the killed ones go (cgroups(7)).
      const freezer = this.dirs.freezer;
      writeCgroupFile(freezer, 'freezer.state', 'FROZEN');
      const frozenBy = Date.now() + FREEZE_WAIT_MS;
      while (readCgroupFile(freezer, 'freezer.state') !== 'FROZEN' && Date.now() < frozenBy) await pause(1);
      for (const pid of cgroupProcesses(freezer)) sigkill(pid);
      writeCgroupFile(freezer, 'freezer.state', 'THAWED');
    }
    // Whatever the level, every member found is killed: a process in a run cgroup the kill level does not cover.
    for (const pid of members) sigkill(pid);
  }
}

function sigkill(pid: number): void {
  send(pid, 'SIGKILL');
}

function send(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
