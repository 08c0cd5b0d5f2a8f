/**
 * What the kernel says about the machine's cgroups, parsed: the cgroup mounts (from /proc/self/mountinfo), the
 * controllers the kernel has (from /proc/cgroups) and the cgroup the daemon is in (from /proc/self/cgroup). Pure
 * parsers of the text, so that every layout (v1, v2, a mix, none) can be tested from fixtures.
 *
 * Formats: proc(5) (`/proc/pid/mountinfo`, `/proc/cgroups`, `/proc/pid/cgroup`) and cgroups(7).
 */

/** One mounted cgroup hierarchy. */
export interface CgroupMount {
  version: 1 | 2;
  /** Where it is mounted, e.g. /sys/fs/cgroup/memory. */
  mountPoint: string;
  /** The cgroup of the hierarchy this mount shows at its mount point (`/` unless a container shows its own). */
  root: string;
  /** v1: the controllers bound to the hierarchy (`memory`, `cpuset`…); v2: none here (cgroup.controllers says). */
  controllers: string[];
  /** Mounted read-write. */
  readWrite: boolean;
  /**
   * Mounted with `favordynmods` (Linux 6.0+, cgroups(7)): moving a process into a cgroup no longer waits for an RCU
   * grace period, at a small cost to every fork and exit.
   */
  favorDynmods: boolean;
}

// mountinfo escapes space, tab, newline and backslash in paths as octal (\040…): proc(5).
const unescape = (path: string) =>
  path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));

/**
 * The cgroup mounts in a /proc/<pid>/mountinfo text. A line is: id, parent id, major:minor, root, mount point, mount
 * options, optional fields, `-`, filesystem type, source, super options (proc(5)). A hierarchy mounted twice is
 * listed once, at its first mount.
 */
export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  const seen = new Set<string>();
  for (const line of mountinfo.split('\n')) {
    const fields = line.trim().split(' ');
    const dash = fields.indexOf('-');
    if (dash < 6) continue;
    const [type, , superOptions = ''] = fields.slice(dash + 1);
    if (type !== 'cgroup' && type !== 'cgroup2') continue;
    const device = fields[2]!;
    if (seen.has(device)) continue;
    seen.add(device);
    const mountOptions = fields[5]!.split(',');
    mounts.push({
      version: type === 'cgroup2' ? 2 : 1,
      mountPoint: unescape(fields[4]!),
      root: unescape(fields[3]!),
      // v1 super options name its controllers among flags (rw, name=systemd, clone_children…): only known names count.
      controllers: type === 'cgroup' ? superOptions.split(',').filter((option) => V1_CONTROLLERS.has(option)) : [],
      readWrite: mountOptions.includes('rw'),
      favorDynmods: superOptions.split(',').includes('favordynmods'),
    });
  }
  return mounts;
}

const V1_CONTROLLERS = new Set([
  'cpuset',
  'cpu',
  'cpuacct',
  'blkio',
  'memory',
  'devices',
  'freezer',
  'net_cls',
  'perf_event',
  'net_prio',
  'hugetlb',
  'pids',
  'rdma',
  'misc',
]);

/**
 * The controllers the kernel has enabled, from /proc/cgroups (`subsys_name hierarchy num_cgroups enabled`). A
 * controller with hierarchy 0 is on no v1 hierarchy (it is free for v2, or unused).
 */
export function parseProcCgroups(text: string): Map<string, { hierarchy: number; enabled: boolean }> {
  const controllers = new Map<string, { hierarchy: number; enabled: boolean }>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const [name, hierarchy, , enabled] = line.trim().split(/\s+/);
    if (!name || enabled === undefined) continue;
    controllers.set(name, { hierarchy: Number(hierarchy), enabled: enabled === '1' });
  }
  return controllers;
}

/** The cgroups a process is in (/proc/<pid>/cgroup): per v1 controller, and its v2 cgroup (line `0::path`). */
export interface ProcessCgroups {
  v1: Map<string, string>;
  v2?: string;
}

export function parseProcessCgroups(text: string): ProcessCgroups {
  const cgroups: ProcessCgroups = { v1: new Map() };
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const [id, list, path] = [line.slice(0, first), line.slice(first + 1, second), line.slice(second + 1)];
    if (id === '0' && list === '') cgroups.v2 = path;
    else for (const controller of list.split(',')) if (controller) cgroups.v1.set(controller, path);
  }
  return cgroups;
}

/**
 * The directory of a cgroup under a mount: the mount shows its `root` cgroup at its mount point, so the cgroup
 * `/a/b` of a mount rooted at `/a` is `<mount point>/b`. Undefined when the cgroup is outside what the mount shows.
 */
export function cgroupDirectory(mount: CgroupMount, cgroup: string): string | undefined {
  const root = mount.root === '/' ? '' : mount.root;
  if (cgroup !== root && !cgroup.startsWith(`${root}/`) && root !== '') return undefined;
  const rest = cgroup.slice(root.length).replace(/\/$/, '');
  return `${mount.mountPoint}${rest}`;
}
