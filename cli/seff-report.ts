/**
 * A job's efficiency as Slurm's seff prints it (contribs/seff/seff): its lines and their formats. Times as seff's
 * time2str ([D-]HH:MM:SS), memory as its kbytes2str (two decimals, 1024-based units, "200.00 MB"). The figures are
 * the API's (GET /v1/jobs/{id}: usage and efficiency, computed there as seff does).
 */
import type { components } from '../sdk/index.js';
import { parseMemorySize } from '../shared/job/memory-size.js';
import { formatElapsed } from '../shared/job/time-limit.js';

type JobDetail = components['schemas']['JobDetail'];
type JobUsage = NonNullable<components['schemas']['JobUsage']>;

const UNITS = ['KB', 'MB', 'GB', 'TB', 'PB'];

/** Bytes as seff's kbytes2str: "200.00 MB". */
export function seffMemory(bytes: number): string {
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(2)} ${UNITS[unit]}`;
}

/** A run's CPU time (user + system), whole seconds as seff counts it. */
export function cpuSeconds(usage: Pick<JobUsage, 'cpu_user_ms' | 'cpu_system_ms'>): number {
  return Math.round((usage.cpu_user_ms + usage.cpu_system_ms) / 1000);
}

/** seff's report of `job`, one line each, newline-ended; for a job none of whose runs has ended yet, it says so. */
export function seffReport(job: JobDetail): string {
  const exit = job.exit_code ? ` (exit code ${job.exit_code.status ?? 0})` : '';
  const head = [`Job ID: ${job.display_id}`, `State: ${job.state}${exit}`, `Cores: ${job.cpus}`];
  const { usage, efficiency } = job;
  if (!usage || !efficiency)
    return [...head, 'Efficiency not available: no run of this job has ended yet', ''].join('\n');
  const coreWall = Math.round((usage.wall_ms * job.cpus) / 1000);
  const requested = seffMemory(parseMemorySize(job.memory_per_node) * 2 ** 20);
  const percent = (value: number | null) => (value === null ? 'n/a' : `${value.toFixed(2)}%`);
  return [
    ...head,
    `CPU Utilized: ${formatElapsed(cpuSeconds(usage))}`,
    `CPU Efficiency: ${percent(efficiency.cpu_percent)} of ${formatElapsed(coreWall)} core-walltime`,
    `Job Wall-clock time: ${formatElapsed(Math.round(usage.wall_ms / 1000))}`,
    `Memory Utilized: ${usage.max_rss_bytes === null ? 'n/a' : seffMemory(usage.max_rss_bytes)}`,
    `Memory Efficiency: ${percent(efficiency.memory_percent)} of ${requested}`,
    '',
  ].join('\n');
}
