/**
 * The node's own cgroups, one per hierarchy the daemon can use, made at its start: `conductor/<node>` at the root of
 * the hierarchy when the daemon may write there (root, as slurmd makes `slurm/`), else under the daemon's own cgroup
 * (a delegated subtree). Each run's cgroup goes under it (run-containment.ts), named by the run, so a restarted daemon
 * finds it again by name. The levels the node reports are what could actually be set up here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cgroupDirectory,
  parseCgroupMounts,
  parseProcessCgroups,
  type CgroupMount,
  type ProcessCgroups,
} from './cgroup-mounts.js';
import { makeCgroup, readCgroupFile, removeCgroup, writeCgroupFile } from './cgroup-files.js';
import { CONTAINMENT_OFF, chooseLevels, type ContainmentLevels } from './containment-levels.js';

/** The hierarchies a run may be put in: the v2 one, and the v1 ones by their controller. */
export type Hierarchy = 'unified' | 'memory' | 'cpuset' | 'freezer' | 'pids' | 'cpuacct';
/** cpuacct only counts (a run's CPU time, for accounting): it limits nothing, and sets no containment level. */
export const V1_USED = ['memory', 'cpuset', 'freezer', 'pids', 'cpuacct'] as const;
const V2_USED = ['memory', 'cpuset', 'pids'] as const;

export interface NodeCgroups {
  node: string;
  levels: ContainmentLevels;
  /** The node's cgroup directory in each hierarchy it could make one in. */
  dirs: Partial<Record<Hierarchy, string>>;
  /** v1 memory accounts swap (memory.memsw.*): the limit covers memory and swap together. */
  memsw: boolean;
  /** v2 memory.swap.max is there (swap accounting on). */
  swapMax: boolean;
  /** Why each job's start waits to join its cgroups, and the cure, for the start-up log; undefined when it does not. */
  slowJoin?: string;
}

/** What the kernel said, as text: /proc/self/mountinfo and /proc/self/cgroup. */
export interface ProcFacts {
  mountinfo: string;
  selfCgroup: string;
}

export function readProcFacts(): ProcFacts {
  return {
    mountinfo: readFileSync('/proc/self/mountinfo', 'utf8'),
    selfCgroup: readFileSync('/proc/self/cgroup', 'utf8'),
  };
}

/**
 * Where the node's cgroup may go in each hierarchy, best first: the hierarchy's root (the mount point), then the
 * daemon's own cgroup. A pure function of the parsed facts; a read-only mount offers none.
 */
export function cgroupBases(mounts: CgroupMount[], self: ProcessCgroups): Partial<Record<Hierarchy, string[]>> {
  const bases: Partial<Record<Hierarchy, string[]>> = {};
  const candidates = (mount: CgroupMount, own: string | undefined) => {
    const mine = own === undefined ? undefined : cgroupDirectory(mount, own);
    return [...new Set([mount.mountPoint, ...(mine ? [mine] : [])])];
  };
  for (const mount of mounts) {
    if (!mount.readWrite) continue;
    if (mount.version === 2) bases.unified ??= candidates(mount, self.v2);
    for (const controller of V1_USED) {
      if (mount.version === 1 && mount.controllers.includes(controller)) {
        bases[controller] ??= candidates(mount, self.v1.get(controller));
      }
    }
  }
  return bases;
}

/**
 * Makes the node's cgroups and says what containment they give. `enabled` false (CONDUCTOR_CONTAINMENT=off) makes
 * none: the node contains its jobs as it did before cgroups (process group, affinity, polled memory).
 */
