/**
 * Where a run (one attempt of a job on this node) is in its life here: one phase at a time, and the only moves
 * between them. Beside the phase a run has a fact that does not order it: why the daemon is killing it
 * (`record.kill`, journaled before the first signal). Whether a running run has ended is run-ending-rule.ts's to say.
 *
 *   admitted -> launching -> running -> ending -> reporting -> reported -> forgotten
 *
 * and three shortcuts: admitted -> running (journaled before a crash, its wrapper had said its pid); admitted or
 * launching -> ending (no cores for it, or its launch failed); ending -> reported (a run that never started has no
 * output to store). From `reporting` on its end is known (`record.ended`), and its cores and memory are free.
 */
import type { RunRecord } from './run-record.js';

export type RunPhase =
  /** Confirmed: its cores are held and its record is journaled; not handed to the launcher yet. */
  | 'admitted'
  /** Handed to the launcher; its wrapper has not said its pid yet. */
  | 'launching'
  /** Its process is named by pid and start time. */
  | 'running'
  /** Found ended, or it never started: what is left of its process group is ended, its outcome made. */
  | 'ending'
  /** Ended, its cores free: its output is being stored, and only then is its end reported. */
  | 'reporting'
  /** Its end is in the outbox (or needs no report): it is forgotten once the API acknowledges. */
  | 'reported'
  /** Out of the journal and the table: a record never written again. */
  | 'forgotten';

const MOVES: { readonly [from in RunPhase]: readonly RunPhase[] } = {
  admitted: ['launching', 'running', 'ending'],
  launching: ['running', 'ending'],
  running: ['ending'],
  ending: ['reporting', 'reported'],
  reporting: ['reported'],
  reported: ['forgotten'],
  forgotten: [],
};

/** A move the life of a run does not have: a programming error in the daemon. */
export class InvalidRunMove extends Error {
  constructor(
    readonly from: RunPhase,
    readonly to: RunPhase,
  ) {
    super(`a run cannot go from ${from} to ${to}`);
  }
}

/** The phase after the move, or InvalidRunMove. */
export function moveRun(from: RunPhase, to: RunPhase): RunPhase {
  if (!MOVES[from].includes(to)) throw new InvalidRunMove(from, to);
  return to;
}

/** The phase a run read from the journal at start-up is in, before the daemon looks at its files and processes. */
export function journaledPhase(record: Pick<RunRecord, 'ended' | 'pid'>): RunPhase {
  if (record.ended) return 'reported';
  return record.pid === undefined ? 'admitted' : 'running';
}

/** Its end is known: its cores and memory are free again, and the heartbeat no longer lists it. */
export function hasEnded(phase: RunPhase): boolean {
  return phase === 'reporting' || phase === 'reported' || phase === 'forgotten';
}

/** Not ended yet, and not being ended: a run whose end is still to be noticed. */
export function awaitsItsEnd(phase: RunPhase): boolean {
  return phase === 'admitted' || phase === 'launching' || phase === 'running';
}
