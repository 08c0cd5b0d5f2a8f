/**
 * The console's Submit, Nodes, Overview and History pages in a real browser (issue 18, items 3 and 5): headless
 * Chromium (Debian's, through playwright-core) against an API served over HTTP with a real node daemon running the
 * jobs. Each page is also looked at 390 px wide (no sideways scroll of the page) and saved as a screenshot under
 * test-results/screenshots/ for a reviewer.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Reconciler } from '../api/reconciler.js';
import { browserMissing, launchChromium } from './helpers/browser.js';
import { ADMIN_TOKEN } from './helpers/test-app.js';
import { apiWithNode, waitForState } from './helpers/test-node.js';

const SCREENSHOTS = new URL('../test-results/screenshots/', import.meta.url).pathname;
const XSS_NAME = '<img src=x onerror=alert(1)>';
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

describe('the console build', () => {
  it("bundles zod's English messages for the Submit page, and none of its other languages", () => {
    // dist/ui is built by the suite's global setup, as `npm run build:ui` builds it.
    const assets = new URL('../dist/ui/assets/', import.meta.url).pathname;
    const scripts = readdirSync(assets)
      .filter((file) => file.endsWith('.js'))
      .map((file) => readFileSync(join(assets, file), 'utf8'));
    expect(scripts.some((script) => script.includes('Invalid input: expected'))).toBe(true);
    expect(scripts.some((script) => script.includes('Ungültige Eingabe'))).toBe(false);
  });
});

const missing = browserMissing();
if (missing) console.log(`console-pages.test.ts: ${missing}`);

describe.skipIf(missing !== undefined)('the console pages in a browser', () => {
  const started = apiWithNode('pages-node');
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    browser = await launchChromium();
    mkdirSync(SCREENSHOTS, { recursive: true });
  });
  afterAll(async () => {
    await Promise.all(contexts.map((context) => context.close()));
    await browser?.close();
  });

  /** A page signed in with `token`; any dialog (an alert an injected script would raise) fails the test. */
  async function signedIn(token: string, viewport = DESKTOP): Promise<Page> {
    const context = await browser.newContext({ viewport });
    contexts.push(context);
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on('close', () => expect(dialogs).toEqual([]));
    await page.goto(`${started.api.url}/ui/login`);
    await page.fill('#token', token);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=signed-in-as]');
    return page;
  }

  /** Opens `path` at phone width: the page itself never scrolls sideways (tables scroll in their own box). */
  async function fitsPhone(path: string, ready: string, name: string): Promise<void> {
    const page = await signedIn(ADMIN_TOKEN, PHONE);
    await page.goto(`${started.api.url}${path}`);
    await page.waitForSelector(ready);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${path} at 390 px`).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-390.png`), fullPage: true });
    await page.close();
  }

  describe('Submit', () => {
    it('shows what the #SBATCH lines apply as they are typed, the form winning over them, then submits', async () => {
      const page = await signedIn(ADMIN_TOKEN);
      await page.goto(`${started.api.url}/ui/submit`);
      const editor = page.locator('[data-testid=script-editor] .cm-content');
      await editor.waitFor();
      await editor.fill('');
      await editor.fill(
        [
          '#!/bin/bash',
          '#SBATCH --job-name=from-directive',
          '#SBATCH -c 2',
          '#SBATCH --time=5',
          '#SBATCH --mail-user=nobody@example.com',
          'echo console-submit-ran',
          '',
        ].join('\n'),
      );
      const row = (field: string) => page.locator(`[data-testid=preview] tr[data-field=${field}]`);
      await expect.poll(() => row('name').locator('td.value').textContent()).toBe('from-directive');
      expect(await row('name').locator('td.source').textContent()).toBe('line 2: --job-name=from-directive');
      expect(await row('cpus_per_task').locator('td.value').textContent()).toBe('2');
      expect(await row('cpus_per_task').locator('td.source').textContent()).toBe('line 3: -c 2');
      expect(await row('time_limit').locator('td.value').textContent()).toBe('0-00:05:00');
      expect(await row('memory_per_node').locator('td.source').textContent()).toBe('default');
      expect(await page.locator('[data-testid=preview-warnings]').textContent()).toContain('--mail-user');

      // The editor does not trap the keyboard: Tab goes on to the Submit button.
      await editor.focus();
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Submit');

      // A field filled in wins over its directive, as the API's body does.
      await page.fill('#field-time_limit', '7');
      await expect.poll(() => row('time_limit').locator('td.value').textContent()).toBe('0-00:07:00');
      expect(await row('time_limit').locator('td.source').textContent()).toBe('form');
      expect(await page.locator('[data-testid=preview-warnings]').textContent()).toContain(
        'line 4: --time=5: overridden by job.time_limit in the body',
      );

      // The API's refusal is shown beside the field it names; nothing is made.
      await page.fill('#field-time_limit', 'soon');
      await page.click('button[type=submit]');
      const error = page.locator('[data-testid=field-time_limit-error]');
      await error.waitFor();
      expect(await error.textContent()).toContain('is not a Slurm time');
      expect(await page.getAttribute('#field-time_limit', 'aria-invalid')).toBe('true');
      expect(await page.getAttribute('#field-time_limit', 'aria-describedby')).toContain('field-time_limit-error');
      await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('field-time_limit');
      expect(page.url()).toMatch(/\/ui\/submit$/);
      await page.screenshot({ path: join(SCREENSHOTS, 'submit-1280.png'), fullPage: true });

      await page.fill('#field-time_limit', '');
      await page.click('button[type=submit]');
      await page.waitForURL(/\/ui\/jobs\/\d+$/);
      const id = page.url().split('/').pop()!;
      const job = await waitForState(started.api.t, id, ['COMPLETED']);
      expect(job.state).toBe('COMPLETED');
      const shown = (await (await started.api.t.call('GET', `/v1/jobs/${id}`)).json()) as Record<string, unknown>;
      expect(shown).toMatchObject({ name: 'from-directive', cpus_per_task: 2, time_limit: '0-00:05:00' });
      await page.close();
    });

    it('starts from another job with ?from=: its script, environment and fields, its markup name shown as text', async () => {
      const script = '#!/bin/bash\n#SBATCH -c 2\necho "$GREETING"\n';
      const id = await started.api.t.submit(
        { name: XSS_NAME, partition: 'default', environment: { GREETING: 'hi <b>there</b>' }, time_limit: '3' },
        script,
      );
      const page = await signedIn(ADMIN_TOKEN);
      await page.goto(`${started.api.url}/ui/submit?from=${id}`);
      await page.waitForSelector('#field-name');
      expect(await page.inputValue('#field-name')).toBe(XSS_NAME);
      expect(await page.inputValue('#field-time_limit')).toBe('0-00:03:00');
      expect(await page.inputValue('#field-environment')).toBe('GREETING=hi <b>there</b>');
      // Set by the script's directive: left to it, as it was.
      expect(await page.inputValue('#field-cpus_per_task')).toBe('');
      expect(await page.locator('[data-testid=script-editor] .cm-content').innerText()).toContain('#SBATCH -c 2');
      const row = (field: string) => page.locator(`[data-testid=preview] tr[data-field=${field}]`);
      await expect.poll(() => row('name').locator('td.value').textContent()).toBe(XSS_NAME);
      expect(await row('cpus_per_task').locator('td.source').textContent()).toBe('line 2: -c 2');
      expect(await page.locator('img[src=x]').count()).toBe(0);
      expect(await page.locator('b', { hasText: 'there' }).count()).toBe(0);
      await page.screenshot({ path: join(SCREENSHOTS, 'submit-resubmit-1280.png'), fullPage: true });
      await page.close();
    });

    it('shows a directive the API refuses beside the script, naming its line, in the preview and after a submit', async () => {
      const page = await signedIn(ADMIN_TOKEN);
      await page.goto(`${started.api.url}/ui/submit`);
      const editor = page.locator('[data-testid=script-editor] .cm-content');
      await editor.waitFor();
      await editor.fill('#!/bin/bash\n#SBATCH --gres=gpu:1\nnvidia-smi\n');
      const problems = page.locator('[data-testid=preview-problems]');
      await expect.poll(() => problems.textContent()).toContain('line 2: --gres=gpu:1: not supported');
      await page.click('button[type=submit]');
      const error = page.locator('[data-testid=script-error]');
      await error.waitFor();
      expect(await error.textContent()).toContain('line 2: --gres=gpu:1: not supported');
      expect(await editor.getAttribute('aria-invalid')).toBe('true');
      expect(page.url()).toMatch(/\/ui\/submit$/);
      await page.close();
    });

    it('fits a phone', () => fitsPhone('/ui/submit', '[data-testid=script-editor] .cm-content', 'submit'));
  });

  describe('History', () => {
    it('lists finished jobs as sacct does, its markup name as text, filtered, and exports them as CSV', async () => {
      const { t } = started.api;
      const id = await t.submit({ name: XSS_NAME, partition: 'default' }, '#!/bin/bash\nexit 3');
      await waitForState(t, id, ['FAILED']);
      const page = await signedIn(ADMIN_TOKEN);
      await page.goto(`${started.api.url}/ui/history`);
      const row = page.locator(`[data-testid=history-table] tr[data-job="${id}"]`);
      await row.waitFor();
      const cells = await row.locator('td').allTextContents();
      expect(cells[0]).toBe(id);
      expect(cells[1]).toBe(XSS_NAME);
      expect(cells[5]).toBe('FAILED');
      expect(cells[9]).toMatch(/^\d\d:\d\d:\d\d$/);
      expect(cells[11]).toBe('3:0');
      expect(await page.locator('img[src=x]').count()).toBe(0);
      expect(await row.locator('a').getAttribute('href')).toBe(`/ui/jobs/${id}`);

      await page.selectOption('select[name=state]', 'COMPLETED');
      await page.click('form[aria-label=Filters] button[type=submit]');
      await page.waitForURL(/state=COMPLETED/);
      await expect.poll(() => row.count()).toBe(0);
      await page.selectOption('select[name=state]', 'FAILED');
      await page.fill('input[name=name]', XSS_NAME);
      await page.click('form[aria-label=Filters] button[type=submit]');
      await row.waitFor();
      expect(await page.locator('[data-testid=history-table] tbody tr').count()).toBe(1);
      await page.screenshot({ path: join(SCREENSHOTS, 'history-1280.png'), fullPage: true });

      const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-csv]')]);
      const csv = readFileSync((await download.path())!, 'utf8').split(/\r?\n/);
      expect(csv[0]).toMatch(/^JobID,JobName,/);
      expect(csv.filter((line) => line.startsWith(`${id},`))).toHaveLength(1);
      expect(csv.filter((line) => line !== '' && !line.startsWith('JobID'))).toHaveLength(1);
      await page.close();
    });

    it('pages with the API cursor', async () => {
      const { t } = started.api;
      // Pending in a partition no node serves, then cancelled: ended, and at once.
      const ids: string[] = [];
      for (let i = 0; i < 51; i++)
        ids.push(await t.submit({ partition: 'tiny', name: `paged-${i}` }, '#!/bin/bash\ntrue'));
      for (const id of ids) expect((await t.call('POST', `/v1/jobs/${id}/cancel`)).status).toBe(200);
      const page = await signedIn(ADMIN_TOKEN);
      await page.goto(`${started.api.url}/ui/history?partition=tiny`);
      const rows = page.locator('[data-testid=history-table] tbody tr');
      await expect.poll(() => rows.count()).toBe(50);
      expect(await rows.first().getAttribute('data-job')).toBe(ids[50]);
      await page.click('nav.pager button:has-text("Older")');
      await expect.poll(() => rows.count()).toBe(1);
      expect(await rows.first().getAttribute('data-job')).toBe(ids[0]);
      expect(await page.isDisabled('nav.pager button:has-text("Older")')).toBe(true);
      await page.click('nav.pager button:has-text("Newer")');
      await expect.poll(() => rows.count()).toBe(50);
      await page.close();
    });

    it('fits a phone', () => fitsPhone('/ui/history', '[data-testid=history-table]', 'history'));
  });

  describe('Overview', () => {
    it('counts jobs per state and partition, and charts the sampled history over the hour or the day', async () => {
      const { t } = started.api;
      const id = await t.submit({ partition: 'default', name: 'counted' }, '#!/bin/bash\ntrue');
      await waitForState(t, id, ['COMPLETED']);
      // A reconciler run samples the last whole minute, as the hosts' reconcilers do each minute.
      await new Reconciler(t.queue).run(t.database.db);
      const page = await signedIn(ADMIN_TOKEN);
      await page.goto(`${started.api.url}/ui/overview`);
      const all = page.locator('[data-testid=state-counts] tfoot td[data-state=COMPLETED]');
      await all.waitFor();
      expect(Number(await all.textContent())).toBeGreaterThanOrEqual(1);
      expect(await page.locator('[data-testid=state-counts] tbody tr[data-partition=default]').count()).toBe(1);

      const charts = page.locator('[data-testid=charts] figure');
      await expect.poll(() => charts.count()).toBe(4);
      expect(await page.locator('[data-testid=charts] canvas').count()).toBe(4);
      expect(await page.locator('[data-testid=no-samples]').count()).toBe(0);
      // A legend naming the series (the axes and their units are drawn on the canvas: see the screenshot).
      const legend = await charts.nth(0).locator('.u-legend').textContent();
      expect(legend).toContain('default allocated');
      expect(legend).toContain('default total');
      expect(await charts.nth(2).locator('.u-legend').textContent()).toContain('OUT_OF_MEMORY');
      await page.screenshot({ path: join(SCREENSHOTS, 'overview-1280.png'), fullPage: true });

      await page.click('button:has-text("Last day")');
      await expect.poll(() => page.getAttribute('button:has-text("Last day")', 'aria-pressed')).toBe('true');
      await expect.poll(() => page.locator('[data-testid=charts] canvas').count()).toBe(4);
      expect(await page.locator('[data-testid=no-samples]').count()).toBe(0);
      await page.close();
    });

    it('fits a phone, its charts as wide as the screen', async () => {
      await fitsPhone('/ui/overview', '[data-testid=charts] canvas', 'overview');
    });
  });

  describe('Nodes', () => {
    it('drains a node with a reason (required) and resumes it after a confirmation, as an admin', async () => {
      const page = await signedIn(ADMIN_TOKEN);
      await page.click('nav a:has-text("Nodes")');
      const row = page.locator('[data-testid=nodes-table] tr[data-node=pages-node]');
      await row.waitFor();
      expect(await row.locator('td').nth(0).textContent()).toBe('UP');
      expect(await row.locator('td').nth(2).textContent()).toMatch(/^0\/\d+$/);
      expect(await row.locator('time').getAttribute('title')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);

      await row.locator('button:has-text("Drain")').click();
      const dialog = page.locator('dialog[open]');
      await dialog.waitFor();
      // The reason is required: Drain stays disabled until one is given; the field has the focus.
      expect(await dialog.locator('button[type=submit]').isDisabled()).toBe(true);
      await page.keyboard.type('disk <b>swap</b> failing');
      await page.keyboard.press('Enter');
      await expect.poll(() => row.locator('td').nth(0).textContent()).toBe('DRAINING');
      expect(await row.locator('[data-testid=node-reason]').textContent()).toMatch(
        /^disk <b>swap<\/b> failing by \S+, \d{4}-/,
      );
      expect(await page.locator('[data-testid=nodes-table] b').count()).toBe(0);
      const shown = (await (await started.api.t.call('GET', '/v1/nodes')).json()) as {
        nodes: { name: string; state: string; reason: string | null }[];
      };
      expect(shown.nodes.find((node) => node.name === 'pages-node')).toMatchObject({
        state: 'DRAINING',
        reason: 'disk <b>swap</b> failing',
      });
      await page.screenshot({ path: join(SCREENSHOTS, 'nodes-1280.png'), fullPage: true });

      // Resume asks first: "Keep" changes nothing.
      await row.locator('button:has-text("Resume")').click();
      await page.locator('dialog[open] button:has-text("Keep")').click();
      expect(await row.locator('td').nth(0).textContent()).toBe('DRAINING');
      await row.locator('button:has-text("Resume")').click();
      await page.locator('dialog[open] button.danger').click();
      await expect.poll(() => row.locator('td').nth(0).textContent()).toBe('UP');
      expect(await row.locator('[data-testid=node-reason]').textContent()).toBe('—');

      // Drained elsewhere (the API, the CLI): the page shows it without a reload.
      const { t } = started.api;
      const drained = await t.call('POST', '/v1/nodes/pages-node/drain', { body: { reason: 'from the API' } });
      expect(drained.status).toBe(200);
      await expect.poll(() => row.locator('td').nth(0).textContent(), { timeout: 30_000 }).toBe('DRAINING');
      expect(await row.locator('[data-testid=node-reason]').textContent()).toContain('from the API');
      expect((await t.call('POST', '/v1/nodes/pages-node/resume')).status).toBe(200);
      await expect.poll(() => row.locator('td').nth(0).textContent(), { timeout: 30_000 }).toBe('UP');
      await page.close();
    });

    it('is not shown to a user session', async () => {
      const token = await started.api.t.token('user', 'physics', 'alice');
      const page = await signedIn(token);
      expect(await page.locator('nav a:has-text("Nodes")').count()).toBe(0);
      await page.goto(`${started.api.url}/ui/nodes`);
      await page.locator('h1:has-text("Not found")').waitFor();
      expect(await page.locator('[data-testid=nodes-table]').count()).toBe(0);
      await page.close();
    });

    it('fits a phone', () => fitsPhone('/ui/nodes', '[data-testid=nodes-table]', 'nodes'));
  });
});
