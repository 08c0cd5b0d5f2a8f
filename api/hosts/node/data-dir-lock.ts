/**
 * One process per embedded data directory: PGlite has no locking of its own, and two writers would corrupt it.
 * proper-lockfile keeps the lock fresh while we run, so a lock left by a crashed process goes stale and is taken
 * over, and two processes racing for a stale lock cannot both win. Its owner's pid is kept beside it (`lock.pid`):
 * a lock whose owner is gone from this machine (kill -9) is taken over at once instead of after the stale time
 * (issue 12, item 8). The directory is private: 0700, or 0711 when we are root, so that the owners of the local node's
 * jobs can pass through it to their working directories in `node/work` (what is in it is made under a 077 umask:
 * nobody else can list it or open a thing in it).
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';

export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const mode = process.getuid?.() === 0 ? 0o711 : 0o700;
  mkdirSync(dataDir, { recursive: true, mode });
  // PGlite's files, the admin token, the log store, the local node's directory: the daemon's user's alone.
  if (statSync(dataDir).uid === process.getuid?.()) chmodSync(dataDir, mode);
  const lockPath = join(dataDir, 'lock');
  const pidPath = join(dataDir, 'lock.pid');
  let release: () => Promise<void>;
  try {
    release = await take(dataDir, lockPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    if (!takeOverFromTheDead(lockPath, pidPath)) {
      throw new Error(`${dataDir} is in use by another SCNS-Conductor process; stop it first`, { cause: error });
    }
    release = await take(dataDir, lockPath).catch((again: NodeJS.ErrnoException) => {
      // Another process took it over first.
      if (again.code === 'ELOCKED') throw new Error(`${dataDir} is in use by another SCNS-Conductor process`);
      throw again;
    });
  }
  writeAtomically(pidPath, `${process.pid}\n`);
  return async () => {
    rmSync(pidPath, { force: true });
    await release();
  };
}

function take(dataDir: string, lockPath: string): Promise<() => Promise<void>> {
  return lockfile.lock(dataDir, {
    lockfilePath: lockPath,
    // Refreshed every 5 s; after 15 s without a refresh its owner is taken to be dead.
    stale: 15_000,
    update: 5_000,
    retries: 0,
  });
}

/**
 * Removes a lock whose recorded owner is no longer running; answers whether it did. The lock directory is moved
 * aside first (rename is atomic: of two processes doing this, one moves it), then the pid read again: if it changed,
 * a live process took the lock meanwhile, and it is put back.
 */
function takeOverFromTheDead(lockPath: string, pidPath: string): boolean {
  const owner = readPid(pidPath);
  if (owner === undefined || isRunning(owner)) return false;
  const aside = `${lockPath}.dead-${process.pid}`;
  try {
    renameSync(lockPath, aside);
  } catch {
    return false;
  }
  if (readPid(pidPath) !== owner) {
    renameSync(aside, lockPath);
    return false;
  }
  rmSync(aside, { recursive: true, force: true });
  return true;
}

function readPid(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** kill(pid, 0) (kill(2)): ESRCH is "no such process"; EPERM is a process of another user, running. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function writeAtomically(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode: 0o600 });
  renameSync(temporary, path);
}
