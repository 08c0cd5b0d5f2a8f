/**
 * wrangler.toml as wrangler itself reads it, for the Node tooling around the Worker (npm run dev:workers, the tests'
 * Miniflare helper); never imported by the Worker. Read by wrangler's API in a child process: loading that API
 * installs SIGINT and SIGTERM handlers that exit the process at once, which would cut the caller's own stop short.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

/** The parts of the Worker's configuration the tooling uses (wrangler's names). */
export interface WranglerConfig {
  name: string;
  /** The Worker's entry module, as an absolute path. */
  main: string;
  compatibility_date: string;
  compatibility_flags: string[];
  triggers: { crons?: string[] };
  r2_buckets: { binding: string; bucket_name?: string }[];
  /** Workers Static Assets: the console's build (`directory` absolute). */
  assets?: {
    directory: string;
    binding?: string;
    run_worker_first?: boolean | string[];
    html_handling?: 'auto-trailing-slash' | 'force-trailing-slash' | 'drop-trailing-slash' | 'none';
    not_found_handling?: 'single-page-application' | '404-page' | 'none';
  };
}

const READ = `
import { unstable_readConfig } from 'wrangler';
const c = unstable_readConfig({ config: 'wrangler.toml' });
const picked = { name: c.name, main: c.main, compatibility_date: c.compatibility_date,
  compatibility_flags: c.compatibility_flags, triggers: c.triggers, r2_buckets: c.r2_buckets, assets: c.assets };
process.stdout.write('\\n' + JSON.stringify(picked) + '\\n');
`;

/**
 * The configuration in `root`/wrangler.toml.
 * @throws Error when wrangler cannot read it (its message on stderr)
 */
export function readWranglerConfig(root: string): WranglerConfig {
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', READ], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
  });
  // The last line: whatever wrangler itself may print comes before it.
  const config = JSON.parse(output.trim().split('\n').at(-1)!) as WranglerConfig;
  // wrangler keeps it as written, relative to the file: absolute, it still holds in a config written elsewhere.
  if (config.assets) config.assets.directory = resolve(root, config.assets.directory);
  return config;
}
