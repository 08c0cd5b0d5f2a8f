/**
 * Tokens the embedded default makes for itself and keeps in files only their owner can read: the admin token, so
 * that a newcomer has one without any setup (and the same one after a restart), and the local node's token.
 */
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Database } from '../../../shared/db/database.js';
import { hashToken } from '../../../shared/auth/token.js';
import { createToken, findActiveTokenByHash, type NewToken } from '../../auth/token-store.js';

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
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${token}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
  return { path, token, created: true };
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
