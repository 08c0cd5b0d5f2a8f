/**
 * How this daemon runs jobs, as its claims and heartbeats say it (protocol 3, shared/protocol/runs-as.ts). Today every
 * job runs as the daemon's own Unix user, whoever owns it, so the daemon says only what that makes true: it runs jobs
 * naming no user, and those of its own user when that is a login name a job may have (not root). A root daemon that
 * starts each job as its owner says `any_user` instead (issue 12, item 2: that change replaces this function).
 */
import { userInfo } from 'node:os';
import { UNIX_USER_PATTERN } from '../shared/names.js';
import type { RunsAs } from '../shared/protocol/runs-as.js';

export function ownRunsAs(login: string = userInfo().username): RunsAs {
  const own = UNIX_USER_PATTERN.test(login) && login !== 'root';
  return { any_user: false, users: own ? [login] : [], unnamed: true };
}
