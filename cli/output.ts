/**
 * How results are shown: tables in Slurm's style for people (cli-table3, no borders, as squeue and sinfo print),
 * JSON for scripts (`--json`: the API's objects as they came), states in colour on a terminal (picocolors, which
 * honours NO_COLOR and FORCE_COLOR).
 */
import Table from 'cli-table3';
import pc from 'picocolors';

const PLAIN = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
};

/** A table with a header row and left-aligned columns, as squeue prints. */
export function table(head: string[], rows: (string | number)[][]): string {
  const out = new Table({
    head,
    chars: PLAIN,
    // cli-table3's own colours do not look at the terminal: bold only when picocolors would colour.
    style: { head: pc.isColorSupported ? ['bold'] : [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  out.push(...rows.map((row) => row.map(String)));
  return out.toString();
}

const STATE_COLOURS: Record<string, (text: string) => string> = {
  PENDING: pc.yellow,
  RUNNING: pc.cyan,
  COMPLETED: pc.green,
  FAILED: pc.red,
  TIMEOUT: pc.red,
  OUT_OF_MEMORY: pc.red,
  NODE_FAIL: pc.red,
  CANCELLED: pc.magenta,
  UP: pc.green,
  DRAINING: pc.yellow,
  DOWN: pc.red,
};

/** A state word in its colour (the colour only: the text is the same with colours off). */
export function coloured(state: string, text = state): string {
  return (STATE_COLOURS[state] ?? ((plain: string) => plain))(text);
}

/** squeue's compact state codes. */
export const STATE_CODES: Record<string, string> = {
  PENDING: 'PD',
  RUNNING: 'R',
  COMPLETED: 'CD',
  FAILED: 'F',
  CANCELLED: 'CA',
  TIMEOUT: 'TO',
  OUT_OF_MEMORY: 'OOM',
  NODE_FAIL: 'NF',
};

/** squeue's TIME: `M:SS`, `H:MM:SS`, `D-HH:MM:SS`. */
export function elapsed(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const days = Math.floor(s / 86_400);
  const hours = Math.floor((s % 86_400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (days > 0) return `${days}-${pad(hours)}:${pad(minutes)}:${pad(s % 60)}`;
  if (hours > 0) return `${hours}:${pad(minutes)}:${pad(s % 60)}`;
  return `${minutes}:${pad(s % 60)}`;
}

/** Seconds a job has run: from its start to its end, or to now while it runs; 0 before it started. */
export function runSeconds(job: { start_time: string | null; end_time: string | null }, now = Date.now()): number {
  if (!job.start_time) return 0;
  const end = job.end_time ? Date.parse(job.end_time) : now;
  return (end - Date.parse(job.start_time)) / 1000;
}
