/**
 * The embedded data directory's lock (issue 12, item 8): a live holder keeps it; a holder killed with SIGKILL leaves
 * it behind, and the next host takes it over at once (its pid is gone), not after proper-lockfile's stale time.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lockDataDir } from '../api/hosts/node/data-dir-lock.js';
import { startChildServer, type ChildServer } from './helpers/child-server.js';

const ROOT = new URL('..', import.meta.url).pathname;

describe('the data directory lock', () => {
  const holders: ChildServer[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(holders.splice(0).map((holder) => holder.stop()));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  const hold = async (dataDir: string) => {
    const holder = await startChildServer(
      'lock holder',
      'test/fixtures/data-dir-holder.ts',
      ROOT,
      { PATH: process.env.PATH },
      /holding (\S+)/,
      [dataDir],
    );
    holders.push(holder);
    return holder;
  };

  it('is refused while its holder lives, and taken over at once when the holder was killed', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'conductor-lock-')), 'data');
    dirs.push(join(dataDir, '..'));
    const holder = await hold(dataDir);
    expect(statSync(dataDir).mode & 0o777).toBe(process.getuid?.() === 0 ? 0o711 : 0o700);
    await expect(lockDataDir(dataDir)).rejects.toThrow(/is in use by another SCNS-Conductor process/);
    holder.kill('SIGKILL');
    await holder.exited;
    // Within proper-lockfile's stale time (15 s): only the dead pid lets it through.
    const unlock = await lockDataDir(dataDir);
    await unlock();
  });
});
