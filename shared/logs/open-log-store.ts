/** The log store a Node process was configured with: S3, or a directory (`defaultDir` when nothing is set). */
import { resolve } from 'node:path';
import type { LogStoreSettings } from '../config/log-store-settings.js';
import { FileLogStore } from './file-log-store.js';
import type { JobArchive } from './job-archive.js';
import type { LogStore } from './log-store.js';
import { s3LogStoreFrom } from './s3-log-store.js';

export function openLogStore(settings: LogStoreSettings, defaultDir: string): LogStore & JobArchive;
export function openLogStore(settings: LogStoreSettings): (LogStore & JobArchive) | undefined;
export function openLogStore(settings: LogStoreSettings, defaultDir?: string): (LogStore & JobArchive) | undefined {
  const s3 = s3LogStoreFrom(settings);
  if (s3) return s3;
  const dir = settings.CONDUCTOR_LOG_DIR ?? defaultDir;
  return dir === undefined ? undefined : new FileLogStore(resolve(dir));
}
