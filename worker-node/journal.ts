/**
 * The daemon's durable record of the jobs it runs, one file per job, so that after its own crash it can re-adopt
 * the jobs still running and settle the ones that ended. Each write goes to a temporary file that is flushed to disk
 * and then renamed over the old one (and the directory flushed too): a crash mid-write leaves the previous version
 * whole, never half of the new one. Leftover temporary files are ignored and cleared.
 */
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

export interface JournalEntry {
  jobId: number;
  attempt: number;
  pid: number;
  /** The job's process group: its pid, as it leads a group of its own. */
  pgid: number;
  /** With the pid, names the process: a pid reused by another process has another start time. */
  startTime: number;
  cpuIds: number[];
  /** The job's own directory (script, pid and status files). */
  dir: string;
  [more: string]: unknown;
}

export class Journal {
  constructor(private readonly dir: string) {}

  async write(entry: JournalEntry): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const path = join(this.dir, `${entry.jobId}.json`);
    const temporary = `${path}.${process.pid}.tmp`;
    const file = await open(temporary, 'w', 0o600);
    try {
      await file.writeFile(JSON.stringify(entry));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
    await this.#syncDirectory();
  }

  async remove(jobId: number): Promise<void> {
    await rm(join(this.dir, `${jobId}.json`), { force: true });
    await this.#syncDirectory();
  }

  /** Every entry, oldest job first; temporary files left by a crash are cleared. */
  async readAll(): Promise<JournalEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    await Promise.all(names.filter((name) => name.endsWith('.tmp')).map((name) => rm(join(this.dir, name), { force: true })));
    const entries = await Promise.all(
      names
        .filter((name) => /^\d+\.json$/.test(name))
        .map(async (name) => JSON.parse(await readFile(join(this.dir, name), 'utf8')) as JournalEntry),
    );
    return entries.sort((a, b) => a.jobId - b.jobId);
  }

  /** A rename is durable only once the directory that holds it is on disk too. */
  async #syncDirectory(): Promise<void> {
    const directory = await open(this.dir, 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  }
}
