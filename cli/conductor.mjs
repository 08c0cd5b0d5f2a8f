#!/usr/bin/env node
// The package's `bin`. It runs the prebuilt bundle (dist/conductor.mjs, `npm run build:cli`, made by `prepare` on
// `npm install` and by `prepack` for a tarball) when it is as new as every source file it was built from: plain Node,
// no compiler to load (bench/cli-startup.ts). Otherwise (a checkout before its first build, or a source edited since)
// it runs the TypeScript through tsx, a dependency, so that what runs is always what the sources say.
import { readdirSync, statSync } from 'node:fs';
import { URL } from 'node:url';

const bundle = new URL('../dist/conductor.mjs', import.meta.url);
const SOURCES = ['cli', 'sdk', 'shared'].map((dir) => new URL(`../${dir}/`, import.meta.url));

/** The newest modification time (ms) of the .ts files under a directory, 0 when there are none. */
function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    newest = Math.max(newest, statSync(`${entry.parentPath}/${entry.name}`).mtimeMs);
  }
  return newest;
}

function bundleIsCurrent() {
  let built;
  try {
    built = statSync(bundle).mtimeMs;
  } catch {
    return false;
  }
  // A packed tarball gives every file one time, so equal counts as current.
  return SOURCES.every((dir) => newestSource(dir) <= built);
}

if (bundleIsCurrent()) {
  await import(bundle.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./main.ts');
}
