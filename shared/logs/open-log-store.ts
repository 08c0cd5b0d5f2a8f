/** The log store a Node process was configured with: S3, or a directory (`defaultDir` when nothing is set). */
import { resolve } from 'node:path';
import type { LogStoreSettings } from '../config/log-store-settings.js';
import { FileLogStore } from './file-log-store.js';
import type { LogStore } from './log-store.js';
import { S3LogStore } from './s3-log-store.js';

export function openLogStore(settings: LogStoreSettings, defaultDir: string): LogStore;
export function openLogStore(settings: LogStoreSettings): LogStore | undefined;
export function openLogStore(settings: LogStoreSettings, defaultDir?: string): LogStore | undefined {
  if (settings.CONDUCTOR_S3_ENDPOINT) {
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
  const dir = settings.CONDUCTOR_LOG_DIR ?? defaultDir;
  return dir === undefined ? undefined : new FileLogStore(resolve(dir));
}
