/**
 * Jobs as sacct would list them, as CSV (RFC 4180: a header row, CRLF line ends, fields with a comma, quote or line
 * break quoted, quotes doubled), for GET /v1/jobs/history.csv. A cell that a spreadsheet would read as a formula
 * (starting with = + - @, a tab or a carriage return) is prefixed with a single quote, as OWASP's "CSV Injection"
 * advises: job names are chosen by whoever submits.
 */
import type { JobSummaryRow } from './job-summary.js';
import { formatMemorySize } from '../../shared/job/memory-size.js';
import { formatElapsed } from '../../shared/job/time-limit.js';

/** sacct's names for the columns. */
export const HISTORY_COLUMNS = [
  'JobID',
  'JobName',
  'User',
  'Account',
  'Partition',
  'State',
  'Submit',
  'Start',
  'End',
  'Elapsed',
  'Wait',
  'ExitCode',
  'NCPUS',
  'ReqMem',
  'NodeList',
] as const;

/** The CSV header line, CRLF-ended. */
export function historyHeader(): string {
  return csvLine(HISTORY_COLUMNS);
}

/**
 * One job's CSV line, CRLF-ended. Times are UTC ISO 8601 to the second; Elapsed and Wait are [D-]HH:MM:SS, Elapsed
 * running to `now` while the job runs and 00:00:00 before it starts (as sacct), Wait empty before it starts; ExitCode
 * is sacct's status:signal (0:0 until it ended); NodeList "None assigned" until it has a node (as sacct).
 */
export function historyLine(job: JobSummaryRow, now: Date): string {
  const seconds = (from: Date, to: Date) => Math.max(0, Math.floor((to.getTime() - from.getTime()) / 1000));
  const time = (at: Date | null) => (at === null ? '' : at.toISOString().replace(/\.\d{3}Z$/, 'Z'));
  return csvLine([
    String(job.id),
    job.name,
    job.user ?? '',
    job.account,
    job.partition,
    job.state,
    time(job.submitTime),
    time(job.startTime),
    time(job.endTime),
    formatElapsed(job.startTime === null ? 0 : seconds(job.startTime, job.endTime ?? now)),
    job.startTime === null ? '' : formatElapsed(seconds(job.submitTime, job.startTime)),
    `${job.exitStatus ?? 0}:${job.exitSignal ?? 0}`,
    String(job.cpus),
    formatMemorySize(job.memoryMb),
    job.nodeName ?? 'None assigned',
  ]);
}

function csvLine(cells: readonly string[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** A cell as RFC 4180 writes it, defused first if a spreadsheet would take it for a formula. */
export function csvCell(value: string): string {
  const defused = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(defused) ? `"${defused.replaceAll('"', '""')}"` : defused;
}
