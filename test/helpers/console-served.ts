/**
 * What any host of the app must serve of the web console, checked over real HTTP against its URL: the page (with its
 * CSP) for /ui and a deep path, the assets it links with their types, /docs and its files, and a sign-in whose cookie
 * the API then accepts from the same origin. Used on the Workers host in workerd (wrangler dev and Miniflare), whose
 * asset binding serves the files; test/console-http.test.ts checks the rules in depth in-process.
 */
import { expect } from 'vitest';

export async function expectConsoleServed(url: string, token: string): Promise<void> {
  for (const path of ['/ui', '/ui/jobs/1']) {
    const page = await fetch(`${url}${path}`);
    expect(page.status, path).toBe(200);
    expect(page.headers.get('Content-Type'), path).toMatch(/^text\/html/);
    expect(page.headers.get('Content-Security-Policy'), path).toContain("default-src 'self'");
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="(\/ui\/assets\/[^"]+)"/g)].map((match) => match[1]!);
    expect(assets.length).toBe(2);
    for (const asset of assets) {
      const answer = await fetch(`${url}${asset}`);
      expect(answer.status, asset).toBe(200);
      expect(answer.headers.get('Content-Type'), asset).toMatch(asset.endsWith('.js') ? /javascript/ : /^text\/css/);
      expect(answer.headers.get('X-Content-Type-Options')).toBe('nosniff');
      await answer.arrayBuffer();
    }
  }
  expect((await fetch(`${url}/ui/assets/none.js`)).status).toBe(404);
  const docs = await fetch(`${url}/docs`);
  expect(docs.status).toBe(200);
  expect(await docs.text()).toContain('/docs/swagger-ui-bundle.js');
  const css = await fetch(`${url}/docs/swagger-ui.css`);
  expect(css.status).toBe(200);
  expect(css.headers.get('Content-Type')).toMatch(/^text\/css/);
  await css.arrayBuffer();

  const signIn = await fetch(`${url}/ui/session`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: url },
    body: JSON.stringify({ token }),
  });
  expect(signIn.status).toBe(200);
  const cookie = signIn.headers.get('Set-Cookie')!.split(';')[0]!;
  await signIn.arrayBuffer();
  const jobs = await fetch(`${url}/v1/jobs`, { headers: { Cookie: cookie, 'Sec-Fetch-Site': 'same-origin' } });
  expect(jobs.status).toBe(200);
  await jobs.arrayBuffer();
}
