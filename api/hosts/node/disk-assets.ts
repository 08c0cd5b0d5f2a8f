/**
 * The console's build read from disk by the Node host: the `dist/ui` directory of this package, found from this
 * module's own place (the nearest `dist/ui` above it: the repository's from api/hosts/node/, or one beside a bundled
 * host), never from the working directory.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTENT_TYPES, type StaticAssets } from '../../console/static-assets.js';

/** The nearest `dist/ui` holding an index.html above `from`, or undefined when the console was never built. */
export function findConsoleBuild(from = dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'dist', 'ui');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/** The files under `root`, read at each request (a rebuild is served at once). */
export function diskAssets(root: string): StaticAssets {
  const base = resolve(root) + sep;
  return {
    gzip: true,
    async get(path) {
      const file = resolve(base, path);
      if (!file.startsWith(base)) return null;
      const body = await readFile(file).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT' || error.code === 'EISDIR' || error.code === 'ENOTDIR') return null;
        throw error;
      });
      if (!body) return null;
      const type = CONTENT_TYPES[extname(file).slice(1)] ?? 'application/octet-stream';
      return new Response(body, { headers: { 'Content-Type': type } });
    },
  };
}
