/**
 * The fallback kill where no cgroup holds a run's processes: every process whose environment carries the run's
 * marker variable (CONDUCTOR_RUN=<node>/<job>.<attempt>), which each of the job's processes inherits, even one that
 * left the job's process group with setsid. /proc/<pid>/environ shows the environment a process was started with
 * (proc(5)); a process that exec'd itself with a cleared environment (`env -i`) no longer carries it and escapes:
 * the README says so.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { processStartTime } from '../process-table.js';

/** The marker variable's name; its value names the run. */
export const MARKER_VARIABLE = 'CONDUCTOR_RUN';

/** The live processes whose starting environment holds exactly `CONDUCTOR_RUN=<marker>` (not this one). */
export function processesCarrying(marker: string): number[] {
  const entry = Buffer.from(`\0${MARKER_VARIABLE}=${marker}\0`);
  const carriers: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    let environ: Buffer;
    try {
      environ = readFileSync(`/proc/${name}/environ`);
    } catch {
      continue; // gone meanwhile, or a kernel thread
    }
    // Framed by NULs on both sides (one added in front for the first variable): a longer marker does not match.
    if (
      Buffer.concat([Buffer.from([0]), environ, Buffer.from([0])]).includes(entry) &&
      processStartTime(pid) !== undefined
    ) {
      carriers.push(pid);
    }
  }
  return carriers;
}
