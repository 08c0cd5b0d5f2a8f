import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { apiTokens } from '../shared/db/schema.js';
import { createTestApp, validJob, type TestApp } from './helpers/test-app.js';
import { backends } from './helpers/test-databases.js';
import { moveJob } from './helpers/job-states.js';

for (const backend of await backends()) {
  describe.skipIf(backend.skip)(`auth on ${backend.name}`, () => {
    let t: TestApp;
    let alice: string;
    let bob: string;
    let node: string;
    beforeAll(async () => {
      t = await createTestApp(backend);
      alice = await t.token('user', 'physics');
      bob = await t.token('user', 'chem');
      node = await t.token('node', 'n1');
    });
    afterAll(() => t?.close());

    const protectedRoutes: [string, string][] = [
      ['POST', '/v1/jobs'],
      ['GET', '/v1/jobs'],
      ['GET', '/v1/jobs/1'],
      ['GET', '/v1/jobs/1/events'],
      ['POST', '/v1/jobs/1/cancel'],
      ['GET', '/v1/stats'],
      ['GET', '/v1/tokens'],
      ['POST', '/v1/tokens'],
      ['DELETE', '/v1/tokens/1'],
      ['POST', '/jobs/submit'],
      ['GET', '/jobs/query/1'],
      ['POST', '/jobs/cancel/1'],
      ['GET', '/dashboard'],
      ['GET', '/v1/dashboard'],
    ];

    it.each(protectedRoutes)('%s %s needs a token', async (method, path) => {
      for (const token of [null, 'nonsense-token', '']) {
        const response = await t.call(method, path, { token });
        expect(response.status).toBe(401);
        expect(await response.json()).toMatchObject({ code: 'unauthenticated' });
      }
      const basic = await t.app.request(path, { method, headers: { Authorization: 'Basic dXNlcjpwYXNz' } });
      expect(basic.status).toBe(401);
    });

    it('leaves the OpenAPI document, its page, the original / and /health, and the probes open', async () => {
      for (const path of ['/openapi.json', '/docs', '/', '/health', '/livez', '/readyz']) {
        expect((await t.call('GET', path, { token: null })).status).toBe(200);
      }
    });

    it('answers health to any token too, even one it does not know: it reads none', async () => {
      for (const token of [alice, node, 'nonsense-token']) {
        expect((await t.call('GET', '/health', { token })).status).toBe(200);
      }
    });

    it('stores tokens only as hashes', async () => {
      const rows = await t.database.db.select().from(apiTokens);
      for (const row of rows) {
        expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
        expect([alice, bob, node]).not.toContain(row.hash);
      }
      const listed = await (await t.call('GET', '/v1/tokens')).json();
      expect(JSON.stringify(listed)).not.toContain(alice);
      expect(listed.tokens[0]).not.toHaveProperty('token');
    });

    it("lets a user see and cancel only its own account's jobs; another's are 404", async () => {
      const mine = await t.submit(validJob({ account: undefined }), 'true', alice);
      const theirs = await t.submit(validJob({ account: 'chem' }), 'true', bob);
      expect((await (await t.call('GET', `/v1/jobs/${mine}`, { token: alice })).json()).account).toBe('physics');
      for (const [method, path] of [
        ['GET', `/v1/jobs/${theirs}`],
        ['GET', `/v1/jobs/${theirs}/events`],
        ['POST', `/v1/jobs/${theirs}/cancel`],
        ['GET', `/jobs/query/${theirs}`],
        ['POST', `/jobs/cancel/${theirs}`],
      ] as const) {
        const response = await t.call(method, path, { token: alice });
        expect(response.status, `${method} ${path}`).toBe(404);
        expect(await response.json()).toMatchObject({ code: 'job_not_found' });
      }
      expect((await (await t.call('GET', `/v1/jobs/${theirs}`, { token: bob })).json()).state).toBe('PENDING');
      const listed = await (await t.call('GET', '/v1/jobs', { token: alice })).json();
      expect(listed.jobs.map((j: { account: string }) => j.account)).toEqual(['physics']);
      const widened = await (await t.call('GET', '/v1/jobs?account=chem', { token: alice })).json();
      expect(widened.jobs).toEqual([]);
      const stats = await (await t.call('GET', '/v1/stats', { token: alice })).json();
      expect(stats.total).toBe(1);
    });

    it("refuses a user's submit to another account, naming the field", async () => {
      const response = await t.call('POST', '/v1/jobs', {
        token: alice,
        body: { job: validJob({ account: 'chem' }), script: 'true' },
      });
      expect(response.status).toBe(403);
      expect((await response.json()).detail).toContain('job.account');
    });

    it('keeps users and nodes out of token management, and nodes out of user routes', async () => {
      expect((await t.call('GET', '/v1/tokens', { token: alice })).status).toBe(403);
      expect((await t.call('POST', '/v1/tokens', { token: alice, body: { name: 'x', kind: 'admin' } })).status).toBe(
        403,
      );
      for (const [method, path] of [
        ['GET', '/v1/jobs'],
        ['POST', '/jobs/submit'],
        ['GET', '/dashboard'],
        ['GET', '/v1/tokens'],
      ] as const) {
        const response = await t.call(method, path, { token: node });
        expect(response.status).toBe(403);
        expect(await response.json()).toMatchObject({ code: 'forbidden' });
      }
    });

    it('refuses a revoked token at once, and revoking twice is harmless', async () => {
      const created = await (
        await t.call('POST', '/v1/tokens', { body: { name: 'temp', kind: 'user', account: 'physics', user: 'temp' } })
      ).json();
      expect((await t.call('GET', '/v1/jobs', { token: created.token })).status).toBe(200);
      const revoked = await t.call('DELETE', `/v1/tokens/${created.id}`);
      expect(revoked.status).toBe(200);
      const first = (await revoked.json()).revoked_at;
      expect(first).toMatch(/Z$/);
      expect((await t.call('GET', '/v1/jobs', { token: created.token })).status).toBe(401);
      expect((await (await t.call('DELETE', `/v1/tokens/${created.id}`)).json()).revoked_at).toBe(first);
      expect((await t.call('DELETE', '/v1/tokens/987654')).status).toBe(404);
    });

    it('refuses a token revoked by another process once the cache time has passed', async () => {
      let clock = Date.parse('2026-01-01T00:00:00Z');
      const timed = await createTestApp(backend, { tokenCacheMs: 5000, now: () => new Date(clock) });
      try {
        const created = await (
          await timed.call('POST', '/v1/tokens', {
            body: { name: 'cached', kind: 'user', account: 'x', user: 'cached' },
          })
        ).json();
        expect((await timed.call('GET', '/v1/jobs', { token: created.token })).status).toBe(200);
        // Revoked behind this app's back, as another API process would.
        await timed.database.db
          .update(apiTokens)
          .set({ revokedAt: new Date() })
          .where(eq(apiTokens.id, Number(created.id)));
        clock += 4000;
        expect((await timed.call('GET', '/v1/jobs', { token: created.token })).status).toBe(200);
        clock += 2000;
        expect((await timed.call('GET', '/v1/jobs', { token: created.token })).status).toBe(401);
      } finally {
        await timed.close();
      }
    });

    it("shows a user only its own account's jobs on the dashboard", async () => {
      const scoped = await createTestApp(backend);
      try {
        const carol = await scoped.token('user', 'astro');
        await scoped.submit(validJob({ account: 'astro', name: 'mine' }));
        await scoped.submit(validJob({ account: 'bio', name: 'theirs' }));
        const theirsRunning = Number(await scoped.submit(validJob({ account: 'bio', name: 'theirs-running' })));
        await moveJob(scoped.database.db, theirsRunning, 'RUNNING');
        const body = await (await scoped.call('GET', '/v1/dashboard', { token: carol })).json();
        expect(body.jobs.total).toBe(1);
        expect(body.pending.map((j: { name: string }) => j.name)).toEqual(['mine']);
        expect(body.running).toEqual([]);
        const admin = await (await scoped.call('GET', '/v1/dashboard')).json();
        expect(admin.jobs.total).toBe(3);
        const original = await (await scoped.call('GET', '/dashboard', { token: carol })).json();
        expect(original.job_stats.total).toBe(1);
        expect(original.pending_jobs.map((j: { name: string }) => j.name)).toEqual(['mine']);
        expect(original.running_jobs).toEqual([]);
      } finally {
        await scoped.close();
      }
    });

    it('lets an admin token made through the API manage tokens', async () => {
      const admin = await t.token('admin');
      expect((await t.call('GET', '/v1/tokens', { token: admin })).status).toBe(200);
    });

    it.each([
      [{ name: 'x', kind: 'user', user: 'x' }, 'account'],
      [{ name: 'x', kind: 'user', account: 'a' }, 'user'],
      [{ name: 'x', kind: 'user', account: 'a', user: 'root' }, 'user'],
      [{ name: 'x', kind: 'user', account: 'a', user: 'Alice' }, 'user'],
      [{ name: 'x', kind: 'node', node: 'n', user: 'x' }, 'user'],
      [{ name: 'x', kind: 'admin', account: 'a' }, 'account'],
      [{ name: 'x', kind: 'node' }, 'node'],
      [{ name: 'x', kind: 'node', node: 'n' }, 'partitions'],
      [{ name: 'x', kind: 'node', node: 'n', partitions: [] }, 'partitions'],
      [{ name: 'x', kind: 'user', account: 'a', partitions: ['batch'] }, 'partitions'],
      [{ name: 'x', kind: 'root' }, 'kind'],
      [{ name: '', kind: 'admin' }, 'name'],
      [{ name: 'x', kind: 'admin', extra: true }, 'extra'],
    ])('refuses token body %j naming %s', async (body, field) => {
      const response = await t.call('POST', '/v1/tokens', { body });
      expect(response.status).toBe(422);
      expect((await response.json()).errors.map((e: { field: string }) => e.field)).toContain(field);
    });
  });
}
