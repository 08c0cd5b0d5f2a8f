/**
 * The soak's jobs: a deterministic mix drawn from the seed and each job's index, so that what a job writes is known
 * without asking it. Every job appends to the ledger (bench/soak/ledger.ts) under flock(1): a `start` line when it
 * starts, `tick` lines while it sleeps, an `end` line (with its start, its end and its exit code) when it ends. Kinds:
 * - quick: one line of output;
 * - output: 30 to 120 lines of about 70 bytes (2 to 8 KB);
 * - sleep: one line, then 1 to 4 s of sleep in half-second ticks (so faults find jobs running);
 * - long: the same for 15 to 30 s, longer than the nodes' lease (so a partition finds runs to fence and requeue);
 * - fail: one line, then exits with a code from 1 to 99 (ends FAILED).
 * A third of the jobs ask for `requeue`.
 */

export type JobKind = 'quick' | 'output' | 'sleep' | 'long' | 'fail';

export interface SoakJob {
  index: number;
  /** The job's name, and its submit's Idempotency-Key with the run's id before it. */
  name: string;
  kind: JobKind;
  requeue: boolean;
  lines: number;
  ticks: number;
  exitCode: number;
}

/** mulberry32: a small seeded generator, enough to pick a mix (not for anything secret). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const between = (random: () => number, low: number, high: number) => low + Math.floor(random() * (high - low + 1));

export function soakJob(seed: number, index: number): SoakJob {
  const random = seededRandom(seed * 1_000_003 + index);
  // The first draw of neighbouring seeds is alike: skip it.
  random();
  const draw = random();
  const kind: JobKind =
    draw < 0.4 ? 'quick' : draw < 0.65 ? 'output' : draw < 0.82 ? 'sleep' : draw < 0.85 ? 'long' : 'fail';
  return {
    index,
    name: `soak-${index}`,
    kind,
    requeue: index % 3 === 0,
    lines: kind === 'output' ? between(random, 30, 120) : 1,
    ticks: kind === 'sleep' ? between(random, 2, 8) : kind === 'long' ? between(random, 30, 60) : 0,
    exitCode: kind === 'fail' ? between(random, 1, 99) : 0,
  };
}

const PAD = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ';

/** What attempt `attempt` of `job` writes to its stdout, byte for byte. */
export function expectedOutput(job: SoakJob, attempt: number): string {
  let text = '';
  for (let line = 1; line <= job.lines; line++) {
    text += `${job.name} attempt ${attempt} line ${String(line).padStart(5, '0')} ${PAD}\n`;
  }
  return text;
}

/**
 * The job's script. Times are microseconds of the machine's clock (bash's EPOCHREALTIME, no fork); the ledger file
 * and the run's marker come from the job's environment.
 */
export function jobScript(job: SoakJob): string {
  return [
    '#!/bin/bash',
    't0=${EPOCHREALTIME/./}',
    'ledger() { { flock 9 && echo "$CONDUCTOR_JOB_ID $CONDUCTOR_ATTEMPT $CONDUCTOR_NODE $*" >&9; } 9>>"$SOAK_LEDGER"; }',
    'ledger start $t0',
    `for ((i = 1; i <= ${job.lines}; i++)); do printf '%s attempt %s line %05d %s\\n' ${job.name} "$CONDUCTOR_ATTEMPT" $i ${PAD}; done`,
    `for ((i = 1; i <= ${job.ticks}; i++)); do sleep 0.5; ledger tick \${EPOCHREALTIME/./}; done`,
    `ledger end $t0 \${EPOCHREALTIME/./} ${job.exitCode}`,
    `exit ${job.exitCode}`,
    '',
  ].join('\n');
}

/** The submit body of `job` (POST /v1/jobs). */
export function submitBody(job: SoakJob, context: { ledger: string; workDir: string; marker: Record<string, string> }) {
  return {
    job: {
      name: job.name,
      current_working_directory: context.workDir,
      memory_per_node: '64M',
      time_limit: '10',
      requeue: job.requeue,
      environment: { SOAK_LEDGER: context.ledger, ...context.marker },
    },
    script: jobScript(job),
  };
}
