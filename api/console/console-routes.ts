/**
 * The web console's pages and the API reference, served from the console's build (issue 18, item 1):
 * - /ui/assets/<file>: the bundled scripts and styles (content-hashed names: cached for good);
 * - /ui and every other path under it: the console's one page, whose client router shows the path's page (so a deep
 *   link or a reload of /ui/jobs/42 works);
 * - /docs and /docs/<file>: the bundled API reference (Swagger UI's files, no CDN).
 * The session endpoints under /ui/session are registered before these (session-routes.ts).
 */
import type { Context } from 'hono';
import { compress } from 'hono/compress';
import type { App, AppEnv } from '../app-env.js';
import { ConsoleNotBuilt, RouteNotFound } from '../http/errors.js';
import { consoleSecurityHeaders } from './security-headers.js';
import type { StaticAssets } from './static-assets.js';

const IMMUTABLE = 'public, max-age=31536000, immutable';
// The page and the reference's files have stable names: asked again each time, answered 304 by nobody, but small.
const REVALIDATE = 'no-cache';

export function registerConsolePages(app: App, assets: StaticAssets | undefined): void {
  for (const path of ['/ui', '/ui/*', '/docs', '/docs/*']) app.use(path, consoleSecurityHeaders);
  // gzip where the client takes it (the reference's script is 1.7 MB as is), on the hosts that do not do it themselves.
  if (assets?.gzip) for (const path of ['/ui/assets/*', '/docs/*']) app.use(path, compress());

  const serve = async (c: Context<AppEnv>, file: string, cacheControl: string) => {
    if (!assets) throw new ConsoleNotBuilt();
    // No way out of the build's directory, whatever a host's store would make of `..`.
    const found = file.split('/').some((part) => part === '..' || part === '') ? null : await assets.get(file);
    if (!found) throw new RouteNotFound(c.req.method, c.req.path);
    // A copy: a Worker's asset answer has immutable headers, and the security headers are added after.
    const headers = new Headers(found.headers);
    headers.set('Cache-Control', cacheControl);
    return new Response(c.req.method === 'HEAD' ? null : found.body, { status: 200, headers });
  };

  app.get('/ui/assets/:file{.+}', (c) => serve(c, `assets/${c.req.param('file')}`, IMMUTABLE));
  app.get('/ui', (c) => serve(c, 'index.html', REVALIDATE));
  app.get('/ui/*', (c) => serve(c, 'index.html', REVALIDATE));
  app.get('/docs', (c) => serve(c, 'docs/index.html', REVALIDATE));
  app.get('/docs/:file{.+}', (c) => serve(c, `docs/${c.req.param('file')}`, REVALIDATE));
}
