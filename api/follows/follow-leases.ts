/**
 * How many `follow=true` streams each principal holds open across the whole deployment (issue 12, item 7). Counted in
 * the store every API process shares (Redis, or the Postgres database of the Postgres queue's hosts) as leases: a
 * stream holds one and renews it while it is open; a crashed API process or Worker isolate stops renewing, and its
 * slots are free once the lease lapses.
 */

/** The lease a stream holds, renewed every third of it: 60 s, so a crashed holder frees its slot within a minute. */
export const FOLLOW_LEASE_MS = 60_000;
export const DEFAULT_MAX_FOLLOWS = 16;

export type LeaseAnswer = { taken: true; leaseId: string } | { taken: false; retryAfterMs: number };

export interface FollowLeases {
  /**
   * Takes a lease of `leaseMs` for `holder` if it holds fewer than `max` live ones; else answers how long until its
   * soonest lease lapses (ms, at least 0): the earliest a slot is sure to be free if no stream ends sooner.
   */
  acquire(holder: string, max: number, leaseMs: number): Promise<LeaseAnswer>;
  /** Extends the lease to `leaseMs` from now; one that lapsed meanwhile is taken again (its stream is still open). */
  renew(holder: string, leaseId: string, leaseMs: number): Promise<void>;
  /** Gives the lease back; releasing one that is gone is no error. */
  release(holder: string, leaseId: string): Promise<void>;
}

/** A holder's name in the store: a token's row id, or the bootstrap admin token (CONDUCTOR_ADMIN_TOKEN). */
export function leaseHolder(principal: { kind: string; tokenId: number | null }): string {
  return principal.tokenId === null ? `${principal.kind}:bootstrap` : `token:${principal.tokenId}`;
}
