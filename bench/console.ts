/**
 * `npm run bench:console`: what the web console costs a reader (issue 18, item 5), in headless Chromium
 * (test/helpers/browser.ts) against embedded hosts run as `npm start` runs them.
 * - page weight: the gzip bytes of what each page loads from the host (its page, scripts, styles; API answers not
 *   counted), with an empty cache; and the console's whole build, to hold against its 300 KB budget (the API
 *   reference under /docs counted apart);
 * - the queue page's first render (navigation start → first job row on screen) with 10,000 pending jobs, against
 *   the same page with 10 (the reference: the same host before the other 9,990 are submitted); median of BENCH_RUNS;
 * - follow latency: a job writes a line with its time every 100 ms; the page notes when each appears on screen;
 *   p50/p95 of the difference (one machine, one clock).
 *
 * Env: BENCH_RUNS (9), BENCH_LINES (60). Prints `name value unit` lines.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../test/helpers/browser.js';
import { BenchCluster, percentile, ROOT } from './bench-cluster.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const LINES = Number(process.env.BENCH_LINES ?? 60);
const BIG_QUEUE = 10_000;
const SMALL_QUEUE = 10;
const SUBMIT_CONCURRENCY = 16;
const gzipBytes = (bytes: Uint8Array) => gzipSync(bytes, { level: 6 }).byteLength;
const kb = (bytes: number) => (bytes / 1024).toFixed(1);

/** Every file under `dir`, as paths relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path).map((file) => join(name, file)) : [name];
  });
}

async function signIn(context: BrowserContext, url: string, token: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${url}/ui/login`);
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  return page;
}

/**
 * The gzip bytes of the host's own files (not API answers) the page at `path` loads on a first visit: a new browser
 * profile (empty cache) holding the session cookie (none for the sign-in page).
 */
async function pageWeight(browser: Browser, url: string, token: string, path: string, ready: string): Promise<number> {
  const context = await browser.newContext();
  try {
    if (path !== '/ui/login') await context.addCookies([{ name: 'conductor_session', value: token, url }]);
    const page = await context.newPage();
    const loaded: Promise<number>[] = [];
    page.on('response', (response) => {
      const type = response.request().resourceType();
      if (['document', 'script', 'stylesheet', 'image', 'font'].includes(type)) {
        loaded.push(response.body().then(gzipBytes, () => 0));
      }
    });
    await page.goto(`${url}${path}`);
    await page.locator(ready).first().waitFor();
    return (await Promise.all(loaded)).reduce((sum, bytes) => sum + bytes, 0);
  } finally {
    await context.close();
  }
}

async function submitMany(cluster: BenchCluster, host: { url: string }, count: number, account: string) {
  let next = 0;
  await Promise.all(
    Array.from({ length: SUBMIT_CONCURRENCY }, async () => {
      while (next < count) {
        next++;
        await cluster.call(host as never, 'POST', '/v1/jobs', {
          job: { partition: 'default', account, name: `queued-${next}`, time_limit: '10' },
          script: '#!/bin/bash\ntrue',
        });
      }
    }),
  );
}

/** Median ms from navigation start to the first job row, over RUNS loads of the queue page (cache warm). */
async function queueFirstRender(page: Page, url: string): Promise<number> {
  const times: number[] = [];
  await page.goto(`${url}/ui/queue`);
  await page.locator('tr[data-job-id]').first().waitFor();
  for (let i = 0; i < RUNS; i++) {
    await page.goto(`${url}/ui/queue`);
    await page.locator('tr[data-job-id]').first().waitFor();
    times.push(await page.evaluate(() => performance.now()));
  }
  return percentile(
    times.sort((a, b) => a - b),
    50,
  );
}

