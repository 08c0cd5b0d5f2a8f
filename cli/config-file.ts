/**
 * The command's own config file: the clusters a user has logged in to, by name, each with its URL and token.
 * `$XDG_CONFIG_HOME/conductor/config.json` (`~/.config/conductor/config.json` by default), written readable by its
 * owner only (0600, its directory 0700): it holds tokens.
 *
 *   { "current": "prod", "clusters": { "prod": { "url": "https://conductor.example.org", "token": "…" } } }
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { UsageError } from './cli-error.js';

export interface ClusterEntry {
  url: string;
  token?: string;
}

export interface ConfigFile {
  /** The cluster used when none is named. */
  current?: string;
  clusters: Record<string, ClusterEntry>;
}

export function configPath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'conductor', 'config.json');
}

/** The file's clusters; none when there is no file. A file that is not this shape is a usage error naming it. */
export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { clusters: {} };
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`${path} is not JSON`);
  }
  const file = parsed as Partial<ConfigFile> | null;
  if (typeof file !== 'object' || file === null || typeof file.clusters !== 'object' || file.clusters === null) {
    throw new UsageError(`${path} has no "clusters" object`);
  }
  for (const [name, entry] of Object.entries(file.clusters)) {
    if (typeof entry?.url !== 'string') throw new UsageError(`${path}: cluster "${name}" has no "url"`);
  }
  return { current: typeof file.current === 'string' ? file.current : undefined, clusters: file.clusters };
}

/** Writes the file whole (aside, then renamed over it, so a reader never sees half of it), 0600 in a 0700 directory. */
export function writeConfigFile(path: string, file: ConfigFile): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const aside = `${path}.${process.pid}.tmp`;
  writeFileSync(aside, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  chmodSync(aside, 0o600);
  renameSync(aside, path);
}
