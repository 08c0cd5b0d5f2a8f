/**
 * Watches the runs whose process may be there, every tick: notices the end of every running run (adopted ones, which
 * no launcher tells of, and any whose wrapper was lost, killed by the job or anyone) and holds every run to its time
 * limit and, every `memoryPollMs`, its memory, and has each sent its warning signal when due. It only looks (at /proc
 * and the runs' status files) and asks the pure decisions in run-ending-rule.ts, run-limits.ts and run-warnings.ts;
 * the supervisor acts.
 */
import { DaemonLoop } from './daemon-loop.js';
import { readRunFacts } from './job-process.js';
import { handlesSignal, residentBytesByGroup } from './process-table.js';
import { runEnding } from './run-ending-rule.js';
import { limitKills, memoryPollDue, type LimitedRun } from './run-limits.js';
import type { RunSupervisor } from './run-supervisor.js';
import { warningAt, warningsDue, type WarnedRun } from './run-warnings.js';
import { signalNumber } from '../shared/job/warn-signal.js';
import type { Run, RunTable } from './run-table.js';
import type { Logger } from '../shared/log/logger.js';

export interface RunWatchOptions {
  table: RunTable;
  supervisor: RunSupervisor;
  memoryPollMs: number;
  now(): number;
  log: Logger;
}

// How soon a time limit, an adopted run's end or a memory poll is noticed.
const TICK_MS = 200;

export class RunWatch {
  readonly #loop: DaemonLoop;
  #lastMemoryPoll = 0;

  constructor(private readonly options: RunWatchOptions) {
    this.#loop = new DaemonLoop({
      name: 'watching runs',
      pass: async () => {
        this.#tick();
        return TICK_MS;
      },
      log: options.log,
    });
  }

  start(): void {
    this.#loop.start();
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  #tick(): void {
    const { table, supervisor } = this.options;
    const now = this.options.now();
    const live: Run[] = [];
    for (const run of table.withProcess()) {
      const { record } = run;
      const facts = readRunFacts({ ...record, pid: record.pid!, startTime: record.startTime! });
      // Its pid may name another process now: nothing of it is measured or killed for limits.
      if (facts.job !== 'gone') live.push(run);
      if (run.phase !== 'running') continue;
      const verdict = runEnding(facts, run.goneSince, now);
      run.goneSince = verdict.goneSince;
      void supervisor.end(run, verdict.ending);
    }
    let resident: Map<number, number> | undefined;
    const memoryDue = live.length > 0 && memoryPollDue(now, this.#lastMemoryPoll, this.options.memoryPollMs);
    if (memoryDue) {
      this.#lastMemoryPoll = now;
      // Only the runs no memory cgroup holds are measured: reading every process in /proc is dear.
      const polled = live.filter((run) => supervisor.containment(run).oomKills() === undefined);
      if (polled.length) resident = residentBytesByGroup(new Set(polled.map((run) => run.record.pid!)));
    }
    const limited: LimitedRun[] = live.map((run) => {
      const { key, record } = run;
      const oomKills = memoryDue ? supervisor.containment(run).oomKills() : undefined;
      return {
        key,
        pid: record.pid!,
        startedAt: record.startedAt!,
        timeLimitSeconds: record.job.time_limit_seconds,
        memoryMb: record.job.memory_mb,
        ...(record.kill ? { kill: record.kill } : {}),
        ...(oomKills !== undefined ? { oomKills } : {}),
      };
    });
    // Before the limits: a warning due at the limit itself (`@0`) goes before the kill's SIGTERM.
    const warned = live
      .filter((run) => run.phase === 'running')
      .map(({ key, record }): WarnedRun => {
        const warning = record.job.signal;
        const run: WarnedRun = {
          key,
          startedAt: record.startedAt!,
          timeLimitSeconds: record.job.time_limit_seconds,
          warnSeconds: warning?.seconds,
          warned: record.warned ?? false,
          ...(record.kill ? { kill: record.kill } : {}),
        };
        // Read from /proc only for what it decides: a batch shell's warning due at its start, not sent yet.
        if (warning?.batch_only && !run.warned && warningAt(run) === 0) {
          run.batchHandles = handlesSignal(record.pid!, signalNumber(warning.signal));
        }
        return run;
      });
    for (const key of warningsDue(warned, now)) supervisor.warn(key);
    for (const { key, reason } of limitKills(limited, now, resident)) supervisor.kill(key, reason);
  }
}
