/**
 * The console's job page explains a PENDING job (issue 19, item 6) in headless Chromium against an API served over
 * HTTP: its reason, its place, its expected start, the jobs ahead (another account's anonymised for a user), and each
 * node with why it cannot start there; the section goes once the job is no longer PENDING.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserMissing, launchChromium } from './helpers/browser.js';
import { ADMIN_TOKEN } from './helpers/test-app.js';
import { startTestApi, type TestApi } from './helpers/test-node.js';
import { beat, json, smallJob, startOn } from './helpers/pending-cluster.js';

const missing = browserMissing();
if (missing) console.log(`console-why.test.ts: ${missing}`);

describe.skipIf(missing !== undefined)('the job page of a PENDING job', () => {
  let api: TestApi;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    api = await startTestApi();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await Promise.all(contexts.map((context) => context.close()));
    await browser?.close();
    await api?.close();
  });

  async function signedIn(token: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${api.url}/ui/login`);
    await page.fill('#token', token);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=signed-in-as]');
    return page;
  }
  const submit = async (extra: Record<string, unknown>, token = ADMIN_TOKEN) =>
    (
      await json(
        api.t.call('POST', '/v1/jobs', {
          token,
          body: { job: smallJob('p-console-why', extra), script: '#!/bin/bash\ntrue' },
        }),
        201,
      )
    ).id as string;

  it('shows why it waits, node by node, and hides it once the job runs', async () => {
    const alice = await api.t.token('user', 'physics', 'alice');
    await beat(api.t, 'n-console-why', ['p-console-why'], { cpus: 1, memory_mb: 4000 });
    const running = await submit({});
    await startOn(api.t, 'n-console-why', 'p-console-why', [running], 1, 4000);
    const other = await submit({ account: 'chem', name: 'secret' });
    const hers = await submit({ name: 'hers' }, alice);

    const page = await signedIn(alice);
    await page.goto(`${api.url}/ui/jobs/${hers}`);
    await page.waitForSelector('[data-testid=why-nodes]');
    expect(await page.textContent('[data-testid=why-reason]')).toBe(
      `Priority: jobs of higher priority are ahead of it in partition p-console-why, job ${other} first`,
    );
    expect(await page.textContent('[data-testid=why-position]')).toBe('2 in partition p-console-why (1 job ahead)');
    expect(await page.textContent('[data-testid=why-start]')).toContain('on n-console-why');
    const ahead = await page.locator('[data-testid=why-ahead] tbody tr td').allTextContents();
    expect(ahead).toEqual([other, '0', '1', '1G', '0-01:00:00', 'another account', '—', '—']);
    const node = await page.locator('[data-testid=why-nodes] tbody tr td').allTextContents();
    expect(node.slice(0, 2)).toEqual(['n-console-why', 'UP']);
    expect(node[2]).toMatch(/^busy: 0 of 1 CPUs/);

    // Cancelled: the page shows its end, and no longer why it waits.
    await json(api.t.call('POST', `/v1/jobs/${hers}/cancel`), 200);
    await page.waitForSelector('[data-testid=job-state]:has-text("CANCELLED")');
    expect(await page.locator('[data-testid=why-pending]').count()).toBe(0);
    await page.close();
  });
});
