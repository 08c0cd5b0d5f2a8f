/**
 * The ledger the soak's jobs keep (bench/soak/job-mix.ts): one line per event, appended under flock(1) by the job
 * itself, so it says what really ran whatever the scheduler recorded:
 *   `<job> <attempt> <node> start <t0>`
 *   `<job> <attempt> <node> tick <t>`
 *   `<job> <attempt> <node> end <t0> <t1> <exit code>`
 * Times are microseconds since the epoch.
 */
import { readFileSync } from 'node:fs';

/** What the ledger says about one attempt of one job, wherever it ran. */
export interface LedgerAttempt {
  job: string;
  attempt: number;
  /** Every node that wrote a line for it (more than one: it ran twice). */
  nodes: string[];
  /** How many times it started (more than one: it ran twice). */
  starts: number;
  /** The earliest start and the latest line: an interval it surely ran in, though a killed run may have run longer. */
  firstSeen: number;
  lastSeen: number;
  /** Its `end` line's exit code; undefined when it never wrote one (it was killed). */
  exitCode?: number;
  ends: number;
}

/** Attempts by `<job> <attempt>`; lines that are not the ledger's are counted in `malformed`. */
export function readLedger(text: string): { attempts: Map<string, LedgerAttempt>; malformed: number } {
  const attempts = new Map<string, LedgerAttempt>();
  let malformed = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const [job, attemptText, node, event, ...times] = line.split(' ');
    const attempt = Number(attemptText);
    const numbers = times.map(Number);
    if (!job || !node || !Number.isInteger(attempt) || numbers.some((n) => !Number.isFinite(n)) || !numbers.length) {
      malformed++;
      continue;
    }
    const key = `${job} ${attempt}`;
    const entry = attempts.get(key) ?? {
      job,
      attempt,
      nodes: [],
      starts: 0,
      ends: 0,
      firstSeen: Infinity,
      lastSeen: -Infinity,
    };
    attempts.set(key, entry);
    if (!entry.nodes.includes(node)) entry.nodes.push(node);
    if (event === 'start') entry.starts++;
    else if (event === 'end') {
      entry.ends++;
      entry.exitCode = numbers[2];
    } else if (event !== 'tick') {
      malformed++;
      continue;
    }
    entry.firstSeen = Math.min(entry.firstSeen, numbers[0]!);
    entry.lastSeen = Math.max(entry.lastSeen, ...numbers.slice(0, event === 'end' ? 2 : 1));
  }
  return { attempts, malformed };
}

export const readLedgerFile = (file: string) => {
  try {
    return readLedger(readFileSync(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return readLedger('');
    throw error;
  }
};
