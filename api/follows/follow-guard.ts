/**
 * What keeps a `follow=true` stream honest (issue 12, item 7): a lease on one of its principal's follow slots, taken
 * before the stream starts (429 with Retry-After when they are all held), renewed every third of the lease while it
 * is open and given back when it ends; and its token looked up again every CONDUCTOR_TOKEN_CACHE_SECONDS, ending the
 * stream once it was revoked, as a request would be refused.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../app-env.js';
import { TooManyFollows, Unauthenticated } from '../http/errors.js';
import type { Follow } from '../jobs/follow-output.js';
import { leaseHolder } from './follow-leases.js';
import { requestAuthorization } from '../auth/request-authorization.js';

// With no token cache at all (CONDUCTOR_TOKEN_CACHE_SECONDS=0) a stream still asks at most this often.
const MIN_RECHECK_MS = 250;

/** Takes a follow slot for the request's principal; answers the stream's upkeep and end. Throws TooManyFollows. */
export async function guardFollow(c: Context<AppEnv>): Promise<Required<Pick<Follow, 'upkeep' | 'onEnd'>>> {
  const { follows, authenticator } = c.var.services;
  const { db, principal } = c.var;
  const { authorization } = requestAuthorization(c);
  const holder = leaseHolder(principal);
  const lease = await follows.leases.acquire(holder, follows.max, follows.leaseMs);
  if (!lease.taken) throw new TooManyFollows(follows.max, Math.max(1, Math.ceil(lease.retryAfterMs / 1000)));
  return {
    upkeep: [
      {
        everyMs: Math.max(MIN_RECHECK_MS, authenticator.cacheMs),
        async run() {
          // A database that does not answer ends nothing: only a revoke does.
          const valid = await authenticator.stillValid(db, authorization).catch(() => true);
          if (!valid) throw new Unauthenticated('The token was revoked');
        },
      },
      {
        everyMs: follows.leaseMs / 3,
        // A store away for a moment is retried at the next third; the lease outlives two misses.
        run: () => follows.leases.renew(holder, lease.leaseId, follows.leaseMs).catch(() => {}),
      },
    ],
    onEnd: () => void follows.leases.release(holder, lease.leaseId).catch(() => {}),
  };
}
