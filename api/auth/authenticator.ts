import type { Database } from '../../shared/db/database.js';
import { hashToken } from '../../shared/auth/token.js';
import type { TokenRow } from '../../shared/db/schema.js';
import { Unauthenticated } from '../http/errors.js';
import type { Principal } from './principal.js';
import { findActiveTokenByHash } from './token-store.js';

export interface AuthenticatorOptions {
  /** CONDUCTOR_ADMIN_TOKEN: accepted as an admin token without a row, to bootstrap a deployment. */
  adminToken?: string | undefined;
  /**
   * How long a token found in the database is trusted without asking again. Revoking through this same app takes
   * effect at once; through another API process, within this time.
   */
  cacheMs: number;
  now: () => number;
}

const BOOTSTRAP_ADMIN: Principal = { kind: 'admin', tokenId: null, name: 'bootstrap' };

// Enough for every token of a large site; past it the cache starts over rather than grow without bound.
const MAX_CACHED_TOKENS = 10_000;

/** Turns a bearer token into a Principal, with a short cache so that a submit costs no extra query. */
export class Authenticator {
  /** Token → who it is, until expiresAt. */
  readonly #cache = new Map<string, { principal: Principal; expiresAt: number }>();
  readonly #adminHash: Promise<string | undefined>;

  constructor(private readonly options: AuthenticatorOptions) {
    this.#adminHash = options.adminToken ? hashToken(options.adminToken) : Promise.resolve(undefined);
  }

  async authenticate(db: Database, authorization: string | undefined): Promise<Principal> {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    if (!token) throw new Unauthenticated('Send a token as "Authorization: Bearer <token>"');
    // Keyed by the token itself: a hit costs no hashing, which is a measurable part of a submit.
    const cached = this.#cache.get(token);
    if (cached && cached.expiresAt > this.options.now()) return cached.principal;
    const principal = await this.#lookUp(db, token);
    if (!principal) {
      this.#cache.delete(token);
      throw new Unauthenticated('The token is unknown or revoked');
    }
    if (this.#cache.size >= MAX_CACHED_TOKENS) this.#cache.clear();
    this.#cache.set(token, { principal, expiresAt: this.options.now() + this.options.cacheMs });
    return principal;
  }

  async #lookUp(db: Database, token: string): Promise<Principal | undefined> {
    const hash = await hashToken(token);
    if (hash === (await this.#adminHash)) return BOOTSTRAP_ADMIN;
    const row = await findActiveTokenByHash(db, hash);
    return row && toPrincipal(row);
  }

  /**
   * Looks the token up again, past the cache (and refreshes its entry): false once it was revoked. How an open
   * follow stream learns of a revoke made through another API process (issue 12, item 7).
   */
  async stillValid(db: Database, authorization: string | undefined): Promise<boolean> {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    if (!token) return false;
    this.#cache.delete(token);
    try {
      await this.authenticate(db, authorization);
      return true;
    } catch (error) {
      if (error instanceof Unauthenticated) return false;
      throw error;
    }
  }

  /** How long a token is trusted before it is looked up again, ms. */
  get cacheMs(): number {
    return this.options.cacheMs;
  }

  /** Drops a revoked token from the cache, so that this process refuses it from now on. */
  forget(tokenId: number): void {
    for (const [token, entry] of this.#cache) {
      if (entry.principal.tokenId === tokenId) this.#cache.delete(token);
    }
  }
}

function toPrincipal(row: TokenRow): Principal {
  switch (row.kind) {
    case 'admin':
      return { kind: 'admin', tokenId: row.id, name: row.name };
    case 'user':
      return { kind: 'user', tokenId: row.id, name: row.name, account: row.account!, user: row.user };
    case 'node':
      return { kind: 'node', tokenId: row.id, name: row.name, nodeName: row.nodeName!, partitions: row.partitions! };
  }
}
