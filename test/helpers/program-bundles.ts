/**
 * The node daemon and the Node API host bundled into plain JavaScript, as `npm run build:node` bundles the daemon:
 * they start in about a quarter of the time tsx takes to compile them, more on a busy machine. Used by the tests'
 * global setup and by the soak (bench/soak/), which restarts both many times.
 */
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

/**
 * Bundles a TypeScript entry (a path in the repository) into one ES module at `outfile`; `external`: the packages
 * stay in node_modules (imported from there, so the bundle's directory must reach it).
 */
async function bundle(entry: string, outfile: string, external = false): Promise<string> {
  await build({
    ...(external ? { packages: 'external' as const } : {}),
    entryPoints: [repo(entry)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'warning',
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  });
  return outfile;
}

/** The node daemon as one file in `dir`, needing no node_modules; its path. */
export const bundleDaemon = (dir: string) => bundle('worker-node/main.ts', join(dir, 'conductor-node.mjs'));

/**
 * The Node API host in `dir/host/`; its path. Its packages stay where they are: PGlite finds its WebAssembly beside its
 * own module. Migrations are read from `./migrations/` beside the module that reads them, here the bundle; the console's build
 * from `dist/ui` above it.
 */
export async function bundleHost(dir: string): Promise<string> {
  const hostDir = join(dir, 'host');
  await mkdir(hostDir);
  await symlink(repo('shared/db/migrations'), join(hostDir, 'migrations'));
  await symlink(repo('node_modules'), join(hostDir, 'node_modules'));
  // The console's build, found as the nearest dist/ui above the module (api/hosts/node/disk-assets.ts).
  await mkdir(join(hostDir, 'dist'));
  await symlink(repo('dist/ui'), join(hostDir, 'dist', 'ui'));
  return bundle('api/hosts/node/main.ts', join(hostDir, 'conductor-host.mjs'), true);
}
