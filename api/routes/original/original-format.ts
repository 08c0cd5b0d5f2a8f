/**
 * Values as the original SCNS-Conductor wrote them in its answers: its five job states, and its timestamps.
 */
import type { JobState } from '../../../shared/job/job-state.js';

/** The original's states (`core/enums.py`). */
export const ORIGINAL_STATES = ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
export type OriginalState = (typeof ORIGINAL_STATES)[number];

/**
 * A state in the original's words. The endings it did not have are failures to it (its timeout, for one, ended the
 * job FAILED), so a client that waits for COMPLETED, FAILED or CANCELLED sees every job end.
 */
export function originalState(state: JobState): OriginalState {
  return (ORIGINAL_STATES as readonly string[]).includes(state) ? (state as OriginalState) : 'FAILED';
}

/**
 * A UTC time as the original wrote its naive UTC datetimes (pydantic, and Python's isoformat()): no zone designator,
 * and six digits of fraction unless it is zero. Python before 3.11 cannot read a "Z" with fromisoformat().
 */
export function originalTimestamp(time: Date): string {
  const iso = time.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const millis = iso.slice(20, 23);
  return millis === '000' ? iso.slice(0, 19) : `${iso.slice(0, 19)}.${millis}000`;
}
