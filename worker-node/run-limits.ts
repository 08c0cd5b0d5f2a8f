/**
 * The limits a running job is held to, decided from what the daemon measured and the time: its time limit, counted
 * from its start, and its memory request: where a memory cgroup holds it, the kernel's count of the run's processes
 * it killed for memory (any is enough: the job ran out, and its other processes are ended); elsewhere the resident
 * memory of its process group against the request. A run the daemon is ending already keeps its first reason (a cancel stays a cancel), and a run past
 * both limits at once ends for its time.
 */
import type { KillReason } from './job-ending.js';

export interface LimitedRun {
  key: string;
  /** Its process group: the job's pid. */
  pid: number;
  /** Wall-clock ms of its start. */
  startedAt: number;
  timeLimitSeconds: number | null;
  memoryMb: number;
  /** Why the daemon is ending it already, if it is. */
  kill?: KillReason;
  /** The kernel's OOM kills in its memory cgroup, when measured this time; absent where memory is only polled. */
  oomKills?: number;
}

export interface LimitKill {
  key: string;
  reason: KillReason;
}

/**
 * The runs to end now, and why. `residentBytes` (by process group) is there only when memory was measured this
 * time: between measurements only time limits are checked.
 */
export function limitKills(
  runs: readonly LimitedRun[],
  now: number,
  residentBytes?: ReadonlyMap<number, number>,
): LimitKill[] {
  const kills: LimitKill[] = [];
  for (const run of runs) {
    if (run.kill) continue;
    if (run.timeLimitSeconds !== null && now >= run.startedAt + run.timeLimitSeconds * 1000) {
      kills.push({ key: run.key, reason: 'TIMEOUT' });
    } else if (run.oomKills !== undefined) {
      if (run.oomKills > 0) kills.push({ key: run.key, reason: 'OUT_OF_MEMORY' });
    } else if (residentBytes && (residentBytes.get(run.pid) ?? 0) > run.memoryMb * 2 ** 20) {
      kills.push({ key: run.key, reason: 'OUT_OF_MEMORY' });
    }
  }
  return kills;
}

/** Whether memory is to be measured now: reading every process in /proc is too dear for every tick. */
export function memoryPollDue(now: number, lastPollAt: number, pollEveryMs: number): boolean {
  return now - lastPollAt >= pollEveryMs;
}
