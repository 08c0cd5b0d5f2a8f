/**
 * An esbuild plugin for the console's build: zod (bundled into the Submit page, which validates a submit with the
 * API's own schemas, shared/job/submit-request.ts) re-exports its 40-odd message translations as `z.locales`, which
 * a namespace import keeps whole: 260 KB of minified code the console never uses. Its locales module is replaced
 * by one with English only, the language zod configures by default (classic/schemas.js imports locales/en.js).
 */
import type { Plugin } from 'esbuild';
import { dirname, join } from 'node:path';

export const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /\/locales\/index\.js$/ }, (args) => {
      if (!/[\\/]zod[\\/]v4[\\/]/.test(args.importer)) return undefined;
      const english = join(dirname(args.importer), '..', 'locales', 'en.js');
      return { path: 'zod-locales-english', namespace: 'zod-english-only', pluginData: english };
    });
    build.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.pluginData)};`,
      loader: 'js',
      resolveDir: dirname(args.pluginData as string),
    }));
  },
};
