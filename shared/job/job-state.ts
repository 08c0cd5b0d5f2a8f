/** Job states and the one table of transitions between them. See glossary.md for the words. */

export const JOB_STATES = [
  'PENDING',
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'OUT_OF_MEMORY',
  'NODE_FAIL',
] as const;

export type JobState = (typeof JOB_STATES)[number];

/**
 * Every allowed transition, and nothing else. RUNNING → PENDING is the requeue of a job lost with its node (it starts
 * again as a new attempt). A terminal state has no way out.
 */
export const ALLOWED_TRANSITIONS: Readonly<Record<JobState, readonly JobState[]>> = {
  PENDING: ['RUNNING', 'CANCELLED'],
  RUNNING: ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL', 'PENDING'],
  COMPLETED: [],
  FAILED: [],
  CANCELLED: [],
  TIMEOUT: [],
  OUT_OF_MEMORY: [],
  NODE_FAIL: [],
};

export function isTransitionAllowed(from: JobState, to: JobState): boolean {
  return ALLOWED_TRANSITIONS[from].includes(to);
}

/** The states a job may be in for a transition to `to` to apply: the `state = ANY(...)` of the conditional write. */
export function statesLeadingTo(to: JobState): JobState[] {
  return JOB_STATES.filter((from) => isTransitionAllowed(from, to));
}

export function isTerminal(state: JobState): boolean {
  return ALLOWED_TRANSITIONS[state].length === 0;
}
