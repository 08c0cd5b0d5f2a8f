/** The retry decision (api/jobs/retry-decision.ts) alone: each end's cause, and what a policy makes of it. */
import { describe, expect, it } from 'vitest';
import { decideRetry, endCause, raisedMemory, type EndedRun } from '../api/jobs/retry-decision.js';
import { DEFAULT_RETRY_POLICY, effectiveRetryPolicy } from '../shared/job/retry-policy.js';
import type { RunOutcome } from '../shared/protocol/events.js';

const outcome = (fields: Partial<RunOutcome> & Pick<RunOutcome, 'state'>): RunOutcome => ({
  exit_status: null,
  exit_signal: null,
  error_msg: null,
  ...fields,
});

describe('the cause of a run’s end', () => {
  it.each([
    [outcome({ state: 'NODE_FAIL', exit_signal: 9 }), { class: 'node_fail' }],
    [outcome({ state: 'FAILED', error_msg: 'cannot start on n1: fork: No memory' }), { class: 'node_launch_failed' }],
    [outcome({ state: 'TIMEOUT', exit_signal: 15 }), { class: 'timeout' }],
    [outcome({ state: 'OUT_OF_MEMORY', exit_signal: 9 }), { class: 'oom' }],
    [outcome({ state: 'FAILED', exit_status: 75 }), { exitCode: 75 }],
  ])('%j is %j', (ended, cause) => {
    expect(endCause(ended)).toEqual(cause);
  });

  it.each([
    // The job's own launch failure: FAILED with exit status 0 (worker-node/job-ending.ts).
    outcome({ state: 'FAILED', exit_status: 0, error_msg: 'cannot start on n1: cannot chdir' }),
    // A signal, whatever the status; an outcome nobody could tell; a lost wrapper.
    outcome({ state: 'FAILED', exit_status: 75, exit_signal: 9 }),
    outcome({ state: 'FAILED', error_msg: 'the job process ended without leaving its exit status' }),
    outcome({ state: 'FAILED', exit_signal: 9, error_msg: 'its wrapper was lost (killed while the job ran)' }),
    outcome({ state: 'COMPLETED', exit_status: 0 }),
    outcome({ state: 'CANCELLED', exit_signal: 15 }),
  ])('%j is retried by no policy', (ended) => {
    expect(endCause(ended)).toBeNull();
  });
});

describe('a retry decided', () => {
  const run = (fields: Partial<EndedRun> = {}): EndedRun => ({
    policy: DEFAULT_RETRY_POLICY,
    attempt: 1,
    memoryMb: 1000,
    memoryCapMb: 4000,
    outcome: outcome({ state: 'NODE_FAIL', error_msg: 'node n1 lost' }),
    ...fields,
  });

  it('retries what its policy names, until its attempts are used up', () => {
    expect(decideRetry(run())).toEqual({
      reason: 'node n1 lost: retried (node_fail) as attempt 2 of 6',
      backoffSeconds: 0,
      memoryMb: 1000,
    });
    expect(decideRetry(run({ attempt: 5 }))).not.toBeNull();
    expect(decideRetry(run({ attempt: 6 }))).toBeNull();
    expect(decideRetry(run({ policy: null }))).toBeNull();
    expect(decideRetry(run({ outcome: outcome({ state: 'TIMEOUT' }) }))).toBeNull();
  });

  it('requeue false is no policy; a body policy replaces the defaults it names', () => {
    expect(effectiveRetryPolicy(false, undefined)).toBeNull();
    expect(effectiveRetryPolicy(undefined, undefined)).toEqual(DEFAULT_RETRY_POLICY);
    const policy = effectiveRetryPolicy(true, { on: ['oom'], backoff_seconds: 30, oom_memory_factor: 1.5 })!;
    expect(decideRetry(run({ policy }))).toBeNull();
    expect(decideRetry(run({ policy, outcome: outcome({ state: 'OUT_OF_MEMORY', error_msg: 'over' }) }))).toEqual({
      reason: 'over: retried (oom) as attempt 2 of 6, after 30 s, with 1500 MB of memory (was 1000 MB)',
      backoffSeconds: 30,
      memoryMb: 1500,
    });
  });

  it('raises memory by the factor, rounded up, at most the cap, never down', () => {
    expect(raisedMemory({ memoryMb: 1001, memoryCapMb: 4000 }, 1.5)).toBe(1502);
    expect(raisedMemory({ memoryMb: 3000, memoryCapMb: 4000 }, 2)).toBe(4000);
    expect(raisedMemory({ memoryMb: 5000, memoryCapMb: 4000 }, 2)).toBe(5000);
    expect(raisedMemory({ memoryMb: 1000, memoryCapMb: null }, 2)).toBe(1000);
    expect(raisedMemory({ memoryMb: 1000, memoryCapMb: 4000 }, 1)).toBe(1000);
  });
});
