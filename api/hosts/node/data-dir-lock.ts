/**
 * One process per embedded data directory: PGlite has no locking of its own, and two writers would corrupt it.
 * proper-lockfile keeps the lock fresh while we run, so a lock left by a crashed process goes stale and is taken
 * over, and two processes racing for a stale lock cannot both win.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';

export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  mkdirSync(dataDir, { recursive: true });
  try {
    return await lockfile.lock(dataDir, {
      lockfilePath: join(dataDir, 'lock'),
      // Refreshed every 5 s; after 15 s without a refresh its owner is taken to be dead.
      stale: 15_000,
      update: 5_000,
      retries: 0,
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOCKED') {
      throw new Error(`${dataDir} is in use by another SCNS-Conductor process; stop it first`);
    }
    throw error;
  }
}
