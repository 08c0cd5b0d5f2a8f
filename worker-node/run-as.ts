/**
 * Whose identity a node's jobs take, as slurmd's: a daemon running as root starts each job as its owner (the launcher
 * drops the job's privileges, job-launcher.pl), refusing owners below CONDUCTOR_MIN_UID, and runs a job that names no
 * user as root only where CONDUCTOR_ALLOW_ROOT_JOBS allows. A daemon that is not root cannot switch users: it runs in
 * single-user mode, only its own user's jobs and jobs naming no user, all as itself. What the node can run is told to
 * the API as `runs_as` (with each heartbeat and claim), so that it hands the node nothing else; a job that slips
 * through anyway is refused at launch, never run as someone else.
 */
import { userInfo } from 'node:os';
import { UNIX_USER_PATTERN } from '../shared/names.js';
import type { RunsAs } from '../shared/protocol/runs-as.js';

export interface RunAsPolicy {
  /** The lowest uid a job may take on a root daemon. */
  minUid: number;
  /** Whether a root daemon runs jobs naming no user, as root. */
  allowRootJobs: boolean;
}

/** The launch of a job: as `user` (undefined: as the daemon itself), or refused, for the reason given. */
export type LaunchIdentity = { user: string | undefined } | { refused: string };

export class RunAs {
  readonly root: boolean;
  /** The daemon's own login (its uid's when the password file has no name for it). */
  readonly login: string;

  /** `self`: the daemon's own uid and login, this process's unless given. */
  constructor(
    readonly policy: RunAsPolicy,
    self: { uid: number; login: string } = currentUser(),
  ) {
    this.root = self.uid === 0;
    this.login = self.login;
  }

  get runsAs(): RunsAs {
    if (this.root) return { any_user: true, users: [], unnamed: this.policy.allowRootJobs };
    // A login no job may name (the API's pattern) is no owner's: only jobs naming no user come here then.
    return { any_user: false, users: UNIX_USER_PATTERN.test(this.login) ? [this.login] : [], unnamed: true };
  }

  /** Who a job of this owner (null: it names none) runs as here. */
  identity(user: string | null): LaunchIdentity {
    if (this.root) {
      if (user !== null) return { user };
      if (this.policy.allowRootJobs) return { user: undefined };
      return { refused: 'it names no user, and this node does not run root jobs (CONDUCTOR_ALLOW_ROOT_JOBS)' };
    }
    if (user === null || user === this.login) return { user: undefined };
    return { refused: `this node runs jobs only as ${this.login} (its daemon is not root), not as ${user}` };
  }

  /** The start-up line that says who the node's jobs run as. */
  describe(): string {
    if (this.root) {
      const unnamed = this.policy.allowRootJobs
        ? "jobs naming no user (an admin token's) run as root (CONDUCTOR_ALLOW_ROOT_JOBS)"
        : 'jobs naming no user are not run (CONDUCTOR_ALLOW_ROOT_JOBS is off)';
      return `jobs run as their owners (uid ${this.policy.minUid} or above); ${unnamed}`;
    }
    return (
      `single-user mode (the daemon is not root): only ${this.login}'s jobs and jobs naming no user run, all as ` +
      `${this.login}, and they can reach everything ${this.login} can`
    );
  }
}

function currentUser(): { uid: number; login: string } {
  const uid = process.getuid?.() ?? -1;
  try {
    return { uid, login: userInfo().username };
  } catch {
    // A container's uid may have no entry in its password file.
    return { uid, login: process.env.USER ?? String(uid) };
  }
}

/** A job's owner: null when it names none, or when it was journaled by a daemon from before owners. */
export function ownerOf(job: { user?: string | null }): string | null {
  return job.user ?? null;
}
