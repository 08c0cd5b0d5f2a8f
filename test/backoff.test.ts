import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelay } from '../shared/backoff.js';

describe('the backoff', () => {
  it('doubles each pause from the shortest up to the longest', () => {
    const backoff = new Backoff({ minMs: 100, maxMs: 2000 });
    expect(Array.from({ length: 7 }, () => backoff.next())).toEqual([100, 200, 400, 800, 1600, 2000, 2000]);
  });

  it('starts over after a success', () => {
    const backoff = new Backoff({ minMs: 250, maxMs: 5000 });
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(250);
  });

  it('grows by the factor asked for', () => {
    expect([0, 1, 2, 3].map((failures) => backoffDelay(failures, { minMs: 10, maxMs: 1000, factor: 3 }))).toEqual([
      10, 30, 90, 270,
    ]);
  });

  it('holds a schedule whose shortest pause is its longest', () => {
    const backoff = new Backoff({ minMs: 60_000, maxMs: 60_000 });
    expect([backoff.next(), backoff.next()]).toEqual([60_000, 60_000]);
  });

  it('stays at the longest pause after very many failures, never Infinity or NaN', () => {
    expect(backoffDelay(10_000, { minMs: 100, maxMs: 30_000 })).toBe(30_000);
  });
});