export function prepareNodeCgroups(node: string, enabled: boolean, facts: ProcFacts = readProcFacts()): NodeCgroups {
  const none: NodeCgroups = { node, levels: CONTAINMENT_OFF, dirs: {}, memsw: false, swapMax: false };
  if (!enabled) return none;
  const mounts = parseCgroupMounts(facts.mountinfo);
  const bases = cgroupBases(mounts, parseProcessCgroups(facts.selfCgroup));
  const dirs: NodeCgroups['dirs'] = {};
  for (const hierarchy of Object.keys(bases) as Hierarchy[]) {
    for (const base of bases[hierarchy]!) {
      const dir = makeNodeCgroup(hierarchy, base, node);
      if (dir) {
        dirs[hierarchy] = dir;
        break;
      }
    }
  }
  const v2Controllers = new Set(
    dirs.unified ? (readCgroupFile(dirs.unified, 'cgroup.subtree_control') ?? '').split(' ').filter(Boolean) : [],
  );
  const levels = chooseLevels({
    v2Controllers,
    v2Kill: dirs.unified !== undefined && existsSync(join(dirs.unified, 'cgroup.kill')),
    v1Controllers: new Set(V1_USED.filter((controller) => dirs[controller])),
  });
  const slowJoin = Object.keys(dirs).length ? slowJoinHint(mounts) : undefined;
  return {
    node,
    levels,
    dirs,
    memsw: dirs.memory !== undefined && existsSync(join(dirs.memory, 'memory.memsw.limit_in_bytes')),
    swapMax: dirs.unified !== undefined && existsSync(join(dirs.unified, 'memory.swap.max')),
    ...(slowJoin ? { slowJoin } : {}),
  };
}

/**
 * A job's process joins its cgroups before it runs anything of its own. Unless cgroup2 is mounted with
 * `favordynmods`, the kernel makes the first such move after a quiet spell wait for an RCU grace period (the
 * cgroup_threadgroup_rwsem's writer side, for v1 and v2 hierarchies alike): 6 to 8 ms measured on an idle node, most
 * of the start latency that containment adds. Only root can remount; the daemon says how instead of doing it.
 */
export function slowJoinHint(mounts: CgroupMount[]): string | undefined {
  const v2 = mounts.find((mount) => mount.version === 2);
  if (!v2 || v2.favorDynmods) return undefined;
  return (
    `each job start waits for an RCU grace period (several ms) to join its cgroups; cgroup2 mounted with ` +
    `favordynmods avoids it (Linux 6.0+): mount -o remount,favordynmods ${v2.mountPoint}`
  );
}

/**
 * `<base>/conductor/<node>`, made if it can be (undefined if not: not root, no delegation). In v2 the controllers the
 * base offers are enabled down to it, each on its own (one the kernel refuses leaves the others); in v1 cpuset a new
 * cgroup starts with no CPUs and no memory nodes and takes no task until given its parent's.
 */
function makeNodeCgroup(hierarchy: Hierarchy, base: string, node: string): string | undefined {
  const path = [base, join(base, 'conductor'), join(base, 'conductor', node)];
  try {
    for (const dir of path.slice(1)) {
      makeCgroup(dir);
      if (hierarchy === 'cpuset') inheritCpuset(dir);
    }
  } catch {
    return undefined;
  }
  if (hierarchy === 'unified') {
    const offered = (readCgroupFile(base, 'cgroup.controllers') ?? '').split(' ');
    for (const controller of V2_USED.filter((name) => offered.includes(name))) {
      for (const dir of path) {
        try {
          writeCgroupFile(dir, 'cgroup.subtree_control', `+${controller}`);
        } catch {
          break; // refused here (a cgroup with processes of its own cannot hand controllers down): not below either
        }
      }
    }
  }
  return path[2];
}

/** Gives a v1 cpuset cgroup its parent's CPUs and memory nodes, if it has none yet. */
export function inheritCpuset(dir: string): void {
  const parent = join(dir, '..');
  for (const file of ['cpuset.cpus', 'cpuset.mems']) {
    if (!readCgroupFile(dir, file)) writeCgroupFile(dir, file, readCgroupFile(parent, file) ?? '');
  }
}

/** Removes the node's own cgroups (once no run's is left under them), and `conductor/` if no other node uses it. */
export function removeNodeCgroups(node: NodeCgroups): void {
  for (const dir of Object.values(node.dirs)) {
    removeCgroup(dir);
    // Another daemon's node cgroup keeps `conductor/` busy: that is its to remove.
    removeCgroup(join(dir, '..'));
  }
}
