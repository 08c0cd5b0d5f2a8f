/**
 * How well a run used what its job asked for, as Slurm's seff computes it (contribs/seff/seff):
 * CPU efficiency = CPU time used (user + system) / (wall time × allocated CPUs), and
 * memory efficiency = max RSS / memory requested (per node; a job here runs on one node). Both in percent, to two
 * decimals as seff prints them; above 100 is possible (memory: page cache counted by a v1 cgroup; CPU: a clock tick's
 * rounding), and is shown as measured.
 */

export interface RunEfficiency {
  /** Null when the run took no wall time (nothing to divide by). */
  cpu_percent: number | null;
  /** Null when its max RSS is unknown. */
  memory_percent: number | null;
}

export function runEfficiency(
  usage: { cpuUserMs: number; cpuSystemMs: number; wallMs: number; maxRssBytes: number | null },
  job: { cpus: number; memoryMb: number },
): RunEfficiency {
  const percent = (part: number, whole: number) => (whole > 0 ? Math.round((10_000 * part) / whole) / 100 : null);
  return {
    cpu_percent: percent(usage.cpuUserMs + usage.cpuSystemMs, usage.wallMs * job.cpus),
    memory_percent: usage.maxRssBytes === null ? null : percent(usage.maxRssBytes, job.memoryMb * 2 ** 20),
  };
}
