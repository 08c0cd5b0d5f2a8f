/**
 * Watches the runs whose process may be there, every tick: notices the end of adopted runs (no launcher tells of
 * theirs) and holds every run to its time limit and, every `memoryPollMs`, its memory. It only looks (at /proc and the
 * runs' status files) and asks the pure decisions in adopted-run-check.ts and run-limits.ts; the supervisor acts.
 * It also notices a run whose wrapper was lost (killed by the job or anyone), within a tick.
 */
import { checkAdoptedRun } from './adopted-run-check.js';
import { DaemonLoop } from './daemon-loop.js';
import { readJobExit } from './job-process.js';
import { processStartTime, residentBytesByGroup } from './process-table.js';
import { limitKills, memoryPollDue, type LimitedRun } from './run-limits.js';
import type { RunSupervisor } from './run-supervisor.js';
import type { Run, RunTable } from './run-table.js';

export interface RunWatchOptions {
  table: RunTable;
  supervisor: RunSupervisor;
  memoryPollMs: number;
  now(): number;
  log(line: string): void;
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
    const live = table.withProcess();
    for (const run of live) {
      if (run.phase === 'running' && this.#wrapperLost(run)) void supervisor.wrapperLost(run);
      if (!run.adopted || run.phase !== 'running') continue;
      const { record } = run;
      const seen = {
        statusWritten: readJobExit(record.dir) !== undefined,
        alive: processStartTime(record.pid!) === record.startTime,
      };
      const verdict = checkAdoptedRun(seen, run.goneSince, now);
      run.goneSince = verdict.goneSince;
      if (verdict.ended) void supervisor.settle(run);
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
    for (const { key, reason } of limitKills(limited, now, resident)) supervisor.kill(key, reason);
  }

  /**
   * The run's wrapper (the parent that waits for the job and writes its status) is gone without a status: nothing will
   * ever tell this run's end (the job may have killed it: `kill -KILL $PPID`). Looked at in this order because the
   * wrapper writes the status before it exits. Runs of an older daemon, whose record names no wrapper, are not.
   */
  #wrapperLost(run: Run): boolean {
    const { wrapper } = run.record;
    if (!wrapper || run.wrapperLost) return false;
    if (processStartTime(wrapper.pid) === wrapper.start) return false;
    return readJobExit(run.record.dir) === undefined;
  }
}
