/**
 * sbatch's `--signal=[{R|B}:]<sig_num>[@sig_time]` (sbatch(1)): send a signal `sig_time` seconds (default 60, at most
 * 65535) before the time limit. `B:` signals only the batch shell; without it the job's steps get it and the batch shell
 * does not (sbatch: "By default all job steps will be signaled, but not the batch shell itself"): here a step is what
 * the node's srun runs. `R:` (reservation end) is refused: there are no reservations yet. The signal is a name (`USR1`, `SIGUSR1`) or its Linux number.
 */
import { echo } from '../echo.js';

export class WarnSignalError extends Error {}

export interface WarnSignal {
  /** The name without SIG, as Slurm shows it: "USR1". */
  signal: string;
  /** Seconds before the time limit. */
  seconds: number;
  /** `B:`: only the batch shell, not the rest of the job. */
  batchOnly: boolean;
}

export const DEFAULT_WARN_SECONDS = 60;
const MAX_WARN_SECONDS = 0xffff;

/** Linux's numbers (signal(7), x86 and arm): the signals a job may be warned with (not KILL or STOP). */
const SIGNAL_NUMBERS: Readonly<Record<string, number>> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ABRT: 6,
  USR1: 10,
  USR2: 12,
  ALRM: 14,
  TERM: 15,
  CONT: 18,
  TSTP: 20,
  URG: 23,
  XCPU: 24,
  XFSZ: 25,
  VTALRM: 26,
  PROF: 27,
  WINCH: 28,
  PWR: 30,
};

/** The signal's number (signal(7)). */
export function signalNumber(name: string): number {
  return SIGNAL_NUMBERS[name]!;
}

/** Reads sbatch's --signal value; throws WarnSignalError naming what is wrong. */
export function parseWarnSignal(input: string): WarnSignal {
  const match = /^(?:([A-Za-z]):)?([A-Za-z0-9]+)(?:@(\d+))?$/.exec(input.trim());
  if (!match) {
    throw new WarnSignalError(`"${echo(input)}" is not [B:]<signal>[@seconds], e.g. "USR1@60" or "B:TERM@120"`);
  }
  const [, flag, sig, time] = match;
  if (flag !== undefined && flag.toUpperCase() !== 'B') {
    throw new WarnSignalError(
      flag.toUpperCase() === 'R'
        ? '"R:" (signal at a reservation\'s end) is not supported: there are no reservations'
        : `"${echo(flag)}:" is not a flag; only "B:" (the batch shell only) is`,
    );
  }
  const seconds = time === undefined ? DEFAULT_WARN_SECONDS : Number(time);
  if (seconds > MAX_WARN_SECONDS) throw new WarnSignalError(`must be at most ${MAX_WARN_SECONDS} seconds`);
  return { signal: signalName(sig!), seconds, batchOnly: flag !== undefined };
}

/** "B:USR1@60": the form parseWarnSignal reads back. */
export function formatWarnSignal(warn: WarnSignal): string {
  return `${warn.batchOnly ? 'B:' : ''}${warn.signal}@${warn.seconds}`;
}

function signalName(sig: string): string {
  if (/^\d+$/.test(sig)) {
    const name = Object.keys(SIGNAL_NUMBERS).find((key) => SIGNAL_NUMBERS[key] === Number(sig));
    if (name === undefined) throw new WarnSignalError(`signal ${sig} cannot be sent as a warning`);
    return name;
  }
  const name = sig.toUpperCase().replace(/^SIG/, '');
  if (!Object.hasOwn(SIGNAL_NUMBERS, name)) {
    throw new WarnSignalError(`"${echo(sig)}" is not a signal a job can be warned with (USR1, USR2, TERM, …)`);
  }
  return name;
}
