/**
 * The real Unix users test/unix-users-setup.ts made (as root), looked up as a node looks them up: uid, primary gid,
 * home. When the run is not root there are none, and a suite that needs them skips, printing why (fails where
 * CONDUCTOR_REQUIRE_SERVICES=1, as CI sets).
 */
import { execFileSync } from 'node:child_process';
import { chownSync } from 'node:fs';
import { inject } from 'vitest';

export interface UnixUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface UnixUsers {
  a: UnixUser;
  b: UnixUser;
  /** The supplementary group both are in: name and gid. */
  group: { name: string; gid: number };
}

export const NOT_ROOT_REASON =
  'not root: no Unix users can be made, and no daemon can switch to them (CI runs as root)';

/** The two users, or undefined (with the reason printed) when the run is not root. */
export function unixUsers(suite: string): UnixUsers | undefined {
  const names = inject('unixUsers');
  if (!names) {
    // CI runs as root and requires every suite, as it requires the servers.
    if (process.env.CONDUCTOR_REQUIRE_SERVICES === '1') throw new Error(`${suite}: ${NOT_ROOT_REASON}`);
    console.warn(`${suite} skipped: ${NOT_ROOT_REASON}`);
    return undefined;
  }
  return { a: lookUp(names.a), b: lookUp(names.b), group: { name: names.group, gid: groupId(names.group) } };
}

/** The user's passwd entry (getent(1), as getpwnam(3) reads it). */
export function lookUp(name: string): UnixUser {
  const [, , uid, gid, , home] = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim().split(':');
  return { name, uid: Number(uid), gid: Number(gid), home: home! };
}

function groupId(name: string): number {
  return Number(execFileSync('getent', ['group', name], { encoding: 'utf8' }).split(':')[2]);
}

/** Gives a path to a user (and their primary group), as a job's files are. */
export function chownTo(path: string, user: UnixUser): void {
  chownSync(path, user.uid, user.gid);
}
