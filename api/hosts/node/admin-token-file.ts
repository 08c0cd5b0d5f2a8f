/**
 * The embedded default's admin token: made on first start and kept in a file only its owner can read, so that a
 * newcomer has a token without any setup, and the same one after a restart.
 */
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from '../../../shared/db/database.js';
import { hashToken } from '../../../shared/auth/token.js';
import { createToken, findActiveTokenByHash } from '../../auth/token-store.js';

export async function ensureAdminTokenFile(db: Database, dataDir: string): Promise<{ path: string; created: boolean }> {
  const path = join(dataDir, 'admin-token');
  const existing = readIfPresent(path);
  if (existing && (await findActiveTokenByHash(db, await hashToken(existing)))?.kind === 'admin') {
    return { path, created: false };
  }
  // First start, or the token was revoked or its database replaced: make a new one.
  const { token } = await createToken(db, { name: 'embedded-admin', kind: 'admin' });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${token}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
  return { path, created: true };
}

function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
