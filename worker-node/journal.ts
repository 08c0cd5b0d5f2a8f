/**
 * The daemon's durable records, one file per key, so that after its own crash it can re-adopt the jobs still running
 * and settle the ones that ended. Each write goes to a temporary file that is flushed to disk and then renamed over
 * the old one (and the directory flushed too): a crash mid-write leaves the previous version whole, never half of the
 * new one. Writes to one key are queued, so the last one asked for is the one on disk. Leftover temporary files are
 * ignored and cleared.
 */
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

const KEY_PATTERN = /^[A-Za-z0-9_.-]+$/;

export class Journal<T> {
  readonly #queues = new Map<string, Promise<void>>();
  #made = false;

  constructor(readonly dir: string) {}

  write(key: string, value: T): Promise<void> {
    return this.#queued(key, () => this.#write(key, JSON.stringify(value)));
  }

  remove(key: string): Promise<void> {
    return this.#queued(key, async () => {
      await rm(this.#path(key), { force: true });
      // A journal that was never written to has no directory, and nothing to remove.
      await this.#syncDirectory().catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    });
  }

  /** Every record, in the natural order of their keys; temporary files left by a crash are cleared. */
  async readAll(): Promise<T[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    await Promise.all(
      names.filter((name) => name.endsWith('.tmp')).map((name) => rm(join(this.dir, name), { force: true })),
    );
    const keys = names
      .filter((name) => name.endsWith('.json'))
      .map((name) => name.slice(0, -'.json'.length))
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    return Promise.all(keys.map(async (key) => JSON.parse(await readFile(this.#path(key), 'utf8')) as T));
  }

  #queued(key: string, work: () => Promise<void>): Promise<void> {
    if (!KEY_PATTERN.test(key)) throw new RangeError(`not a journal key: ${key}`);
    const next = (this.#queues.get(key) ?? Promise.resolve()).then(work);
    const settled = next.catch(() => {});
    this.#queues.set(key, settled);
    void settled.then(() => {
      if (this.#queues.get(key) === settled) this.#queues.delete(key);
    });
    return next;
  }

  async #write(key: string, text: string): Promise<void> {
    if (!this.#made) {
      await mkdir(this.dir, { recursive: true });
      this.#made = true;
    }
    const path = this.#path(key);
    const temporary = `${path}.${process.pid}.tmp`;
    const file = await open(temporary, 'w', 0o600);
    try {
      await file.writeFile(text);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
    await this.#syncDirectory();
  }

  #path(key: string): string {
    return join(this.dir, `${key}.json`);
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
