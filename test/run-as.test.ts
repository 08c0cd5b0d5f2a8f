/** Who a node's jobs run as (worker-node/run-as.ts): the decision alone, for a root daemon and for one that is not. */
import { describe, expect, it } from 'vitest';
import { RunAs } from '../worker-node/run-as.js';

/** The decision of a daemon running as root (uid 0) or as carol (uid 1500). */
const runAs = (root: boolean, allowRootJobs: boolean, login = root ? 'root' : 'carol') =>
  new RunAs({ minUid: 1000, allowRootJobs }, { uid: root ? 0 : 1500, login });

describe('who runs a job', () => {
  it('a root daemon runs each owner as that owner, and jobs naming no user as root only where allowed', () => {
    const allowing = runAs(true, true);
    expect(allowing.runsAs).toEqual({ any_user: true, users: [], unnamed: true });
    expect(allowing.identity('alice')).toEqual({ user: 'alice' });
    expect(allowing.identity(null)).toEqual({ user: undefined });
    expect(allowing.describe()).toMatch(
      /jobs run as their owners \(uid 1000 or above\); jobs naming no user .* as root/,
    );

    const strict = runAs(true, false);
    expect(strict.runsAs).toEqual({ any_user: true, users: [], unnamed: false });
    expect(strict.identity(null)).toEqual({
      refused: 'it names no user, and this node does not run root jobs (CONDUCTOR_ALLOW_ROOT_JOBS)',
    });
    expect(strict.describe()).toMatch(/jobs naming no user are not run/);
  });

  it('a daemon that is not root runs only its own user and unnamed jobs, as itself, and refuses the rest', () => {
    const single = runAs(false, false);
    expect(single.runsAs).toEqual({ any_user: false, users: ['carol'], unnamed: true });
    expect(single.identity('carol')).toEqual({ user: undefined });
    expect(single.identity(null)).toEqual({ user: undefined });
    expect(single.identity('alice')).toEqual({
      refused: 'this node runs jobs only as carol (its daemon is not root), not as alice',
    });
    expect(single.describe()).toMatch(/^single-user mode .* they can reach everything carol can$/);
  });

  it('a login no job may name is no owner: a single-user node then runs only jobs naming no user', () => {
    expect(runAs(false, false, 'Not A Login').runsAs).toEqual({ any_user: false, users: [], unnamed: true });
  });
});
