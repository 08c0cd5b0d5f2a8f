/** When a run gets its job's warning signal (worker-node/run-warnings.ts, sbatch --signal): a pure decision. */
import { describe, expect, it } from 'vitest';
import { warningsDue, type WarnedRun } from '../worker-node/run-warnings.js';

const run = (overrides: Partial<WarnedRun> = {}): WarnedRun => ({
  key: '1-1',
  startedAt: 1_000_000,
  timeLimitSeconds: 600,
  warnSeconds: 60,
  warned: false,
  ...overrides,
});

describe("a run's warning signal", () => {
  it('is due its seconds before the time limit, counted from the start, to the millisecond, and not before', () => {
    expect(warningsDue([run()], 1_539_999)).toEqual([]);
    expect(warningsDue([run()], 1_540_000)).toEqual(['1-1']);
    expect(warningsDue([run()], 1_599_999)).toEqual(['1-1']);
  });

  it('is due at once when its seconds are not below the time limit (Slurm sends it as soon as it can)', () => {
    expect(warningsDue([run({ warnSeconds: 600 })], 1_000_000)).toEqual(['1-1']);
    expect(warningsDue([run({ warnSeconds: 65535 })], 1_000_000)).toEqual(['1-1']);
  });

  it('due at the start for the batch shell, waits until the shell catches or ignores it (its trap set), no longer', () => {
    const early = { warnSeconds: 600, batchHandles: false };
    expect(warningsDue([run(early)], 1_000_000)).toEqual([]);
    expect(warningsDue([run(early)], 1e15)).toEqual([]);
    expect(warningsDue([run({ ...early, batchHandles: true })], 1_000_000)).toEqual(['1-1']);
    // Due later than the start, it is sent then, handled or not, as sbatch sends it.
    expect(warningsDue([run({ batchHandles: false })], 1_540_000)).toEqual(['1-1']);
  });

  it('is due at the limit itself for @0', () => {
    expect(warningsDue([run({ warnSeconds: 0 })], 1_599_999)).toEqual([]);
    expect(warningsDue([run({ warnSeconds: 0 })], 1_600_000)).toEqual(['1-1']);
  });

  it('is never due without a time limit, or for a job that asked for none', () => {
    expect(warningsDue([run({ timeLimitSeconds: null })], 1e15)).toEqual([]);
    expect(warningsDue([run({ warnSeconds: undefined })], 1e15)).toEqual([]);
  });

  it('is due once: not for a run warned already, nor for one the daemon is ending', () => {
    expect(warningsDue([run({ warned: true })], 1_540_000)).toEqual([]);
    expect(warningsDue([run({ kill: 'CANCELLED' })], 1_540_000)).toEqual([]);
  });

  it('picks the due runs among others', () => {
    const runs = [run({ key: 'a' }), run({ key: 'b', startedAt: 2_000_000 }), run({ key: 'c', warnSeconds: 600 })];
    expect(warningsDue(runs, 1_540_000)).toEqual(['a', 'c']);
  });
});
