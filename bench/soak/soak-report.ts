/** The soak's closing tables (console.table) and its verdict: which of what it found fails the run. */
import { VIOLATIONS, type SoakCounts } from './soak-checks.js';
import type { FaultKind } from './soak-config.js';

export interface SoakReport {
  counts: SoakCounts;
  leaks: string[];
  unexpectedExits: string[];
  refusedSubmits: string[];
  faults: { reached: Record<FaultKind, number>; required: Record<FaultKind, number> };
  redisLosses: { pendingAtLoss: number; seconds?: number }[];
  details: string[];
  requests: { sent: number; retries: number };
  /** What the jobs came to (by state, requeued), to read beside the checks. */
  outcomes: Record<string, number>;
  elapsedSeconds: number;
}

const MAX_DETAILS = 60;

/** Prints the tables and the first findings; answers the reasons the run fails (none: it passed). */
export function printReport(report: SoakReport, print: (line: string) => void = console.log): string[] {
  const failures: string[] = [];
  const rows: Record<string, { value: number; ok: string }> = {};
  for (const [name, value] of Object.entries(report.counts) as [keyof SoakCounts, number][]) {
    const bad = VIOLATIONS.includes(name) && value > 0;
    if (bad) failures.push(`${name}: ${value}`);
    rows[name] = { value, ok: VIOLATIONS.includes(name) ? (bad ? 'FAIL' : 'ok') : '' };
  }
  const unacknowledged = report.counts.submitted - report.counts.acknowledged;
  if (unacknowledged > 0) failures.push(`${unacknowledged} submits never acknowledged`);
  rows['never acknowledged'] = { value: unacknowledged, ok: unacknowledged ? 'FAIL' : 'ok' };
  rows['submits refused (4xx)'] = {
    value: report.refusedSubmits.length,
    ok: report.refusedSubmits.length ? 'FAIL' : 'ok',
  };
  if (report.refusedSubmits.length) failures.push(`${report.refusedSubmits.length} submits refused`);
  rows.leaks = { value: report.leaks.length, ok: report.leaks.length ? 'FAIL' : 'ok' };
  if (report.leaks.length) failures.push(`${report.leaks.length} leaks`);
  rows['processes that exited by themselves'] = {
    value: report.unexpectedExits.length,
    ok: report.unexpectedExits.length ? 'FAIL' : 'ok',
  };
  if (report.unexpectedExits.length) failures.push(`${report.unexpectedExits.length} processes exited by themselves`);
  for (const [name, value] of Object.entries(report.outcomes)) rows[name] = { value, ok: '' };
  rows['submit requests (with retries)'] = { value: report.requests.sent, ok: '' };
  rows['submit retries'] = { value: report.requests.retries, ok: '' };
  print(`soak: ${Math.round(report.elapsedSeconds)} s`);
  console.table(rows);

  const faults: Record<string, { required: number; reached: number; ok: string }> = {};
  for (const kind of Object.keys(report.faults.required) as FaultKind[]) {
    const [required, reached] = [report.faults.required[kind], report.faults.reached[kind]];
    if (reached < required) failures.push(`${kind}: ${reached} of ${required}`);
    faults[kind] = { required, reached, ok: reached >= required ? 'ok' : 'FAIL' };
  }
  console.table(faults);

  if (report.redisLosses.length) {
    console.table(
      report.redisLosses.map((loss) => ({
        'PENDING at the loss': loss.pendingAtLoss,
        'seconds until all dispatched again':
          loss.pendingAtLoss === 0 ? 'none lost' : loss.seconds === undefined ? 'never' : loss.seconds.toFixed(1),
      })),
    );
  }
  const findings = [
    ...report.details,
    ...report.refusedSubmits,
    ...report.leaks.map((leak) => `left behind: ${leak}`),
    ...report.unexpectedExits,
  ];
  for (const line of findings.slice(0, MAX_DETAILS)) print(`  ${line}`);
  if (findings.length > MAX_DETAILS) print(`  … and ${findings.length - MAX_DETAILS} more`);
  print(failures.length ? `soak FAILED: ${failures.join('; ')}` : 'soak passed');
  return failures;
}
