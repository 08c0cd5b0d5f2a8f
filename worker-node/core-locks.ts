/**
 * Which machine cores a node daemon holds, so that two daemons on one machine never share a core. Each core has a
 * record in a machine-wide directory naming its owner: the node, the daemon process (pid and start time) and its
 * journal. A daemon takes its cores at start-up and keeps them while it or any of its jobs lives: a daemon that
 * crashed leaves jobs running on its cores, and they stay its own until it comes back (same node name) and re-adopts
 * them. A core is free when it has no record, or its owner's daemon is gone and no job in its journal is alive.
 * Records are read and written under one directory-wide lock (proper-lockfile), so two starting daemons cannot both
 * take a core. The directory is private to the daemons' user (made 0700; another owner, or a symbolic link, is refused)
 * and its records are opened without following symbolic links: a job must not plant a record that takes cores, or a
 * link that makes the daemon write elsewhere.
 */
import { constants } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { ensureDirectory, PRIVATE } from './private-dirs.js';
import { processStartTime } from './process-table.js';

export interface CoreOwner {
  node: string;
  pid: number;
  startTime: number;
  journalDir: string;
}

export interface CoreLease {
  cores: number[];
  /** Gives the cores up: only when no job of this node runs on them any more. */
  release(): Promise<void>;
}

export interface CoreLockRequest {
  dir: string;
  machineCores: number;
  count: number;
  /** Cores the node's re-adopted jobs run on: it must get them back. */
  required: number[];
  node: string;
  journalDir: string;
  /** Whether any job recorded in a journal directory still runs (another daemon's, maybe crashed). */
  journalHasLiveJobs(journalDir: string): Promise<boolean>;
}

export class CoresUnavailable extends Error {}

export async function lockCores(request: CoreLockRequest): Promise<CoreLease> {
  const { dir, machineCores, count, node } = request;
  if (count > machineCores) throw new CoresUnavailable(`this machine has ${machineCores} cores, not ${count}`);
  ensureDirectory(dir, PRIVATE);
  const me: CoreOwner = {
    node,
    pid: process.pid,
    startTime: processStartTime(process.pid) ?? 0,
    journalDir: request.journalDir,
  };
  const unlock = await lockDirectory(dir);
  try {
    const mine: number[] = [];
    const free: number[] = [];
    const taken = new Map<number, string>();
    for (let core = 0; core < machineCores; core++) {
      const owner = await readOwner(dir, core);
      if (owner === undefined) free.push(core);
      else if (owner.node === node) {
        if (owner.pid !== me.pid && processStartTime(owner.pid) === owner.startTime) {
          throw new CoresUnavailable(`node ${node} already runs on this machine (pid ${owner.pid})`);
        }
        mine.push(core);
      } else if (await holds(owner, request)) taken.set(core, owner.node);
      else free.push(core);
    }
    const missing = request.required.filter((core) => taken.has(core) || core >= machineCores);
    if (missing.length) {
      throw new CoresUnavailable(`cores ${missing.join(',')} of this node's jobs are held by another node`);
    }
    // Its own cores first (its re-adopted jobs may run on them), then the lowest free ones.
    const chosen = [...new Set([...request.required, ...mine, ...free])].slice(
      0,
      Math.max(count, request.required.length),
    );
    if (chosen.length < count) {
      const holders = [...new Set(taken.values())].join(', ');
      throw new CoresUnavailable(
        `${count} cores wanted, ${chosen.length} free on this machine (the others are held by ${holders || 'nobody'})`,
      );
    }
    await Promise.all(chosen.map((core) => writeOwner(dir, core, me)));
    // Cores this node held before but no longer wants go back to the machine.
    await Promise.all(mine.filter((core) => !chosen.includes(core)).map((core) => rm(recordPath(dir, core))));
    const cores = [...chosen].sort((a, b) => a - b);
    return {
      cores,
      async release() {
        const again = await lockDirectory(dir);
        try {
          for (const core of cores) {
            if ((await readOwner(dir, core))?.node === node) await rm(recordPath(dir, core), { force: true });
          }
        } finally {
          await again();
        }
      },
    };
  } finally {
    await unlock();
  }
}

/** Held only for the moment of reading and writing records; a holder that died is taken over after 10 s. */
function lockDirectory(dir: string): Promise<() => Promise<void>> {
  return lockfile.lock(dir, {
    lockfilePath: join(dir, 'lock'),
    realpath: false,
    stale: 10_000,
    retries: { retries: 200, minTimeout: 5, maxTimeout: 100 },
  });
}

async function holds(owner: CoreOwner, request: CoreLockRequest): Promise<boolean> {
  if (processStartTime(owner.pid) === owner.startTime) return true;
  return request.journalHasLiveJobs(owner.journalDir);
}

async function readOwner(dir: string, core: number): Promise<CoreOwner | undefined> {
  try {
    const file = await open(recordPath(dir, core), constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      return JSON.parse(await file.readFile('utf8')) as CoreOwner;
    } finally {
      await file.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') {
      throw new CoresUnavailable(`${recordPath(dir, core)} is a symbolic link, not a core record: remove it`);
    }
    throw error;
  }
}

/** Written whole, then renamed: a crash never leaves a record that names nobody. */
async function writeOwner(dir: string, core: number, owner: CoreOwner): Promise<void> {
  const temporary = `${recordPath(dir, core)}.${process.pid}.tmp`;
  // A temporary left by a crash of this same pid goes first: O_EXCL below never writes through what is there.
  await rm(temporary, { force: true });
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;
  const file = await open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  try {
    await file.writeFile(JSON.stringify(owner));
  } finally {
    await file.close();
  }
  await rename(temporary, recordPath(dir, core));
}

function recordPath(dir: string, core: number): string {
  return join(dir, `core-${core}.json`);
}
