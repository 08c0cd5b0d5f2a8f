/**
 * squeue's `-o/--format` (squeue(1), "-o <output_format>"): fields `%[.][size]type` among literal text; a size is the
 * field's least width, and a longer value is cut to it, as squeue cuts; `.` right-justifies; `%%` is a percent sign.
 * The types are squeue's letters for what a job here has; any other is refused, naming it.
 */
import type { components } from '../sdk/index.js';
import { UsageError } from './cli-error.js';
import { runSeconds, squeueTime, STATE_CODES } from '../shared/job/squeue-display.js';

type Job = components['schemas']['Job'];

/** squeue's own default format, which `conductor queue` prints as a table. */
export const SQUEUE_DEFAULT_FORMAT = '%.18i %.9P %.8j %.8u %.2t %.10M %.6D %R';

/** Each type letter: its column header as squeue prints it, and its value. */
const FIELDS: Record<string, { head: string; value(job: Job, now: number): string }> = {
  A: { head: 'JOBID', value: (job) => job.id },
  a: { head: 'ACCOUNT', value: (job) => job.account },
  C: { head: 'CPUS', value: (job) => String(job.cpus) },
  D: { head: 'NODES', value: () => '1' },
  e: { head: 'END_TIME', value: (job) => slurmTime(job.end_time) },
  // squeue's %i: an array task's <array id>_<index>, its collapsed PENDING tasks' <array id>_[indexes].
  i: { head: 'JOBID', value: (job) => job.display_id },
  F: { head: 'ARRAY_JOB_ID', value: (job) => job.array_job_id ?? job.id },
  K: { head: 'ARRAY_TASK_ID', value: (job) => (job.array_task_id === null ? 'N/A' : String(job.array_task_id)) },
  j: { head: 'NAME', value: (job) => job.name },
  l: { head: 'TIME_LIMIT', value: (job) => job.time_limit },
  M: { head: 'TIME', value: (job, now) => squeueTime(runSeconds(job, now)) },
  m: { head: 'MIN_MEMORY', value: (job) => job.memory_per_node },
  N: { head: 'NODELIST', value: (job) => job.node ?? '' },
  P: { head: 'PARTITION', value: (job) => job.partition },
  p: { head: 'PRIORITY', value: (job) => String(job.priority) },
  Q: { head: 'PRIORITY', value: (job) => String(job.priority) },
  R: {
    head: 'NODELIST(REASON)',
    value: (job) => (job.state === 'PENDING' ? `(${job.reason ?? 'None'})` : (job.node ?? '')),
  },
  r: { head: 'REASON', value: (job) => job.reason ?? 'None' },
  S: { head: 'START_TIME', value: (job) => slurmTime(job.start_time) },
  T: { head: 'STATE', value: (job) => job.state },
  t: { head: 'ST', value: (job) => STATE_CODES[job.state] ?? job.state },
  u: { head: 'USER', value: (job) => job.user ?? '-' },
  V: { head: 'SUBMIT_TIME', value: (job) => slurmTime(job.submit_time) },
  Z: { head: 'WORK_DIR', value: (job) => job.current_working_directory ?? '' },
};

type Piece = string | { type: string; width?: number; right: boolean };

/**
 * The format's pieces, in order.
 * @throws UsageError naming a field type squeue has and this does not, or a `%` with no type
 */
export function parseSqueueFormat(format: string): Piece[] {
  const pieces: Piece[] = [];
  const field = /%(\.?)(\d*)(.?)/g;
  let last = 0;
  for (let match = field.exec(format); match; match = field.exec(format)) {
    if (match.index > last) pieces.push(format.slice(last, match.index));
    last = field.lastIndex;
    const [, dot, size, type] = match;
    if (type === '%' && !dot && !size) pieces.push('%');
    else if (type && FIELDS[type]) pieces.push({ type, right: dot === '.', ...(size ? { width: Number(size) } : {}) });
    else {
      const known = Object.keys(FIELDS).sort().join(' %');
      throw new UsageError(`--format: ${type ? `%${type}` : 'a lone %'} is not a field here (known: %${known})`);
    }
  }
  if (last < format.length) pieces.push(format.slice(last));
  return pieces;
}

/** The header line and one line per job, as squeue prints them with `-o`. */
export function formatSqueue(pieces: Piece[], jobs: Job[], header: boolean, now = Date.now()): string[] {
  const line = (cell: (type: string) => string) =>
    pieces
      .map((piece) => {
        if (typeof piece === 'string') return piece;
        const text = cell(piece.type);
        if (piece.width === undefined) return text;
        const cut = text.slice(0, piece.width);
        return piece.right ? cut.padStart(piece.width) : cut.padEnd(piece.width);
      })
      .join('')
      .trimEnd();
  const lines = jobs.map((job) => line((type) => FIELDS[type]!.value(job, now)));
  return header ? [line((type) => FIELDS[type]!.head), ...lines] : lines;
}

/** A timestamp as Slurm prints one (`2026-11-30T14:00:00`, local time), or N/A. */
export function slurmTime(iso: string | null): string {
  if (!iso) return 'N/A';
  const at = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
}
