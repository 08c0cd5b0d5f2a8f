/**
 * Tokens the Node host makes for itself and keeps in files only their owner can read: the admin token, so that a
 * newcomer has one without any setup (and the same one after a restart), and the local node's token.
 */
import { chmodSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../../../shared/db/database.js';
import { apiTokens } from '../../../shared/db/schema.js';
import { hashToken } from '../../../shared/auth/token.js';
import { createToken, findActiveTokenByHash, type NewToken } from '../../auth/token-store.js';

// The advisory lock namespace of the first admin token: any constant no other lock of this project uses.
const FIRST_ADMIN_LOCK = 12_011;

export async function ensureTokenFile(
  db: Database,
  path: string,
  spec: NewToken,
): Promise<{ path: string; token: string; created: boolean }> {
  const existing = readIfPresent(path);
  if (existing) {
    const row = await findActiveTokenByHash(db, await hashToken(existing));
    if (row?.kind === spec.kind && row.nodeName === (spec.nodeName ?? null) && sameGrant(row.partitions, spec)) {
      return { path, token: existing, created: false };
    }
  }
  // First start, or the token was revoked, its database replaced, its node renamed or its partitions changed: make a
  // new one.
  const { token } = await createToken(db, spec);
  writeTokenFile(path, token);
  return { path, token, created: true };
}

/**
 * A Postgres server's first start: when the database holds no active admin token (and the host was given no
 * CONDUCTOR_ADMIN_TOKEN), makes one and writes it to `path` (0600, its directory made 0700 when missing), so that
 * the first user has one without restarting. Two hosts starting at once on one database make one between them: the
 * check and the insert hold one transaction-scoped advisory lock, and the file is written before the commit, so a
 * token is in the database only when its file was written.
 * @returns the file and token when it made one; undefined when an admin token exists already
 * @throws TokenFileExists when `path` holds a file already (the embedded database's token, say): it is not replaced,
 *   and nothing is made
 * @throws the file system's error when the file cannot be written (nothing is then made)
 */
export async function ensureFirstAdminToken(
  db: Database,
  path: string,
): Promise<{ path: string; token: string } | undefined> {
  return db.transaction(async (tx) => {
    const db = tx as unknown as Database;
    await db.execute(sql`SELECT pg_advisory_xact_lock(${FIRST_ADMIN_LOCK})`);
    const [admin] = await db
      .select({ id: apiTokens.id })
      .from(apiTokens)
      .where(and(eq(apiTokens.kind, 'admin'), isNull(apiTokens.revokedAt)))
      .limit(1);
    if (admin) return undefined;
    const { token } = await createToken(db, { name: 'first-admin', kind: 'admin' });
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeTokenFile(path, token, { replace: false });
    return { path, token };
  });
}

/** The first admin token's file is there already: whose token it holds is unknown, so it is left alone. */
export class TokenFileExists extends Error {
  constructor(path: string) {
    super(
      `${path} exists already (the embedded database's admin token?): the database's first admin token is not ` +
        'written over it; move it away, or set CONDUCTOR_DATA_DIR or CONDUCTOR_ADMIN_TOKEN',
    );
  }
}

/**
 * Writes a token file whole (a reader never sees half of one), readable by its owner only. `replace: false` leaves
 * a file already at `path` as it is.
 * @throws TokenFileExists when `replace` is false and `path` exists
 */
function writeTokenFile(path: string, token: string, { replace = true } = {}): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${token}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  if (replace) return renameSync(temporary, path);
  // A link, unlike a rename, fails rather than replace what is there.
  try {
    linkSync(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new TokenFileExists(path);
    throw error;
  } finally {
    rmSync(temporary, { force: true });
  }
}

function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** A node token's partitions are what its node serves now (order and repeats aside). */
function sameGrant(partitions: string[] | null, spec: NewToken): boolean {
  const wanted = spec.partitions ? [...new Set(spec.partitions)].sort() : null;
  return JSON.stringify(partitions) === JSON.stringify(wanted);
}
