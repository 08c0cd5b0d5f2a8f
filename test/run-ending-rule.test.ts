import { describe, expect, it } from 'vitest';
import type { ProcessState } from '../worker-node/process-table.js';
import { runEnding, WRAPPER_GRACE_MS, type RunFacts } from '../worker-node/run-ending-rule.js';

const ok = { exitStatus: 0, signal: null };
const STATES: ProcessState[] = ['alive', 'zombie', 'gone'];

/** A run watched on a fake clock: each `see` is one look at it, `ms` after the last. */
function watched() {
  let now = 100_000;
  let goneSince: number | undefined;
  return {
    see(facts: RunFacts, ms = 0) {
      now += ms;
      const verdict = runEnding(facts, goneSince, now);
      goneSince = verdict.goneSince;
      return verdict.ending;
    },
  };
}

describe('the run ending rule', () => {
  it('ends a run from its status file, whatever its processes look like', () => {
    for (const job of STATES) {
      for (const wrapper of [...STATES, undefined]) {
        expect(watched().see({ status: ok, job, wrapper })).toEqual({ ended: true, exit: ok });
      }
    }
    const killed = { exitStatus: null, signal: 9 };
    expect(watched().see({ status: killed, job: 'gone', wrapper: 'gone' })).toEqual({ ended: true, exit: killed });
  });

  it('never ends a run whose wrapper lives, however long its job has been a zombie or gone (the finding of issue 13)', () => {
    for (const job of STATES) {
      const run = watched();
      for (let i = 0; i < 100; i++)
        expect(run.see({ status: undefined, job, wrapper: 'alive' }, 1000)).toEqual({ ended: false });
      // Its wrapper writes the status at last: ended by it.
      expect(run.see({ status: ok, job: 'gone', wrapper: 'alive' })).toEqual({ ended: true, exit: ok });
    }
  });

  it('gives a wrapper gone without a status the grace, and only then ends the run with its outcome unknown', () => {
    for (const wrapper of ['gone', 'zombie'] as const) {
      for (const job of STATES) {
        const run = watched();
        const seen = { status: undefined, job, wrapper };
        expect(run.see(seen)).toEqual({ ended: false });
        expect(run.see(seen, WRAPPER_GRACE_MS - 1)).toEqual({ ended: false });
        expect(run.see(seen, 1)).toEqual({ ended: true, exit: undefined, jobAlive: job === 'alive' });
      }
    }
  });

  it('counts the grace from the first look, not from each look', () => {
    const run = watched();
    const gone = { status: undefined, job: 'gone' as const, wrapper: 'gone' as const };
    expect(run.see(gone)).toEqual({ ended: false });
    for (let i = 0; i < 29; i++) expect(run.see(gone, WRAPPER_GRACE_MS / 30)).toEqual({ ended: false });
    expect(run.see(gone, WRAPPER_GRACE_MS / 30).ended).toBe(true);
  });

  it('ends a run by its status file written late, within the grace', () => {
    const run = watched();
    expect(run.see({ status: undefined, job: 'gone', wrapper: 'gone' })).toEqual({ ended: false });
    expect(run.see({ status: ok, job: 'gone', wrapper: 'gone' }, 10)).toEqual({ ended: true, exit: ok });
  });

  it('forgets a wrapper seen gone once it is seen alive: the grace starts again', () => {
    const run = watched();
    const gone = { status: undefined, job: 'alive' as const, wrapper: 'gone' as const };
    expect(run.see(gone)).toEqual({ ended: false });
    expect(run.see({ ...gone, wrapper: 'alive' }, WRAPPER_GRACE_MS - 1)).toEqual({ ended: false });
    expect(run.see(gone, 1)).toEqual({ ended: false });
    expect(run.see(gone, WRAPPER_GRACE_MS)).toEqual({ ended: true, exit: undefined, jobAlive: true });
  });

  it('watches the job in place of the wrapper for a record naming none: a zombie job is not gone', () => {
    const alive = watched();
    expect(alive.see({ status: undefined, job: 'alive', wrapper: undefined }, 60_000)).toEqual({ ended: false });
    const zombie = watched();
    for (let i = 0; i < 10; i++) {
      expect(zombie.see({ status: undefined, job: 'zombie', wrapper: undefined }, WRAPPER_GRACE_MS)).toEqual({
        ended: false,
      });
    }
    const gone = watched();
    const facts = { status: undefined, job: 'gone' as const, wrapper: undefined };
    expect(gone.see(facts)).toEqual({ ended: false });
    expect(gone.see(facts, WRAPPER_GRACE_MS - 1)).toEqual({ ended: false });
    expect(gone.see(facts, 1)).toEqual({ ended: true, exit: undefined, jobAlive: false });
  });
});
