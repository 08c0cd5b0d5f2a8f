/**
 * Whose a new job is (issue 12, item 1): the Unix login it runs as. A user token's job is always its token's user's;
 * an admin may name any user but root (as root may `sbatch --uid`, sbatch(1)), or none: the job then runs as root
 * where its node allows root jobs. The body's `user` was validated already (shared/names.ts, unixUser: never root).
 */
import type { Principal } from '../auth/principal.js';
import { Forbidden, TokenHasNoUser } from '../http/errors.js';

/**
 * The job's owner, or null for an admin's job naming none.
 * @throws TokenHasNoUser a user token stored before owners whose name was no login name, until an admin sets one
 * @throws Forbidden a user token's body naming another user (the field `job.user`)
 */
export function jobOwner(principal: Principal, named: string | undefined): string | null {
  if (principal.kind !== 'user') return named ?? null;
  if (principal.user === null) throw new TokenHasNoUser(principal.tokenId);
  if (named !== undefined && named !== principal.user) {
    throw new Forbidden(`job.user: this token's jobs run as "${principal.user}" only`);
  }
  return principal.user;
}
