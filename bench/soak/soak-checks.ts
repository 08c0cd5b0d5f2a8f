/**
 * What the soak checks at the end (issue 15, item 3), as pure functions of what it gathered, so each check is shown to
 * fail on a made-up violation (test/soak-checks.test.ts):
 * - every acknowledged submit is exactly one job (its key's job, once), and no key made two;
 * - every job is terminal, and its state matches its ledger: COMPLETED wrote an `end` line with exit 0 on its node,
 *   FAILED one with its exit status; NODE_FAIL may or may not have (its node lost contact: the run may have ended
 *   before the API heard of it, README "Nodes"); nothing else is expected of the soak's jobs. No ledger line for an
 *   attempt the API never made, or of a job that does not exist; no later attempt of a job without `requeue`;
 * - no attempt ran twice (two `start` lines, or lines from two nodes);
 * - no two attempts of a job overlapped (the intervals their lines surely span intersect);
 * - every COMPLETED job's stored output is what its last attempt wrote.
 */
import type { LedgerAttempt } from './ledger.js';
import { expectedOutput, soakJob } from './job-mix.js';

export interface SubmitRecord {
  index: number;
  /** The job id its 201 named; undefined when no answer ever came. */
  jobId?: string;
}

export interface JobRow {
  id: string;
  name: string;
  state: string;
  attempt: number;
  node: string | null;
  exitStatus: number | null;
  requeue: boolean;
  errorMsg: string | null;
}

export const TERMINAL = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL'];

export interface SoakCounts {
  submitted: number;
  acknowledged: number;
  jobs: number;
  terminal: number;
  stuck: number;
  'submits not exactly one job': number;
  'ledger mismatches': number;
  'double runs': number;
  overlaps: number;
  'output mismatches': number;
}

/** The counts that must be zero. */
export const VIOLATIONS: (keyof SoakCounts)[] = [
  'stuck',
  'submits not exactly one job',
  'ledger mismatches',
  'double runs',
  'overlaps',
  'output mismatches',
];

export interface SoakEvidence {
  seed: number;
  submits: SubmitRecord[];
  jobs: JobRow[];
  ledger: Map<string, LedgerAttempt>;
  malformedLedgerLines: number;
  /** The stored stdout of each COMPLETED job, by id; absent when it could not be read. */
  outputs: Map<string, string>;
}

export interface SoakFindings {
  counts: SoakCounts;
  /** One line per violation found (the first few of each kind are enough to start from). */
  details: string[];
}

const INDEX = /^soak-(\d+)$/;

