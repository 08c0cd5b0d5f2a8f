import { describe, expect, it } from 'vitest';
import type { NodeJob } from '../shared/protocol/confirm.js';
import {
  DAEMON_LOST_WRAPPER_MESSAGE,
  finishedEvent,
  jobEnding,
  WRAPPER_LOST_MESSAGE,
} from '../worker-node/job-ending.js';

const limits = { timeLimitSeconds: 60, memoryMb: 512 };
const SIGTERM = 15;

describe("a run's ending", () => {
  it("is the daemon's reason for ending it, whatever the process did on the signal", () => {
    const exit = { exitStatus: 0, signal: null };
    expect(jobEnding(exit, 'CANCELLED', limits)).toMatchObject({ state: 'CANCELLED', exit_status: 0 });
    expect(jobEnding({ exitStatus: null, signal: SIGTERM }, 'TIMEOUT', limits)).toEqual({
      state: 'TIMEOUT',
      exit_status: null,
      exit_signal: SIGTERM,
      error_msg: 'time limit of 60 s reached',
    });
    expect(jobEnding(undefined, 'OUT_OF_MEMORY', limits)).toMatchObject({
      state: 'OUT_OF_MEMORY',
      error_msg: 'used more than its 512 MB of memory',
    });
  });

  it('is FAILED, saying so, when its wrapper was lost: a job-side failure', () => {
    expect(jobEnding(undefined, 'WRAPPER_LOST', limits)).toEqual({
      state: 'FAILED',
      exit_status: null,
      exit_signal: null,
      error_msg: WRAPPER_LOST_MESSAGE,
    });
    expect(WRAPPER_LOST_MESSAGE).toMatch(/wrapper was lost/);
  });

  it('is NODE_FAIL, saying so, when its wrapper was lost with the daemon: the node’s failure', () => {
    expect(jobEnding(undefined, 'DAEMON_LOST_WRAPPER', limits)).toEqual({
      state: 'NODE_FAIL',
      exit_status: null,
      exit_signal: null,
      error_msg: DAEMON_LOST_WRAPPER_MESSAGE,
    });
  });

  it('is otherwise COMPLETED on status 0, and FAILED on any other status, a signal, or no status at all', () => {
    expect(jobEnding({ exitStatus: 0, signal: null }, undefined, limits).state).toBe('COMPLETED');
    expect(jobEnding({ exitStatus: 3, signal: null }, undefined, limits)).toMatchObject({
      state: 'FAILED',
      error_msg: 'exit status 3',
    });
    expect(jobEnding({ exitStatus: null, signal: 9 }, undefined, limits).error_msg).toBe('killed by signal 9');
    expect(jobEnding(undefined, undefined, limits).error_msg).toBe(
      'the job process ended without leaving its exit status',
    );
  });
});

describe('the finished event', () => {
  const job = { time_limit_seconds: 60, memory_mb: 512 } as NodeJob;
  const record = { jobId: 7, attempt: 2, job };

  it('tells the outcome of the run', () => {
    expect(finishedEvent({ ...record, kill: 'TIMEOUT' }, { exitStatus: null, signal: SIGTERM })).toEqual({
      kind: 'finished',
      job_id: '7',
      attempt: 2,
      state: 'TIMEOUT',
      exit_status: null,
      exit_signal: SIGTERM,
      error_msg: 'time limit of 60 s reached',
    });
  });

  it('tells why a run could not start', () => {
    expect(finishedEvent({ ...record, launchError: 'cannot start: no bash' }, undefined)).toMatchObject({
      state: 'FAILED',
      error_msg: 'cannot start: no bash',
    });
  });

  it("gives a job's own launch failure exit code 0:0 (status 0, no signal), a node's fault none", () => {
    const own = finishedEvent(
      { ...record, launchError: 'cannot open output /proc/x', launchFailedBy: 'job' },
      undefined,
    );
    expect(own).toMatchObject({ state: 'FAILED', exit_status: 0, exit_signal: null });
    const node = finishedEvent({ ...record, launchError: 'not enough free cores' }, undefined);
    expect(node).toMatchObject({ state: 'FAILED', exit_status: null, exit_signal: null });
  });

  it('is not made for a run the API asked to stop: the API has ended it already', () => {
    expect(finishedEvent({ ...record, kill: 'STOPPED' }, { exitStatus: null, signal: SIGTERM })).toBeUndefined();
  });
});