execFileSync('npm', ['run', 'build:ui'], { cwd: ROOT, stdio: 'inherit' });
const cluster = new BenchCluster('console');
const browser = await launchChromium();
try {
  // The build: the console's own files, and the reference's apart.
  const build = join(ROOT, 'dist', 'ui');
  const files = filesUnder(build);
  const sum = (list: string[]) => list.reduce((total, file) => total + gzipBytes(readFileSync(join(build, file))), 0);
  const consoleFiles = files.filter((file) => !file.startsWith('docs'));
  console.log(`console_build_gzip ${kb(sum(consoleFiles))} KB (${consoleFiles.length} files; budget 300 KB)`);
  console.log(`docs_build_gzip ${kb(sum(files.filter((file) => file.startsWith('docs'))))} KB`);

  // Queue: a host without a node, so that every job stays pending.
  const queueHost = await cluster.startHost({
    CONDUCTOR_DATA_DIR: join(cluster.scratch, 'queue-data'),
    CONDUCTOR_LOCAL_NODE: 'off',
  });
  for (const [name, path, ready] of [
    ['login', '/ui/login', '#token'],
    ['queue', '/ui/queue', 'table'],
    ['job', '/ui/jobs/1', 'h1'],
    ['about', '/ui/about', 'dl'],
    ['overview', '/ui/overview', '[data-testid=state-counts]'],
    ['submit', '/ui/submit', '[data-testid=script-editor] .cm-content'],
    ['history', '/ui/history', '[data-testid=history-table]'],
    ['nodes', '/ui/nodes', 'h1'],
    ['docs', '/docs', '.swagger-ui .info'],
  ] as const) {
    if (name === 'job') await submitMany(cluster, queueHost, 1, 'weight');
    const bytes = await pageWeight(browser, queueHost.url, cluster.adminToken, path, ready);
    console.log(`page_weight_${name}_gzip ${kb(bytes)} KB`);
  }

  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await signIn(context, queueHost.url, cluster.adminToken);
  await submitMany(cluster, queueHost, SMALL_QUEUE - 1, 'small');
  const small = await queueFirstRender(page, queueHost.url);
  await submitMany(cluster, queueHost, BIG_QUEUE - SMALL_QUEUE, 'big');
  const big = await queueFirstRender(page, queueHost.url);
  console.log(`queue_first_render_${SMALL_QUEUE}_pending_p50 ${small.toFixed(0)} ms`);
  console.log(`queue_first_render_${BIG_QUEUE}_pending_p50 ${big.toFixed(0)} ms`);
  console.log(`queue_first_render_ratio_${BIG_QUEUE}_to_${SMALL_QUEUE} ${(big / small).toFixed(2)}`);
  await context.close();

  // Follow: a host with its local node, one job writing its time every 100 ms once released.
  const runHost = await cluster.startHost({
    CONDUCTOR_DATA_DIR: join(cluster.scratch, 'run-data'),
    CONDUCTOR_CORE_LOCK_DIR: join(cluster.scratch, 'cores'),
  });
  const mark = join(cluster.scratch, 'go');
  const job = (await cluster.call(runHost, 'POST', '/v1/jobs', {
    job: { partition: 'default', name: 'follow-latency', time_limit: '10' },
    script: `#!/bin/bash\necho ready\nwhile [ ! -e ${mark} ]; do sleep 0.05; done\nfor i in $(seq 1 ${LINES}); do echo "t=$(date +%s%3N)"; sleep 0.1; done\n`,
  })) as { id: string };
  const followContext = await browser.newContext();
  const followPage = await signIn(followContext, runHost.url, cluster.adminToken);
  await followPage.goto(`${runHost.url}/ui/jobs/${job.id}`);
  await followPage.getByTestId('stdout-output').getByText('ready').waitFor({ timeout: 60_000 });
  await followPage.evaluate(() => {
    const seen: number[] = [];
    (window as unknown as { latencies: number[] }).latencies = seen;
    const output = document.querySelector('[data-testid="stdout-output"]')!;
    let counted = 0;
    new MutationObserver(() => {
      const now = Date.now();
      const stamps = [...(output.textContent ?? '').matchAll(/t=(\d+)\n/g)].map((match) => Number(match[1]));
      for (const stamp of stamps.slice(counted)) seen.push(now - stamp);
      counted = stamps.length;
    }).observe(output, { childList: true, characterData: true, subtree: true });
  });
  writeFileSync(mark, '');
  await followPage.getByTestId('stdout-status').getByText('Complete').waitFor({ timeout: 120_000 });
  const latencies = (await followPage.evaluate(() => (window as unknown as { latencies: number[] }).latencies)).sort(
    (a, b) => a - b,
  );
  console.log(`follow_latency_p50 ${percentile(latencies, 50)} ms (${latencies.length} lines)`);
  console.log(`follow_latency_p95 ${percentile(latencies, 95)} ms`);
  await followContext.close();
} finally {
  await browser.close();
  await cluster.close();
}
