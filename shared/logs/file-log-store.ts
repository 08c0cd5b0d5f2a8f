/**
 * The log store on the local filesystem (the embedded default, or a directory every node and the API share): one file
 * per chunk, under the same names an object store would use. Node only.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import {
  chunkName,
  chunkOffset,
  jobPrefix,
  LogStoreUnavailable,
  streamPrefix,
  type JobOutputId,
  type LogChunk,
  type LogStore,
  type LogStreamId,
} from './log-store.js';
import { archiveFolder, archiveName, type ArchivedJobId, type JobArchive } from './job-archive.js';

export class FileLogStore implements LogStore, JobArchive {
  constructor(readonly dir: string) {}

  async put(id: LogStreamId, offset: number, bytes: Uint8Array): Promise<void> {
    await this.#write(streamPrefix(id), chunkName(offset), bytes);
  }

  async archiveJob(job: ArchivedJobId, record: Uint8Array): Promise<void> {
    await this.#write(archiveFolder(job), archiveName(job), record);
  }

  /** Writes `name` in the folder `prefix` (a key prefix ending in `/`), whole or not at all, and on disk. */
  async #write(prefix: string, name: string, bytes: Uint8Array): Promise<void> {
    const folder = join(this.dir, prefix);
    const temporary = join(folder, `.${name}.${randomBytes(4).toString('hex')}`);
    try {
      const made = await mkdir(folder, { recursive: true });
      if (made) {
        // New folders are on disk only once each is in its parent's entries: the parent of the first one made, then
        // each one made (the folder itself is synced after the rename below).
        let parent = dirname(made);
        for (const part of relative(parent, folder).split(sep)) {
          await syncDirectory(parent);
          parent = join(parent, part);
        }
      }
      // Written aside, on disk, then renamed (and the rename on disk too): a reader never sees half a chunk, and the
      // daemon, which journals the chunk as shipped once this returns, never finds it missing after a power cut.
      const file = await open(temporary, 'w');
      try {
        await file.writeFile(bytes);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temporary, join(folder, name));
      await syncDirectory(folder);
    } catch (error) {
      await rm(temporary, { force: true }).catch(() => {});
      throw new LogStoreUnavailable(`cannot store ${prefix}${name}: ${(error as Error).message}`);
    }
  }

  async *list(id: LogStreamId, from = 0): AsyncIterable<LogChunk> {
    const folder = join(this.dir, streamPrefix(id));
    let names: string[];
    try {
      names = await readdir(folder);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new LogStoreUnavailable(`cannot list ${folder}: ${(error as Error).message}`);
    }
    const offsets = names
      .map(chunkOffset)
      .filter((offset): offset is number => offset !== undefined && offset >= from)
      .sort((a, b) => a - b);
    for (const offset of offsets) {
      const { size } = await stat(join(folder, chunkName(offset))).catch((error: Error) => {
        throw new LogStoreUnavailable(`cannot list ${folder}: ${error.message}`);
      });
      yield { offset, size };
    }
  }

  async read(id: LogStreamId, chunk: LogChunk, skip = 0, length = chunk.size - skip): Promise<Uint8Array> {
    const file = await open(join(this.dir, streamPrefix(id), chunkName(chunk.offset)), 'r').catch((error: Error) => {
      throw new LogStoreUnavailable(`cannot read ${streamPrefix(id)}${chunkName(chunk.offset)}: ${error.message}`);
    });
    try {
      const bytes = new Uint8Array(Math.max(0, length));
      const { bytesRead } = await file.read(bytes, 0, bytes.length, skip).catch((error: Error) => {
        throw new LogStoreUnavailable(`cannot read ${streamPrefix(id)}${chunkName(chunk.offset)}: ${error.message}`);
      });
      return bytes.subarray(0, bytesRead);
    } finally {
      await file.close();
    }
  }

  async deleteJob(job: JobOutputId): Promise<number> {
    const folder = join(this.dir, jobPrefix(job));
    try {
      // Counted first: rm answers nothing about what it removed.
      const entries = await readdir(folder, { recursive: true, withFileTypes: true }).catch((error: Error) => {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      });
      const count = entries.filter((entry) => entry.isFile() && chunkOffset(entry.name) !== undefined).length;
      await rm(folder, { recursive: true, force: true });
      return count;
    } catch (error) {
      throw new LogStoreUnavailable(`cannot delete ${folder}: ${(error as Error).message}`);
    }
  }
}

async function syncDirectory(path: string): Promise<void> {
  const directory = await open(path, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
