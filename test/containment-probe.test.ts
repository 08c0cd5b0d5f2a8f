/** The containment probe, from fixtures of /proc/self/mountinfo, /proc/cgroups and /proc/self/cgroup (proc(5)). */
import { describe, expect, it } from 'vitest';
import {
  cgroupDirectory,
  parseCgroupMounts,
  parseProcCgroups,
  parseProcessCgroups,
} from '../worker-node/containment/cgroup-mounts.js';
import { CONTAINMENT_OFF, chooseLevels } from '../worker-node/containment/containment-levels.js';
import { cgroupBases, prepareNodeCgroups, slowJoinHint } from '../worker-node/containment/node-cgroups.js';

// This machine: every v1 hierarchy, and an empty cgroup2 mount beside them (a mix).
const MIXED_MOUNTINFO = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`;
const MIXED_SELF = `9:name=systemd:/
8:pids:/
6:freezer:/
4:memory:/process_api/2eb2
3:cpuset:/
0::/`;

// A systemd machine of today: one cgroup2 mount, the service in its own cgroup.
const V2_MOUNTINFO = `22 1 0:21 / /sys rw,nosuid shared:7 - sysfs sysfs rw
27 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot`;
const V2_SELF = '0::/system.slice/conductor-node.service\n';

// A container: its cgroup2 mount shows only its own subtree, read-only.
const CONTAINER_MOUNTINFO = `612 600 0:30 /docker/abc /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup ro`;

describe('parsing what the kernel says about cgroups', () => {
  it('lists v1 hierarchies with their controllers and the v2 mount, flags and names aside', () => {
    const mounts = parseCgroupMounts(MIXED_MOUNTINFO);
    expect(mounts.map((mount) => [mount.version, mount.mountPoint, mount.controllers])).toEqual([
      [1, '/sys/fs/cgroup/cpu', ['cpu']],
      [1, '/sys/fs/cgroup/cpuset', ['cpuset']],
      [1, '/sys/fs/cgroup/memory', ['memory']],
      [1, '/sys/fs/cgroup/freezer', ['freezer']],
      [1, '/sys/fs/cgroup/pids', ['pids']],
      [1, '/sys/fs/cgroup/systemd', []],
      [2, '/sys/fs/cgroup/unified', []],
    ]);
    expect(mounts.every((mount) => mount.readWrite && mount.root === '/')).toBe(true);
  });

  it('reads co-mounted controllers, escaped paths, a container root and a read-only mount', () => {
    const [comounted] = parseCgroupMounts('50 31 0:40 / /sys/fs/cgroup/cpu\\040acct rw - cgroup cgroup rw,cpu,cpuacct');
    expect(comounted).toMatchObject({ mountPoint: '/sys/fs/cgroup/cpu acct', controllers: ['cpu', 'cpuacct'] });
    const [container] = parseCgroupMounts(CONTAINER_MOUNTINFO);
    expect(container).toMatchObject({ version: 2, root: '/docker/abc', readWrite: false });
    expect(cgroupDirectory(container!, '/docker/abc/job')).toBe('/sys/fs/cgroup/job');
    expect(cgroupDirectory(container!, '/elsewhere')).toBeUndefined();
  });

  it('says how to spare each job start an RCU grace period: only where cgroup2 is mounted without favordynmods', () => {
    const mixed = parseCgroupMounts(MIXED_MOUNTINFO);
    expect(mixed.some((mount) => mount.favorDynmods)).toBe(false);
    expect(slowJoinHint(mixed)).toContain('mount -o remount,favordynmods /sys/fs/cgroup/unified');
    const favored = parseCgroupMounts(
      V2_MOUNTINFO.replace('memory_recursiveprot', 'favordynmods,memory_recursiveprot'),
    );
    expect(favored.find((mount) => mount.version === 2)).toMatchObject({ favorDynmods: true });
    expect(slowJoinHint(favored)).toBeUndefined();
    // v1 alone: no cgroup2 mount to take the option.
    expect(slowJoinHint(mixed.filter((mount) => mount.version === 1))).toBeUndefined();
  });

  it('reads /proc/cgroups and a process cgroup list', () => {
    const controllers = parseProcCgroups(
      '#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t3\t1\t1\nhugetlb\t0\t1\t0\n',
    );
    expect(controllers.get('cpuset')).toEqual({ hierarchy: 3, enabled: true });
    expect(controllers.get('hugetlb')).toEqual({ hierarchy: 0, enabled: false });
    const self = parseProcessCgroups(MIXED_SELF);
    expect(self.v2).toBe('/');
    expect(self.v1.get('memory')).toBe('/process_api/2eb2');
    expect(self.v1.get('name=systemd')).toBe('/');
  });
});

describe('where the node cgroups may go', () => {
  it('the hierarchy root first, then the daemon’s own cgroup', () => {
    const bases = cgroupBases(parseCgroupMounts(MIXED_MOUNTINFO), parseProcessCgroups(MIXED_SELF));
    expect(bases).toEqual({
      cpuset: ['/sys/fs/cgroup/cpuset'],
      memory: ['/sys/fs/cgroup/memory', '/sys/fs/cgroup/memory/process_api/2eb2'],
      freezer: ['/sys/fs/cgroup/freezer'],
      pids: ['/sys/fs/cgroup/pids'],
      unified: ['/sys/fs/cgroup/unified'],
    });
    expect(cgroupBases(parseCgroupMounts(V2_MOUNTINFO), parseProcessCgroups(V2_SELF))).toEqual({
      unified: ['/sys/fs/cgroup', '/sys/fs/cgroup/system.slice/conductor-node.service'],
    });
  });

  it('nowhere on a read-only mount, or with no cgroup mounted', () => {
    expect(cgroupBases(parseCgroupMounts(CONTAINER_MOUNTINFO), parseProcessCgroups('0::/\n'))).toEqual({});
    expect(cgroupBases([], parseProcessCgroups(''))).toEqual({});
  });

  it('a node with nothing to use falls back on every concern', () => {
    const facts = { mountinfo: CONTAINER_MOUNTINFO, selfCgroup: '0::/\n' };
    expect(prepareNodeCgroups('n1', true, facts).levels).toEqual({
      memory: 'polled',
      cpus: 'affinity',
      kill: 'marker-sweep',
      pids: 'none',
    });
    expect(prepareNodeCgroups('n1', false, facts).levels).toEqual(CONTAINMENT_OFF);
  });
});

describe('the level of each concern', () => {
  const none = new Set<string>();
  it('v2 before v1 before the fallback, per concern', () => {
    expect(
      chooseLevels({ v2Controllers: new Set(['memory', 'cpuset', 'pids']), v2Kill: true, v1Controllers: none }),
    ).toEqual({
      memory: 'cgroup2',
      cpus: 'cgroup2',
      kill: 'cgroup2',
      pids: 'cgroup2',
    });
    // This machine: v1 controllers, and cgroup.kill from an empty cgroup2 mount.
    const mixed = {
      v2Controllers: none,
      v2Kill: true,
      v1Controllers: new Set(['memory', 'cpuset', 'freezer', 'pids']),
    };
    expect(chooseLevels(mixed)).toEqual({ memory: 'cgroup1', cpus: 'cgroup1', kill: 'cgroup2', pids: 'cgroup1' });
    expect(chooseLevels({ ...mixed, v2Kill: false })).toMatchObject({ kill: 'cgroup1-freezer' });
    expect(chooseLevels({ v2Controllers: none, v2Kill: false, v1Controllers: new Set(['memory']) })).toEqual({
      memory: 'cgroup1',
      cpus: 'affinity',
      kill: 'marker-sweep',
      pids: 'none',
    });
  });
});
