/**
 * The log store on any S3-compatible object store (AWS S3, R2's S3 endpoint, MinIO), signed with aws4fetch: web
 * APIs only, so the same code runs in a Worker and on Node. Path-style addressing (`{endpoint}/{bucket}/{key}`),
 * which every S3-compatible store accepts.
 */
import { AwsClient } from 'aws4fetch';
import type { LogStoreSettings } from '../config/log-store-settings.js';
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

export interface S3LogStoreOptions {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Prepended to every object name: one bucket can hold several installations. */
  prefix: string;
  /** aws4fetch's own retries of a 5xx or 429 answer, with backoff; callers retry the rest themselves. */
  retries: number;
  /** Names per list request (S3's `max-keys`); unset, the store's own page (1,000 on S3 and R2). */
  listPageSize?: number;
}

// A store that stops answering is a failure to retry later, not a wait that holds the daemon's stop up.
const REQUEST_TIMEOUT_MS = 60_000;

type S3Settings = Omit<LogStoreSettings, 'CONDUCTOR_LOG_DIR'>;

/**
 * The S3 store the CONDUCTOR_S3_* variables describe, if they name an endpoint (validated: it comes with its bucket
 * and keys).
 */
export function s3LogStoreFrom(settings: S3Settings): S3LogStore | undefined {
  if (settings.CONDUCTOR_S3_ENDPOINT === undefined) return undefined;
  return new S3LogStore({
    endpoint: settings.CONDUCTOR_S3_ENDPOINT,
    bucket: settings.CONDUCTOR_S3_BUCKET!,
    region: settings.CONDUCTOR_S3_REGION,
    accessKeyId: settings.CONDUCTOR_S3_ACCESS_KEY_ID!,
    secretAccessKey: settings.CONDUCTOR_S3_SECRET_ACCESS_KEY!,
    prefix: settings.CONDUCTOR_LOG_PREFIX,
    retries: 2,
  });
}

export class S3LogStore implements LogStore, JobArchive {
  readonly #client: AwsClient;
  readonly #bucketUrl: string;

  constructor(private readonly options: S3LogStoreOptions) {
    this.#client = new AwsClient({
      accessKeyId: options.accessKeyId,
      secretAccessKey: options.secretAccessKey,
      service: 's3',
      region: options.region,
      retries: options.retries,
    });
    this.#bucketUrl = `${options.endpoint.replace(/\/+$/, '')}/${encodeURIComponent(options.bucket)}`;
  }

  async put(id: LogStreamId, offset: number, bytes: Uint8Array): Promise<void> {
    const key = this.#key(id, chunkName(offset));
    await this.#send('PUT', `${this.#bucketUrl}/${key}`, { body: bytes as Uint8Array<ArrayBuffer> }, [200]);
  }

  async *list(id: LogStreamId, from = 0): AsyncIterable<LogChunk> {
    const prefix = this.#key(id, '');
    const after = listStartAfter(prefix, from);
    let token: string | undefined;
    do {
      const query = new URLSearchParams({ 'list-type': '2', prefix });
      if (this.options.listPageSize) query.set('max-keys', String(this.options.listPageSize));
      if (token) query.set('continuation-token', token);
      else if (after) query.set('start-after', after);
      const answer = await this.#send('GET', `${this.#bucketUrl}?${query}`, {}, [200]);
      const page = parseListPage(await answer.text());
      for (const { key, size } of page.contents) {
        const chunk = listedChunk(prefix, key, size, from);
        if (chunk) yield chunk;
      }
      token = page.nextToken;
    } while (token);
  }

  async read(id: LogStreamId, chunk: LogChunk, skip = 0, length = chunk.size - skip): Promise<Uint8Array> {
    if (length <= 0) return new Uint8Array(0);
    const answer = await this.#send(
      'GET',
      `${this.#bucketUrl}/${this.#key(id, chunkName(chunk.offset))}`,
      { headers: { Range: `bytes=${skip}-${skip + length - 1}` } },
      [200, 206],
    );
    const bytes = new Uint8Array(await answer.arrayBuffer());
    // A store that ignores Range answers the whole object with 200.
    return answer.status === 200 ? bytes.subarray(skip, skip + length) : bytes;
  }

  async archiveJob(job: ArchivedJobId, record: Uint8Array): Promise<void> {
    const key = `${this.options.prefix}${archiveKey(job)}`;
    await this.#send('PUT', `${this.#bucketUrl}/${key}`, { body: record as Uint8Array<ArrayBuffer> }, [200]);
  }

  async deleteJob(job: JobOutputId): Promise<number> {
    const prefix = `${this.options.prefix}${jobPrefix(job)}`;
    let deleted = 0;
    // Listed afresh after each page is deleted: a continuation token may not survive the deletes. One DELETE per
    // object, not DeleteObjects, which AWS refuses without a Content-MD5 that Workers cannot compute.
    for (;;) {
      const query = new URLSearchParams({ 'list-type': '2', prefix });
      if (this.options.listPageSize) query.set('max-keys', String(this.options.listPageSize));
      const page = parseListPage(await (await this.#send('GET', `${this.#bucketUrl}?${query}`, {}, [200])).text());
      if (page.contents.length === 0) return deleted;
      for (const { key } of page.contents) {
        await this.#send('DELETE', `${this.#bucketUrl}/${key}`, {}, [200, 204]);
        deleted += 1;
      }
    }
  }

  #key(id: LogStreamId, name: string): string {
    return `${this.options.prefix}${streamPrefix(id)}${name}`;
  }

  async #send(method: string, url: string, init: RequestInit, ok: number[]): Promise<Response> {
    let answer: Response;
    try {
      answer = await this.#client.fetch(url, { method, ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    } catch (error) {
      throw new LogStoreUnavailable(`${method} ${url}: ${(error as Error).message}`);
    }
    if (!ok.includes(answer.status)) {
      const detail = (await answer.text().catch(() => '')).slice(0, 300);
      throw new LogStoreUnavailable(`${method} ${url}: ${answer.status} ${detail}`);
    }
    return answer;
  }
}

/**
 * The parts of a ListObjectsV2 answer a reader needs. The XML is S3's own and regular; Workers have no XML parser,
 * and one element per field is all it takes.
 */
export function parseListPage(xml: string): { contents: { key: string; size: number }[]; nextToken?: string } {
  const contents = [...xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)].map(([, entry]) => ({
    key: decodeXml(/<Key>([\s\S]*?)<\/Key>/.exec(entry!)?.[1] ?? ''),
    size: Number(/<Size>(\d+)<\/Size>/.exec(entry!)?.[1] ?? 0),
  }));
  const truncated = /<IsTruncated>true<\/IsTruncated>/.test(xml);
  const token = /<NextContinuationToken>([\s\S]*?)<\/NextContinuationToken>/.exec(xml)?.[1];
  return { contents, ...(truncated && token ? { nextToken: decodeXml(token) } : {}) };
}

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeXml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (whole, entity: string) => {
    if (entity.startsWith('#x') || entity.startsWith('#X')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(Number(entity.slice(1)));
    return XML_ENTITIES[entity] ?? whole;
  });
}
