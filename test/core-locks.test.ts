/**
 * The machine-wide core records are private to the daemons' user (issue 12, item 8): the directory is made 0700 (a
 * wider one narrowed), another user's is refused, and a record is never read through a symbolic link.
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CoresUnavailable, lockCores } from '../worker-node/core-locks.js';
import { UnsafeDirectory } from '../worker-node/private-dirs.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function coreDir(): string {
  const root = mkdtempSync(join(tmpdir(), 'conductor-cores-'));
  dirs.push(root);
  return join(root, 'cores');
}

const lock = (dir: string) =>
  lockCores({
    dir,
    machineCores: 2,
    count: 1,
    required: [],
    node: 'n1',
    journalDir: '/nonexistent',
    journalHasLiveJobs: async () => false,
  });

describe('the core records directory', () => {
  it('is made 0700, and one found wider is narrowed', async () => {
    const made = coreDir();
    await (await lock(made)).release();
    expect(statSync(made).mode & 0o777).toBe(0o700);
    const wide = coreDir();
    mkdirSync(wide, { mode: 0o777 });
    chmodSync(wide, 0o777);
    await (await lock(wide)).release();
    expect(statSync(wide).mode & 0o777).toBe(0o700);
  });

  it.skipIf(process.getuid?.() !== 0)("refuses a directory of another user's (as root: nobody's)", async () => {
    const theirs = coreDir();
    mkdirSync(theirs, { mode: 0o700 });
    chownSync(theirs, 65534, 65534);
    await expect(lock(theirs)).rejects.toThrow(UnsafeDirectory);
  });

  it('refuses a directory that is a symbolic link', async () => {
    const real = coreDir();
    mkdirSync(real, { mode: 0o700 });
    const link = `${real}-link`;
    symlinkSync(real, link);
    await expect(lock(link)).rejects.toThrow(UnsafeDirectory);
  });

  it('never reads a record through a symbolic link', async () => {
    const dir = coreDir();
    mkdirSync(dir, { mode: 0o700 });
    // A record naming a live process of another node, reached through a link: followed, it would hold core 0.
    const planted = join(dir, '..', 'planted.json');
    writeFileSync(planted, JSON.stringify({ node: 'other', pid: process.pid, startTime: 0, journalDir: '/x' }));
    symlinkSync(planted, join(dir, 'core-0.json'));
    await expect(lock(dir)).rejects.toThrow(CoresUnavailable);
    await expect(lock(dir)).rejects.toThrow(/core-0.json is a symbolic link/);
  });
});
