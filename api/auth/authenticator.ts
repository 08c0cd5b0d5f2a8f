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

// Enough for every token of a large site; past it the cache starts over rather than grow without bound.
const MAX_CACHED_TOKENS = 10_000;

/** Turns a bearer token into a Principal, with a short cache so that a submit costs no extra query. */
export class Authenticator {
  readonly #cache = new Map<string, { principal: Principal; expiresAt: number }>();
  readonly #adminHash: Promise<string | undefined>;

  constructor(
    private readonly db: Database,
    private readonly options: AuthenticatorOptions,
  ) {
    this.#adminHash = options.adminToken ? hashToken(options.adminToken) : Promise.resolve(undefined);
  }

  async authenticate(authorization: string | undefined): Promise<Principal> {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    if (!token) throw new Unauthenticated('Send a token as "Authorization: Bearer <token>"');
    const hash = await hashToken(token);
    if (hash === (await this.#adminHash)) return { kind: 'admin', tokenId: null, name: 'bootstrap' };
    const cached = this.#cache.get(hash);
    if (cached && cached.expiresAt > this.options.now()) return cached.principal;
    const row = await findActiveTokenByHash(this.db, hash);
    if (!row) {
      this.#cache.delete(hash);
      throw new Unauthenticated('The token is unknown or revoked');
    }
    if (this.#cache.size >= MAX_CACHED_TOKENS) this.#cache.clear();
    const principal = toPrincipal(row);
    this.#cache.set(hash, { principal, expiresAt: this.options.now() + this.options.cacheMs });
    return principal;
  }

  /** Drops a revoked token from the cache, so that this process refuses it from now on. */
  forget(tokenId: number): void {
    for (const [hash, entry] of this.#cache) {
      if (entry.principal.tokenId === tokenId) this.#cache.delete(hash);
    }
  }
}

function toPrincipal(row: TokenRow): Principal {
  switch (row.kind) {
    case 'admin':
      return { kind: 'admin', tokenId: row.id, name: row.name };
    case 'user':
      return { kind: 'user', tokenId: row.id, name: row.name, account: row.account! };
    case 'node':
      return { kind: 'node', tokenId: row.id, name: row.name, nodeName: row.nodeName! };
  }
}
