/**
 * A real S3 server for the tests: s3rver, in a process of its own on a port of its own, keeping its objects in a
 * temporary directory. It can be taken down and brought back on the same port (an outage), its objects kept.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3LogStore } from '../../shared/logs/s3-log-store.js';
import { freePort, startChildServer, type ChildServer } from './child-server.js';

const ROOT = new URL('../..', import.meta.url).pathname;
export const TEST_BUCKET = 'conductor-logs';
// s3rver knows one key pair, its own; it does not check signatures.
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface TestS3 {
  endpoint: string;
  /** The variables that point a daemon (or host) at this server. */
  env: Record<string, string>;
  /** A store on the test server; `listPageSize`: names per list request (the server's 1,000 unless said). */
  store(prefix?: string, listPageSize?: number): S3LogStore;
  /** Kills the server: connections are refused until `up`, and the objects are kept. */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestS3(): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), 'conductor-s3-'));
  const port = await freePort('127.0.0.1');
  const endpoint = `http://127.0.0.1:${port}`;
  let server: ChildServer | undefined;
  const up = async () => {
    server = await startChildServer(
      's3rver',
      'node_modules/s3rver/bin/s3rver.js',
      ROOT,
      // Its continuation tokens are DES-encrypted, which OpenSSL 3 keeps in its legacy provider.
      { PATH: process.env.PATH, NODE_OPTIONS: '--openssl-legacy-provider' },
      /S3rver listening on (\S+)/,
      [
        '--directory',
        directory,
        '--address',
        '127.0.0.1',
        '--port',
        String(port),
        '--configure-bucket',
        TEST_BUCKET,
        '--silent',
      ],
    );
  };
  const down = async () => {
    const current = server;
    server = undefined;
    await current?.stop();
  };
  await up();
  return {
    endpoint,
    env: {
      CONDUCTOR_S3_ENDPOINT: endpoint,
      CONDUCTOR_S3_BUCKET: TEST_BUCKET,
      CONDUCTOR_S3_REGION: 'us-east-1',
      CONDUCTOR_S3_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      CONDUCTOR_S3_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    },
    store: (prefix = '', listPageSize?: number) =>
      new S3LogStore({
        endpoint,
        bucket: TEST_BUCKET,
        region: 'us-east-1',
        ...CREDENTIALS,
        prefix,
        retries: 0,
        ...(listPageSize ? { listPageSize } : {}),
      }),
    down,
    up,
    async close() {
      await down();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
