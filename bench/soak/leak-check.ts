/**
 * "No process left behind": every process the soak starts (servers, daemons, and through the jobs' environment every
 * job and what it starts) carries the run's marker variable, so one look through /proc finds whatever outlived the
 * soak, whoever its parent is now. And no run's cgroup is left under a daemon's node cgroups.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { prepareNodeCgroups, removeNodeCgroups } from '../../worker-node/containment/node-cgroups.js';
import { RunContainment } from '../../worker-node/containment/run-containment.js';
import { cgroupNodeName } from '../../worker-node/node-daemon.js';

export const MARKER = 'SOAK_RUN';

/** Processes (but this one) whose environment holds `SOAK_RUN=<run>`: pid and command line. */
export function markedProcesses(run: string): string[] {
  const needle = `\0${MARKER}=${run}\0`;
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (!`\0${readFileSync(`/proc/${pid}/environ`, 'latin1')}`.includes(needle)) continue;
      found.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ').trim()}`);
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}

/** The daemons' node cgroups (only a root daemon makes them; none otherwise). */
function nodeCgroups(nodes: { node: string; dir: string }[]) {
  return process.getuid?.() === 0
    ? nodes.map(({ node, dir }) => prepareNodeCgroups(cgroupNodeName(node, dir), true))
    : [];
}

/** Runs' cgroups left under the daemons' node cgroups, by name. */
export function leftRunCgroups(nodes: { node: string; dir: string }[]): string[] {
  return nodeCgroups(nodes).flatMap((cgroups) => RunContainment.all(cgroups).map((run) => run.marker));
}

/** Kills what is left in the runs' cgroups and removes them, then the node cgroups. */
export async function removeCgroups(nodes: { node: string; dir: string }[]): Promise<void> {
  for (const cgroups of nodeCgroups(nodes)) {
    for (const run of RunContainment.all(cgroups)) {
      await run.killAll();
      await run.remove();
    }
    removeNodeCgroups(cgroups);
  }
}
