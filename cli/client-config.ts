/**
 * Which API the command talks to, and with which token, first found wins:
 * 1. `--url` / `--token`;
 * 2. `CONDUCTOR_URL` / `CONDUCTOR_TOKEN`;
 * 3. the config file's cluster (`--cluster NAME`, else its "current" one; config-file.ts);
 * 4. the embedded instance `npm start` runs here: http://127.0.0.1:8080 and the admin token it wrote to
 *    `$CONDUCTOR_DATA_DIR/admin-token` (./.conductor/admin-token by default; api/hosts/node, shared/config).
 * A URL given without a token takes the token stored for that URL, if any.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from './cli-error.js';
import { configPath, readConfigFile, type ClusterEntry } from './config-file.js';

/** The Node host's defaults (shared/config/node-host-config.ts: HOST, PORT, CONDUCTOR_DATA_DIR). */
export const LOCAL_URL = 'http://127.0.0.1:8080';
const LOCAL_DATA_DIR = './.conductor';

export interface ClientFlags {
  url?: string;
  token?: string;
  cluster?: string;
}

export interface ClientConfig {
  url: string;
  token: string | undefined;
  /** Where the URL came from, for messages: "--url", "CONDUCTOR_URL", "cluster prod", "the local instance". */
  source: string;
}

export function resolveClientConfig(flags: ClientFlags, env: NodeJS.ProcessEnv): ClientConfig {
  const file = readConfigFile(configPath(env));
  let entry: ClusterEntry | undefined;
  let entrySource: string | undefined;
  if (flags.cluster !== undefined) {
    entry = file.clusters[flags.cluster];
    if (!entry) {
      const known = Object.keys(file.clusters);
      throw new UsageError(
        `no cluster "${flags.cluster}" in ${configPath(env)}${known.length ? ` (there are: ${known.join(', ')})` : ''}: add it with conductor login URL --name ${flags.cluster}`,
      );
    }
    entrySource = `cluster ${flags.cluster}`;
  } else if (file.current !== undefined && file.clusters[file.current]) {
    entry = file.clusters[file.current];
    entrySource = `cluster ${file.current}`;
  }

  const explicitUrl = flags.cluster === undefined ? (flags.url ?? env.CONDUCTOR_URL) : undefined;
  if (flags.cluster !== undefined && flags.url !== undefined) throw new UsageError('give --url or --cluster, not both');
  const url = explicitUrl ?? entry?.url ?? LOCAL_URL;
  const source =
    flags.url !== undefined && flags.cluster === undefined
      ? '--url'
      : explicitUrl !== undefined
        ? 'CONDUCTOR_URL'
        : (entrySource ?? 'the local instance');
  // A URL fetch cannot use would otherwise end in fetch's own stack trace rather than the command line's one line.
  const protocol = URL.canParse(url) ? new URL(url).protocol : '';
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new UsageError(`${source}: "${url}" is not an http:// or https:// URL`);
  }
  const stored = Object.values(file.clusters).find((cluster) => sameUrl(cluster.url, url));
  const token =
    flags.token ??
    env.CONDUCTOR_TOKEN ??
    (entry && sameUrl(entry.url, url) ? entry.token : stored?.token) ??
    (sameUrl(url, LOCAL_URL) ? localToken(env) : undefined);
  return { url, token, source };
}

function sameUrl(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

function localToken(env: NodeJS.ProcessEnv): string | undefined {
  try {
    return readFileSync(join(env.CONDUCTOR_DATA_DIR || LOCAL_DATA_DIR, 'admin-token'), 'utf8').trim() || undefined;
  } catch {
    // No local instance started here: the API will say the token is missing.
    return undefined;
  }
}
