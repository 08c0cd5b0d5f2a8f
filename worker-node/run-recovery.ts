/**
 * The daemon's start-up after its own crash (or a stop that left jobs running): every run in its journal is looked at
 * once. Whether a started run has ended is run-ending-rule.ts's to say, as everywhere: one ended meanwhile is settled
 * from its status file; any other is re-adopted and watched (run-watch.ts) until the rule says it ended: its process
 * still lives (the same pid and start time), and a kill the crash interrupted goes on; or its wrapper is still to
 * write its status (its job a zombie, or just collected); or its wrapper is gone without one, and the grace runs. One
 * confirmed but never launched is launched now; one whose end was journaled waits for the API to acknowledge it, or is
 * forgotten. No run is started twice: a run whose wrapper had been handed it is found by its pid file, given a moment
 * to write it.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CoreAllocator } from './core-allocator.js';
import { readRunFacts, RUN_FILES, waitForLaunch } from './job-process.js';
import { Journal } from './journal.js';
import type { LogShipper } from './log-shipper.js';
import { processStartTime } from './process-table.js';
import { runEnding, type RunEnding, type RunFacts } from './run-ending-rule.js';
import type { RunRecord } from './run-record.js';
import type { RunSupervisor } from './run-supervisor.js';
import type { Run, RunTable } from './run-table.js';
import type { LogFields, Logger } from '../shared/log/logger.js';

// How long a restarted daemon waits for the wrapper of a run it launched just before it died to say its pid.
const LAUNCH_GRACE_MS = 2000;

export type Resumption = 'forget' | 'await-acknowledgment' | 'launch' | 're-adopt' | 'settle';

/**
 * What to do with a journaled run, once its pid file was read (if its record had no pid): `ending` is
 * run-ending-rule.ts's verdict on it now, undefined for a run with no pid.
 */
export function resumption(
  record: Pick<RunRecord, 'ended' | 'outbox' | 'pid'>,
  ending: RunEnding | undefined,
): Resumption {
  // Journaled as ended: a run that never started, its end in its outbox.
  if (record.ended) return record.outbox.length === 0 ? 'forget' : 'await-acknowledgment';
  if (record.pid === undefined || ending === undefined) return 'launch';
  return ending.ended ? 'settle' : 're-adopt';
}

export interface RecoveryParts {
  table: RunTable;
  /** The clock the run watch keeps too (ms): a run found without its wrapper is given its grace from now. */
  now(): number;
  allocator: CoreAllocator;
  shipper: LogShipper;
  supervisor: RunSupervisor;
  log: Logger;
}

/** Takes the journaled runs back, and gives the ones still unended their cores again. */
export async function recoverRuns(records: RunRecord[], parts: RecoveryParts): Promise<void> {
  const { table, allocator, shipper } = parts;
  const runs = records.map((record) => table.restore(record));
  // Runs that ended while the daemon was away are settled before any cores are reserved: a run's cores may have
  // gone to a later run before the crash, while its end was known only from its status file.
  for (const run of runs) await resumeRun(run, parts);
  await shipper.dropUntracked();
  for (const run of table.unended()) allocator.reserve(run.key, run.record.slots);
}

async function resumeRun(run: Run, { table, supervisor, log, now }: RecoveryParts): Promise<void> {
  const { record } = run;
  if (!record.ended && record.pid === undefined) {
    const scriptWritten = existsSync(join(record.dir, RUN_FILES.script));
    const launched = await waitForLaunch(record.dir, scriptWritten ? LAUNCH_GRACE_MS : 0);
    if (launched) {
      const startedAt = statSync(join(record.dir, RUN_FILES.pid)).mtimeMs;
      supervisor.started(run, launched, startedAt);
      await table.save(run);
    }
  }
  let facts: RunFacts | undefined;
  let ending: RunEnding | undefined;
  if (!record.ended && record.pid !== undefined) {
    facts = readRunFacts({ ...record, pid: record.pid, startTime: record.startTime! });
    const verdict = runEnding(facts, undefined, now());
    run.goneSince = verdict.goneSince;
    // Gone at the first look, with no status: it went while the daemon was down, not under its watch.
    run.lostWithDaemon = verdict.goneSince !== undefined;
    ending = verdict.ending;
  }
  switch (resumption(record, ending)) {
    case 'forget':
      return supervisor.forget(run);
    case 'await-acknowledgment':
      return;
    case 'launch':
      log.info(
        `job ${record.jobId}: confirmed but never started before the restart; starting it now`,
        runFields(record),
      );
      return supervisor.launch(run);
    case 're-adopt':
      supervisor.ship(run);
      if (facts!.job === 'gone') {
        // Its pid may name another process now: it is neither killed nor said to be re-adopted.
        log.info(`job ${record.jobId}: its process ended while the daemon was away; waiting for its status file`, {
          ...runFields(record),
          recovery: 'gone',
        });
        return;
      }
      log.info(`job ${record.jobId}: re-adopted (pid ${record.pid})`, {
        ...runFields(record),
        recovery: 're-adopt',
        pid: record.pid,
      });
      // A kill interrupted by the crash goes on.
      if (record.kill) void supervisor.terminate(run);
      return;
    case 'settle':
      supervisor.ship(run);
      log.info(`job ${record.jobId}: ended while the daemon was away`, { ...runFields(record), recovery: 'settle' });
      return supervisor.end(run, ending!);
  }
}

/** Whether any run recorded in a daemon's journal directory still has its process: its cores are still in use. */
export async function journalHasLiveJobs(journalDir: string): Promise<boolean> {
  const records = await new Journal<RunRecord>(journalDir).readAll().catch(() => []);
  for (const record of records) {
    if (record.ended) continue;
    // The journal names the process once it was killed or recovered; else the run's pid file does.
    const named =
      record.pid !== undefined ? { pid: record.pid, startTime: record.startTime } : await waitForLaunch(record.dir, 0);
    if (named && processStartTime(named.pid) === named.startTime) return true;
  }
  return false;
}

/** The log fields of a journaled run. */
function runFields(record: { jobId: number; attempt: number }): LogFields {
  return { job_id: record.jobId, attempt: record.attempt };
}
