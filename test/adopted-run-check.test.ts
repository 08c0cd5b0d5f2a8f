import { describe, expect, it } from 'vitest';
import { checkAdoptedRun, GONE_WITHOUT_STATUS_MS } from '../worker-node/adopted-run-check.js';

describe('an adopted run', () => {
  it('has ended once its status file is there, whether or not its process is', () => {
    expect(checkAdoptedRun({ statusWritten: true, alive: false }, undefined, 0)).toEqual({
      ended: true,
      goneSince: undefined,
    });
    expect(checkAdoptedRun({ statusWritten: true, alive: true }, undefined, 0).ended).toBe(true);
  });

  it('runs on while its process is there', () => {
    expect(checkAdoptedRun({ statusWritten: false, alive: true }, undefined, 5000)).toEqual({
      ended: false,
      goneSince: undefined,
    });
  });

  it('has ended once its process has been gone without a status file for long enough, and not before', () => {
    const gone = { statusWritten: false, alive: false };
    const first = checkAdoptedRun(gone, undefined, 10_000);
    expect(first).toEqual({ ended: false, goneSince: 10_000 });
    expect(checkAdoptedRun(gone, first.goneSince, 10_000 + GONE_WITHOUT_STATUS_MS - 1)).toEqual({
      ended: false,
      goneSince: 10_000,
    });
    expect(checkAdoptedRun(gone, first.goneSince, 10_000 + GONE_WITHOUT_STATUS_MS)).toEqual({
      ended: true,
      goneSince: 10_000,
    });
  });

  it('gives a wrapper that is only slow its moment: the status file coming late still ends it by its status', () => {
    const since = checkAdoptedRun({ statusWritten: false, alive: false }, undefined, 0).goneSince;
    expect(checkAdoptedRun({ statusWritten: true, alive: false }, since, 500)).toEqual({ ended: true, goneSince: 0 });
  });
});
