/**
 * The console's build as a Worker reads it: its Workers Static Assets binding (wrangler.toml `[assets]`, binding
 * ASSETS, over dist/ui). The asset server answers a path of the build with the file and its Content-Type.
 */
import type { StaticAssets } from '../../console/static-assets.js';

/** The part of Cloudflare's `Fetcher` the binding offers that this uses. */
export interface AssetsBinding {
  fetch(request: Request): Promise<Response>;
}

// The asset server looks at the path only; the host is a placeholder.
const ORIGIN = 'https://assets.invalid/';

export function workerAssets(binding: AssetsBinding): StaticAssets {
  return {
    gzip: false,
    async get(path) {
      const response = await binding.fetch(new Request(new URL(path, ORIGIN)));
      if (response.status === 404) return null;
      if (!response.ok) throw new Error(`the Worker's asset server answered ${response.status} for ${path}`);
      return response;
    },
  };
}
