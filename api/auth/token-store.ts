import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { apiTokens, type TokenKind, type TokenRow } from '../../shared/db/schema.js';
import { generateToken, hashToken } from '../../shared/auth/token.js';
import { TokenNotFound, ValidationFailed } from '../http/errors.js';

export interface NewToken {
  name: string;
  kind: TokenKind;
  account?: string | undefined;
  /** A user token's Unix user. */
  user?: string | undefined;
  nodeName?: string | undefined;
  /** A node token's grant: the partitions its node may serve. */
  partitions?: readonly string[] | undefined;
}

/** Creates a token; the plain text is in the answer and nowhere else. */
export async function createToken(db: Database, spec: NewToken): Promise<{ row: TokenRow; token: string }> {
  const token = generateToken(spec.kind);
  const [row] = await db
    .insert(apiTokens)
    .values({
      name: spec.name,
      kind: spec.kind,
      account: spec.kind === 'user' ? spec.account : null,
      user: spec.kind === 'user' ? spec.user : null,
      nodeName: spec.kind === 'node' ? spec.nodeName : null,
      partitions: spec.kind === 'node' ? [...new Set(spec.partitions)].sort() : null,
      hash: await hashToken(token),
    })
    .returning();
  return { row: row!, token };
}

export async function findActiveTokenByHash(db: Database, hash: string): Promise<TokenRow | undefined> {
  const [row] = await db
    .select()
    .from(apiTokens)
    .where(and(eq(apiTokens.hash, hash), isNull(apiTokens.revokedAt)));
  return row;
}

export async function listTokens(db: Database): Promise<TokenRow[]> {
  return db.select().from(apiTokens).orderBy(desc(apiTokens.id));
}

/**
 * Sets a user token's Unix user (its later jobs run as it; jobs already submitted keep theirs).
 * @throws TokenNotFound no such token
 * @throws ValidationFailed (on `user`) the token is an admin or node token: only a user token has one
 */
export async function setTokenUser(db: Database, id: number, user: string): Promise<TokenRow> {
  const [row] = await db
    .update(apiTokens)
    .set({ user })
    .where(and(eq(apiTokens.id, id), eq(apiTokens.kind, 'user')))
    .returning();
  if (row) return row;
  const [other] = await db.select({ kind: apiTokens.kind }).from(apiTokens).where(eq(apiTokens.id, id));
  if (!other) throw new TokenNotFound(String(id));
  throw new ValidationFailed([
    { field: 'user', message: `token ${id} is a ${other.kind} token: only a user token has a Unix user` },
  ]);
}

/** Revoking twice keeps the first revocation time. */
export async function revokeToken(db: Database, id: number): Promise<TokenRow> {
  const [row] = await db
    .update(apiTokens)
    .set({ revokedAt: sql`coalesce(${apiTokens.revokedAt}, now())` })
    .where(eq(apiTokens.id, id))
    .returning();
  if (!row) throw new TokenNotFound(String(id));
  return row;
}