export function checkSoak(evidence: SoakEvidence): SoakFindings {
  const details: string[] = [];
  const byName = new Map<string, JobRow[]>();
  for (const job of evidence.jobs) byName.set(job.name, [...(byName.get(job.name) ?? []), job]);
  const attemptsOf = new Map<string, LedgerAttempt[]>();
  for (const entry of evidence.ledger.values()) {
    attemptsOf.set(entry.job, [...(attemptsOf.get(entry.job) ?? []), entry]);
  }

  const counts: SoakCounts = {
    submitted: evidence.submits.length,
    acknowledged: evidence.submits.filter((submit) => submit.jobId !== undefined).length,
    jobs: evidence.jobs.length,
    terminal: evidence.jobs.filter((job) => TERMINAL.includes(job.state)).length,
    stuck: 0,
    'submits not exactly one job': 0,
    'ledger mismatches': evidence.malformedLedgerLines,
    'double runs': 0,
    overlaps: 0,
    'output mismatches': 0,
  };
  counts.stuck = counts.jobs - counts.terminal;
  if (evidence.malformedLedgerLines) details.push(`${evidence.malformedLedgerLines} ledger lines not in its format`);
  for (const job of evidence.jobs) {
    if (!TERMINAL.includes(job.state)) details.push(`job ${job.id} (${job.name}) is still ${job.state}`);
  }

  const submitted = new Set(evidence.submits.map((submit) => `soak-${submit.index}`));
  for (const submit of evidence.submits) {
    const found = byName.get(`soak-${submit.index}`) ?? [];
    const problem =
      found.length > 1
        ? `made ${found.length} jobs (${found.map((job) => job.id).join(', ')})`
        : submit.jobId === undefined
          ? undefined
          : found.length === 0
            ? `was acknowledged as job ${submit.jobId}, which does not exist`
            : found[0]!.id !== submit.jobId
              ? `was acknowledged as job ${submit.jobId} but made job ${found[0]!.id}`
              : undefined;
    if (problem) {
      counts['submits not exactly one job']++;
      details.push(`submit soak-${submit.index} ${problem}`);
    }
  }
  for (const job of evidence.jobs) {
    if (!submitted.has(job.name)) {
      counts['submits not exactly one job']++;
      details.push(`job ${job.id} (${job.name}) was never submitted`);
    }
  }

  const jobIds = new Set(evidence.jobs.map((job) => job.id));
  for (const [id, attempts] of attemptsOf) {
    if (!jobIds.has(id)) {
      counts['ledger mismatches']++;
      details.push(`the ledger has job ${id}, which does not exist`);
    }
    for (const entry of attempts) {
      if (entry.starts > 1 || entry.nodes.length > 1 || entry.ends > 1) {
        counts['double runs']++;
        details.push(
          `job ${id} attempt ${entry.attempt} ran twice: ${entry.starts} starts, ${entry.ends} ends, on ${entry.nodes.join(', ')}`,
        );
      }
    }
    const sorted = [...attempts].sort((a, b) => a.firstSeen - b.firstSeen);
    for (let i = 0; i < sorted.length; i++) {
      for (let j = i + 1; j < sorted.length; j++) {
        const [a, b] = [sorted[i]!, sorted[j]!];
        if (b.firstSeen < a.lastSeen) {
          counts.overlaps++;
          details.push(
            `job ${id}: attempt ${b.attempt} (on ${b.nodes.join(', ')}) started ${(a.lastSeen - b.firstSeen) / 1000} ms ` +
              `before attempt ${a.attempt} (on ${a.nodes.join(', ')}) was last seen running`,
          );
        }
      }
    }
  }

  for (const job of evidence.jobs) {
    const problem = ledgerProblem(job, attemptsOf.get(job.id) ?? []);
    if (problem) {
      counts['ledger mismatches']++;
      details.push(`job ${job.id} (${job.name}, ${job.state} attempt ${job.attempt} on ${job.node}): ${problem}`);
    }
    if (job.state !== 'COMPLETED') continue;
    const index = INDEX.exec(job.name);
    const stored = evidence.outputs.get(job.id);
    const expected = index ? expectedOutput(soakJob(evidence.seed, Number(index[1])), job.attempt) : undefined;
    if (stored !== expected) {
      counts['output mismatches']++;
      details.push(
        `job ${job.id} (${job.name}): stored output ${
          stored === undefined ? 'could not be read' : `is ${stored.length} bytes, not the ${expected?.length} written`
        }`,
      );
    }
  }
  return { counts, details };
}

/** Why `job`'s state does not match what its ledger says; undefined when it does. */
export function ledgerProblem(job: JobRow, attempts: LedgerAttempt[]): string | undefined {
  const unknown = attempts.find((entry) => entry.attempt > job.attempt || entry.attempt < 1);
  if (unknown) return `the ledger has attempt ${unknown.attempt}, which the API never made`;
  if (!job.requeue && job.attempt > 1) return `attempt ${job.attempt} of a job that did not ask for requeue`;
  const last = attempts.find((entry) => entry.attempt === job.attempt);
  if (last && job.node !== null && !last.nodes.includes(job.node)) {
    return `its last attempt ran on ${last.nodes.join(', ')}`;
  }
  switch (job.state) {
    case 'COMPLETED':
      if (last?.exitCode !== 0)
        return `its last attempt ${last ? `ended ${last.exitCode ?? 'without an end line'}` : 'never started'}`;
      return undefined;
    case 'FAILED':
      if (last?.exitCode === undefined || last.exitCode !== job.exitStatus) {
        return `exit status ${job.exitStatus} (${job.errorMsg ?? 'no message'}), but its last attempt ${
          last ? `ended ${last.exitCode ?? 'without an end line'}` : 'never started'
        }`;
      }
      return undefined;
    case 'NODE_FAIL':
    case 'PENDING':
    case 'RUNNING':
      return undefined;
    default:
      return `the soak never ends a job ${job.state} (${job.errorMsg ?? 'no message'})`;
  }
}
