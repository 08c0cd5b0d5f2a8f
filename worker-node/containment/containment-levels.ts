/**
 * How well a node contains its jobs, per concern: the best mechanism the machine offers for each, chosen from what
 * the daemon could set up (node-cgroups.ts). A pure function of those facts, and the value the node reports in its
 * heartbeat (`GET /v1/nodes` shows it). The README's containment section says what each level limits and what can
 * still escape at the lowest.
 *
 * - memory: `cgroup2` (memory.max, memory.swap.max 0), `cgroup1` (memory.limit_in_bytes, + memsw where the kernel
 *   accounts swap), `polled` (the resident memory of the job's process group, measured every poll).
 * - cpus: `cgroup2` / `cgroup1` (cpuset.cpus = the allocated cores; the job cannot widen it), `affinity` (taskset: the
 *   job can widen it with taskset itself).
 * - kill: `cgroup2` (cgroup.kill), `cgroup1-freezer` (freeze, SIGKILL every task, thaw: cgroups(7), Slurm's
 *   proctrack/cgroup), `marker-sweep` (the process group, plus every process whose environment carries the run's
 *   marker), `process-group` (containment off: the process group only).
 * - pids: `cgroup2` / `cgroup1` (pids.max), `none`.
 */
import type { ContainmentLevels } from '../../shared/protocol/containment.js';

export type { ContainmentLevels };

/** What the daemon could set up on this machine: the controllers it holds a writable node cgroup for. */
export interface CgroupCapabilities {
  /** v2 controllers enabled down to the node's cgroup (`memory`, `cpuset`, `pids`). */
  v2Controllers: ReadonlySet<string>;
  /** The v2 node cgroup's children have cgroup.kill (Linux 5.14 and later). */
  v2Kill: boolean;
  /** v1 hierarchies (`memory`, `cpuset`, `freezer`, `pids`) with a writable node cgroup. */
  v1Controllers: ReadonlySet<string>;
}

/** Containment off (CONDUCTOR_CONTAINMENT=off): the daemon as it was before cgroups, for comparison. */
export const CONTAINMENT_OFF: ContainmentLevels = {
  memory: 'polled',
  cpus: 'affinity',
  kill: 'process-group',
  pids: 'none',
};

/** The best level per concern: v2 before v1 (one hierarchy, cgroup.kill), v1 before the fallbacks. */
export function chooseLevels(found: CgroupCapabilities): ContainmentLevels {
  const pick = <Level>(controller: string, fallback: Level): 'cgroup2' | 'cgroup1' | Level =>
    found.v2Controllers.has(controller) ? 'cgroup2' : found.v1Controllers.has(controller) ? 'cgroup1' : fallback;
  return {
    memory: pick('memory', 'polled'),
    cpus: pick('cpuset', 'affinity'),
    kill: found.v2Kill ? 'cgroup2' : found.v1Controllers.has('freezer') ? 'cgroup1-freezer' : 'marker-sweep',
    pids: pick('pids', 'none'),
  };
}

/** One line for the daemon's start-up, e.g. `memory cgroup1, cpus cgroup1, kill cgroup2, pids cgroup1`. */
export function describeLevels(levels: ContainmentLevels): string {
  return `memory ${levels.memory}, cpus ${levels.cpus}, kill ${levels.kill}, pids ${levels.pids}`;
}
