import { describe, expect, it } from 'vitest';
import {
  awaitsItsEnd,
  hasEnded,
  InvalidRunMove,
  journaledPhase,
  moveRun,
  type RunPhase,
} from '../worker-node/run-state.js';

const walk = (...phases: RunPhase[]) =>
  phases.slice(1).reduce<RunPhase>((phase, next) => moveRun(phase, next), phases[0]!);

describe("a run's phases", () => {
  it('go from admission to forgotten through a launch, a run, its end and its report', () => {
    expect(walk('admitted', 'launching', 'running', 'ending', 'reporting', 'reported', 'forgotten')).toBe('forgotten');
  });

  it('go straight to reported when the run never started: no cores, or a launch that failed', () => {
    expect(walk('admitted', 'ending', 'reported')).toBe('reported');
    expect(walk('admitted', 'launching', 'ending', 'reported')).toBe('reported');
  });

  it('go from admitted to running for a journaled run whose wrapper said its pid before a crash', () => {
    expect(moveRun('admitted', 'running')).toBe('running');
  });

  it('refuse every move the life of a run does not have', () => {
    for (const [from, to] of [
      ['running', 'launching'],
      ['running', 'reported'],
      ['reporting', 'running'],
      ['reported', 'ending'],
      ['forgotten', 'reported'],
      ['ending', 'ending'],
      ['admitted', 'forgotten'],
    ] as const) {
      expect(() => moveRun(from, to)).toThrow(InvalidRunMove);
    }
  });

  it('read from the journal: a journaled end is reported, a pid is running, else admitted', () => {
    expect(journaledPhase({ ended: true, pid: 12 })).toBe('reported');
    expect(journaledPhase({ pid: 12 })).toBe('running');
    expect(journaledPhase({})).toBe('admitted');
  });

  it('count a run as ended from its report on, and as awaiting its end until it is being ended', () => {
    const phases: RunPhase[] = ['admitted', 'launching', 'running', 'ending', 'reporting', 'reported', 'forgotten'];
    expect(phases.filter(hasEnded)).toEqual(['reporting', 'reported', 'forgotten']);
    expect(phases.filter(awaitsItsEnd)).toEqual(['admitted', 'launching', 'running']);
  });
});
