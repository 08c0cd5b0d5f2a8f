/**
 * The node's own directories, out of its jobs' reach: on a root daemon a job runs as its owner, and must not read the
 * journal (every job's script and environment), the run directories (scripts, pid and status files), the shipper's
 * offsets or the core records. Each is made 0700 and owned by the daemon's user; one found with a wider mode is
 * narrowed at start-up, and one owned by someone else, or that is a symbolic link, is refused: whoever owns it could
 * read or plant what the daemon trusts. Only the node's directory itself and its `work` directory (where jobs naming
 * no working directory get one of their own) may be passed through by others (0711), not listed.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';

export const PRIVATE = 0o700;
/** Others may pass through to a path they know (their own job's directory), not list or read it. */
export const PASSABLE = 0o711;

/** A node directory is not the daemon's own, or not a directory: the daemon does not start on it. */
export class UnsafeDirectory extends Error {}

/**
 * Makes `path` (and its missing parents) with exactly `mode`, or checks and narrows the one there.
 * @returns what it changed, for the start-up log; undefined when nothing
 * @throws UnsafeDirectory when it is a symbolic link, not a directory, or another user's
 */
export function ensureDirectory(path: string, mode: number): string | undefined {
  mkdirSync(path, { recursive: true, mode });
  const found = lstatSync(path);
  if (!found.isDirectory()) throw new UnsafeDirectory(`${path} is not a directory (a symbolic link is not taken)`);
  const uid = process.getuid?.();
  if (uid !== undefined && found.uid !== uid) {
    throw new UnsafeDirectory(`${path} belongs to uid ${found.uid}, not to this daemon's user (uid ${uid})`);
  }
  const had = found.mode & 0o7777;
  if (had === mode) return undefined;
  chmodSync(path, mode);
  return `${path}: mode ${had.toString(8)} made ${mode.toString(8)}`;
}

/**
 * The first directory on the way to `path` (from the root down) that others may not pass through (no o+x): where a
 * job of another user, given a directory below `path`, is stopped. Undefined when the whole way is passable.
 */
export function unpassableAncestor(path: string): string | undefined {
  const parts = resolve(path).split(sep).filter(Boolean);
  for (let depth = 0; depth <= parts.length; depth++) {
    const dir = sep + parts.slice(0, depth).join(sep);
    if ((statSync(dir).mode & 0o001) === 0) return dir;
  }
  return undefined;
}

/**
 * Checks that programs can run from `dir`: each job's script is executed from its run directory there (the kernel
 * reads its `#!` line), which a filesystem mounted `noexec` refuses, job after job. Runs a two-line script once.
 * @throws UnsafeDirectory naming the directory when the kernel refuses to run it
 */
export function assertExecutable(dir: string): void {
  const probe = join(dir, '.exec-check');
  writeFileSync(probe, '#!/bin/sh\nexit 0\n', { mode: 0o700 });
  try {
    const ran = spawnSync(probe, [], { stdio: 'ignore' });
    const code = (ran.error as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'EACCES' || code === 'EPERM') {
      throw new UnsafeDirectory(
        `programs cannot run from ${dir} (${code}: a filesystem mounted noexec?), and each job's script runs from ` +
          `there: choose a CONDUCTOR_NODE_DIR on another filesystem`,
      );
    }
  } finally {
    rmSync(probe, { force: true });
  }
}
