/**
 * The console's built files (`npm run build:ui` writes them to dist/ui/), as each host reads them: the Node host
 * from disk (api/hosts/node/disk-assets.ts), a Worker from its Static Assets binding (api/hosts/workers/worker.ts).
 */
export interface StaticAssets {
  /**
   * The file at `path` (relative to dist/ui, no leading slash: `index.html`, `assets/app-XXXX.js`,
   * `docs/swagger-ui.css`) as a 200 with its Content-Type, or null when there is none.
   */
  get(path: string): Promise<Response | null>;
  /**
   * Whether the app gzips what it serves of them: the Node host's server compresses nothing by itself; a Worker's
   * runtime compresses its answers (and would compress an answer gzipped already once more).
   */
  readonly gzip: boolean;
}

/** Content types of what the build writes (the Node host's table; a Worker's asset server has its own). */
export const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  map: 'application/json',
  json: 'application/json',
  png: 'image/png',
  svg: 'image/svg+xml',
  ico: 'image/x-icon',
  txt: 'text/plain; charset=utf-8',
};
