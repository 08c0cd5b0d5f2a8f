/**
 * The log store on an R2 bucket bound to the Worker: no signing and no HTTP hop. Holds the same object names as the
 * S3 store, so daemons that write through R2's S3 endpoint and a Worker that reads through the binding meet.
 */
import {
  chunkName,
  jobPrefix,
  listedChunk,
  listStartAfter,
  LogStoreUnavailable,
  streamPrefix,
  type JobOutputId,
  type LogChunk,
  type LogStore,
  type LogStreamId,
} from './log-store.js';
import { archiveKey, type ArchivedJobId, type JobArchive } from './job-archive.js';

/** The part of the Workers R2 binding this store uses (the full type lives in @cloudflare/workers-types). */
export interface R2BucketBinding {
  put(key: string, value: Uint8Array): Promise<unknown>;
  get(
    key: string,
    options?: { range?: { offset: number; length: number } },
  ): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | null>;
  list(options: {
    prefix: string;
    startAfter?: string;
    cursor?: string;
    limit?: number;
  }): Promise<{ objects: { key: string; size: number }[]; truncated: boolean; cursor?: string }>;
  delete(keys: string[]): Promise<void>;
}

export class R2LogStore implements LogStore, JobArchive {
  /** `listPageSize`: names per list request (R2's `limit`); unset, R2's own page of 1,000. */
  constructor(
    private readonly bucket: R2BucketBinding,
    private readonly prefix = '',
    private readonly listPageSize?: number,
  ) {}

  async put(id: LogStreamId, offset: number, bytes: Uint8Array): Promise<void> {
    await this.#call(`put ${chunkName(offset)}`, () => this.bucket.put(this.#key(id, chunkName(offset)), bytes));
  }

  async *list(id: LogStreamId, from = 0): AsyncIterable<LogChunk> {
    const prefix = this.#key(id, '');
    const after = listStartAfter(prefix, from);
    let cursor: string | undefined;
    do {
      const limit = this.listPageSize ? { limit: this.listPageSize } : {};
      const page = await this.#call('list', () =>
        this.bucket.list(
          cursor ? { prefix, cursor, ...limit } : { prefix, ...limit, ...(after ? { startAfter: after } : {}) },
        ),
      );
      for (const { key, size } of page.objects) {
        const chunk = listedChunk(prefix, key, size, from);
        if (chunk) yield chunk;
      }
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
  }

  async read(id: LogStreamId, chunk: LogChunk, skip = 0, length = chunk.size - skip): Promise<Uint8Array> {
    if (length <= 0) return new Uint8Array(0);
    const name = chunkName(chunk.offset);
    const body = await this.#call(`get ${name}`, () =>
      this.bucket.get(this.#key(id, name), { range: { offset: skip, length } }),
    );
    if (!body) throw new LogStoreUnavailable(`${this.#key(id, name)} is listed but cannot be read`);
    return new Uint8Array(await body.arrayBuffer());
  }

  async archiveJob(job: ArchivedJobId, record: Uint8Array): Promise<void> {
    await this.#call(`put ${archiveKey(job)}`, () => this.bucket.put(`${this.prefix}${archiveKey(job)}`, record));
  }

  async deleteJob(job: JobOutputId): Promise<number> {
    const prefix = `${this.prefix}${jobPrefix(job)}`;
    const limit = this.listPageSize ? { limit: this.listPageSize } : {};
    let deleted = 0;
    // Listed afresh after each page is deleted (up to 1,000 keys, R2's most per delete call).
    for (;;) {
      const page = await this.#call('list', () => this.bucket.list({ prefix, ...limit }));
      if (page.objects.length === 0) return deleted;
      const keys = page.objects.map((object) => object.key);
      await this.#call('delete', () => this.bucket.delete(keys));
      deleted += keys.length;
    }
  }

  #key(id: LogStreamId, name: string): string {
    return `${this.prefix}${streamPrefix(id)}${name}`;
  }

  async #call<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw new LogStoreUnavailable(`R2 ${what}: ${(error as Error).message}`);
    }
  }
}
