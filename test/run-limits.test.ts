import { describe, expect, it } from 'vitest';
import { limitKills, memoryPollDue, type LimitedRun } from '../worker-node/run-limits.js';

const MB = 2 ** 20;
const run = (overrides: Partial<LimitedRun> = {}): LimitedRun => ({
  key: '1-1',
  pid: 100,
  startedAt: 1_000_000,
  timeLimitSeconds: 60,
  memoryMb: 512,
  ...overrides,
});

describe("a run's limits", () => {
  it('end a run once its time limit is reached, to the millisecond, and not before', () => {
    expect(limitKills([run()], 1_059_999)).toEqual([]);
    expect(limitKills([run()], 1_060_000)).toEqual([{ key: '1-1', reason: 'TIMEOUT' }]);
  });

  it('never end a run without a time limit for its time', () => {
    expect(limitKills([run({ timeLimitSeconds: null })], 1e15)).toEqual([]);
  });

  it('end a run whose process group holds more than its memory, and not one at exactly its memory', () => {
    const now = 1_000_001;
    expect(limitKills([run()], now, new Map([[100, 512 * MB]]))).toEqual([]);
    expect(limitKills([run()], now, new Map([[100, 512 * MB + 1]]))).toEqual([{ key: '1-1', reason: 'OUT_OF_MEMORY' }]);
  });

  it('check memory only when it was measured, and count a group not seen as using none', () => {
    expect(limitKills([run()], 1_000_001)).toEqual([]);
    expect(limitKills([run()], 1_000_001, new Map([[999, 10_000 * MB]]))).toEqual([]);
  });

  it('end a run past both limits at once for its time', () => {
    expect(limitKills([run()], 1_060_000, new Map([[100, 1024 * MB]]))).toEqual([{ key: '1-1', reason: 'TIMEOUT' }]);
  });

  it('leave a run the daemon is ending already to its first reason', () => {
    expect(limitKills([run({ kill: 'CANCELLED' })], 1_060_000, new Map([[100, 1024 * MB]]))).toEqual([]);
  });

  it('judge each run on its own', () => {
    const runs = [
      run({ key: '1-1', pid: 100 }),
      run({ key: '2-1', pid: 200, startedAt: 1_050_000 }),
      run({ key: '3-1', pid: 300, startedAt: 1_050_000, memoryMb: 10 }),
    ];
    expect(limitKills(runs, 1_060_000, new Map([[300, 11 * MB]]))).toEqual([
      { key: '1-1', reason: 'TIMEOUT' },
      { key: '3-1', reason: 'OUT_OF_MEMORY' },
    ]);
  });

  it('end a run for memory where its cgroup counted an OOM kill, whatever its resident memory', () => {
    expect(limitKills([run({ oomKills: 1 })], 1_000_001)).toEqual([{ key: '1-1', reason: 'OUT_OF_MEMORY' }]);
    // The kernel holds it to its limit: the resident memory of its group is not what decides.
    expect(limitKills([run({ oomKills: 0 })], 1_000_001, new Map([[100, 1024 * MB]]))).toEqual([]);
  });

  it('measure memory once every poll interval', () => {
    expect(memoryPollDue(10_999, 10_000, 1000)).toBe(false);
    expect(memoryPollDue(11_000, 10_000, 1000)).toBe(true);
    expect(memoryPollDue(5, 0, 1000)).toBe(false);
  });
});
