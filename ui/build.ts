/**
 * `npm run build:ui`: the web console and the API reference, built into dist/ui/ (issue 18, item 1), which both hosts
 * serve (api/console/console-routes.ts):
 * - assets/: the console's client (ui/client/main.tsx and its styles) bundled by esbuild, one chunk per page (each
 *   page's module is imported on demand, see ui/client/routes.tsx), under content-hashed names;
 * - index.html: the one page that loads them (no inline script or style: the CSP allows none);
 * - docs/: Swagger UI's standalone files from swagger-ui-dist, with a page and a start script of ours, so that /docs
 *   makes no request elsewhere.
 * Built aside and moved into place, so that a host serving dist/ui meanwhile never sees half of it.
 */
import { build, type Metafile } from 'esbuild';
import { copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zodEnglishOnly } from './zod-english-only.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'dist', 'ui');
const SWAGGER = join(ROOT, 'node_modules', 'swagger-ui-dist');
const ENTRY = join(ROOT, 'ui', 'client', 'main.tsx');

/** Builds dist/ui; answers the files of the console's entry (its script and stylesheet, paths under dist/ui). */
export async function buildConsole(out = OUT): Promise<{ script: string; stylesheet: string | undefined }> {
  const staging = `${out}.${process.pid}.tmp`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(join(staging, 'docs'), { recursive: true });
  const result = await build({
    entryPoints: { app: ENTRY },
    bundle: true,
    splitting: true,
    format: 'esm',
    target: ['es2022', 'chrome111', 'firefox111', 'safari16'],
    outdir: join(staging, 'assets'),
    entryNames: '[name]-[hash]',
    chunkNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    metafile: true,
    legalComments: 'linked',
    logLevel: 'warning',
    plugins: [zodEnglishOnly],
  });
  const entry = entryOutputs(result.metafile, staging);
  await writeFile(join(staging, 'index.html'), consolePage(entry.script, entry.stylesheet));
  for (const file of ['swagger-ui-bundle.js', 'swagger-ui.css', 'favicon-32x32.png']) {
    await copyFile(join(SWAGGER, file), join(staging, 'docs', file));
  }
  await copyFile(join(ROOT, 'ui', 'docs', 'docs-init.js'), join(staging, 'docs', 'docs-init.js'));
  await copyFile(join(ROOT, 'ui', 'docs', 'index.html'), join(staging, 'docs', 'index.html'));
  await mkdir(dirname(out), { recursive: true });
  const old = `${out}.${process.pid}.old`;
  await rename(out, old).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  await rename(staging, out);
  await rm(old, { recursive: true, force: true });
  return entry;
}

function entryOutputs(metafile: Metafile, staging: string): { script: string; stylesheet: string | undefined } {
  // Each page's chunk is an entry too (imported on demand): the console's is the one made from main.tsx. The metafile's
  // paths are relative to esbuild's working directory, the process's.
  const [path, output] =
    Object.entries(metafile.outputs).find(([, o]) => o.entryPoint !== undefined && resolve(o.entryPoint) === ENTRY) ??
    [];
  if (!path || !output) throw new Error('build:ui: esbuild wrote no entry');
  const local = (file: string) => relative(staging, join(ROOT, file)).split('\\').join('/');
  return { script: local(path), stylesheet: output.cssBundle ? local(output.cssBundle) : undefined };
}

function consolePage(script: string, stylesheet: string | undefined): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SCNS-Conductor</title>
<link rel="icon" href="data:,">
${stylesheet ? `<link rel="stylesheet" href="/ui/${stylesheet}">\n` : ''}<script type="module" src="/ui/${script}"></script>
</head>
<body>
<div id="app"><noscript>The SCNS-Conductor console needs JavaScript.</noscript></div>
</body>
</html>
`;
}

if (process.argv[1] && basename(process.argv[1]) === 'build.ts') {
  const { script } = await buildConsole();
  console.log(`console built in ${relative(ROOT, OUT)} (${script})`);
}
