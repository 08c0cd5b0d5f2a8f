/**
 * Webhooks (issue 21, item 2; api/webhooks/): a local receiver on 127.0.0.1 (the allow-list opened for it) checks each
 * delivery's signature with its own HMAC code; retries after 500s with growing pauses (the sender's clock is the
 * test's, so nothing sleeps); order per job across retries; each account's subscription sees its own jobs only; the
 * allow-list's refusals, at subscription and at delivery; the delivery log; redelivery through the API.
 * On PGlite and on the Postgres server.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { comparePositions, parsePosition } from '../api/events/event-position.js';
import { resolveHost } from '../api/hosts/node/resolve-host.js';
import { deliverWebhooks } from '../api/webhooks/webhook-deliverer.js';
import { DEFAULT_SENDER, type SenderOptions } from '../api/webhooks/webhook-sender.js';
import { WebhookAllowList } from '../api/webhooks/webhook-targets.js';
import { verifyWebhookSignature } from '../sdk/webhook-signature.js';
import { createTestApp, validJob, type TestApp } from './helpers/test-app.js';
import { backends } from './helpers/test-databases.js';
import { waitFor, waitUntil } from './helpers/wait-for.js';
import { startNodeHostDeployment, type NodeHostDeployment } from './fixtures/node-host-deployment.js';
import { startWorkerDeployment, type WorkerDeployment } from './fixtures/worker-deployment.js';

interface Received {
  path: string;
  eventId: string;
  body: { id: string; type: string; created_at: string; data: { job_id: string; account: string } };
  status: number;
}

/** A receiver on 127.0.0.1: checks each signature as a Stripe-style receiver does; `answer` picks the status. */
async function startReceiver(secret: () => string, answer: (request: Received) => number) {
  const received: Received[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const header = String(request.headers['conductor-signature'] ?? '');
      const t = /(?:^|,)t=(\d+)/.exec(header)?.[1] ?? '';
      const v1 = /(?:^|,)v1=([0-9a-f]{64})/.exec(header)?.[1] ?? '';
      const expected = createHmac('sha256', secret()).update(`${t}.${raw}`).digest();
      if (v1 === '' || !timingSafeEqual(expected, Buffer.from(v1, 'hex'))) {
        response.writeHead(400).end('bad signature');
        return;
      }
      const entry: Received = {
        path: request.url ?? '',
        eventId: String(request.headers['conductor-event-id']),
        body: JSON.parse(raw) as Received['body'],
        status: 0,
      };
      entry.status = answer(entry);
      received.push(entry);
      response.writeHead(entry.status).end();
    });
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((closed) => server.close(() => closed())),
  };
}

const ALLOW_LOOPBACK = WebhookAllowList.parse('127.0.0.1');

describe('the webhook allow-list', () => {
  const toLoopback = () => Promise.resolve(['127.0.0.1']);
  it.each([
    ['https://127.0.0.1/x', '127.0.0.1 is a private or local address'],
    ['https://10.0.0.1/', '10.0.0.1 is a private or local address'],
    ['https://172.16.5.4/', '172.16.5.4 is a private or local address'],
    ['https://192.168.1.1/', '192.168.1.1 is a private or local address'],
    ['https://100.64.0.1/', '100.64.0.1 is a private or local address'],
    ['https://169.254.169.254/latest/meta-data', '169.254.169.254 is a private or local address'],
    ['https://0.0.0.0/', '0.0.0.0 is a private or local address'],
    ['https://0x7f.1/', '127.0.0.1 is a private or local address'],
    ['https://[::1]/', '::1 is a private or local address'],
    ['https://[::]/', ':: is a private or local address'],
    ['https://[::ffff:127.0.0.1]/', '::ffff:7f00:1 is a private or local address'],
    ['https://[fd00::1]/', 'fd00::1 is a private or local address'],
    ['https://[fe80::1]/', 'fe80::1 is a private or local address'],
    ['https://localhost:8443/', 'localhost is a local name'],
    ['https://api.localhost/', 'api.localhost is a local name'],
    ['https://rebound.example/', 'rebound.example resolves to 127.0.0.1, a private or local address'],
    ['http://8.8.8.8/', 'must be an https URL (http only to a host CONDUCTOR_WEBHOOK_ALLOW names)'],
    ['ftp://8.8.8.8/', 'must be an https URL'],
    ['https://8.8.8.8/', null],
    ['https://[2606:4700::1111]/', null],
  ])('by default: %s', async (url, refusal) => {
    expect(await WebhookAllowList.NONE.refusal(new URL(url), toLoopback)).toBe(refusal);
  });

  it.each([
    ['http://127.0.0.1:99/x', null],
    ['https://10.2.3.4/', null],
    ['http://[::1]/', null],
    ['http://receiver.test/', null],
    ['https://rebound.example/', null],
    ['https://127.0.0.2/', '127.0.0.2 is a private or local address'],
    ['https://10.0.0.1@11.0.0.1/', 'must not carry a user name or password'],
  ])('opened by 127.0.0.1, 10.0.0.0/8, receiver.test and ::1: %s', async (url, refusal) => {
    const allow = WebhookAllowList.parse('127.0.0.1, 10.0.0.0/8 receiver.test ::1');
    expect(await allow.refusal(new URL(url), toLoopback)).toBe(refusal);
  });

  it('refuses an entry that is no host, address or range', () => {
    expect(() => WebhookAllowList.parse('10.0.0.0/33')).toThrow(/"10.0.0.0\/33"/);
    expect(() => WebhookAllowList.parse('300.1.1.1')).toThrow(/"300.1.1.1"/);
  });
});

for (const backend of await backends()) {
  describe.skipIf(backend.skip)(`webhooks on ${backend.name}`, () => {
    let t: TestApp;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    const secrets = new Map<string, string>();
    // The receiver answers 500 to the first `failFirst` deliveries of job `failJob`.
    let failFirst = 0;
    let failJob = '';
    let clock = new Date('2030-01-01T00:00:00Z');
    const sender = (allow = ALLOW_LOOPBACK): SenderOptions => ({
      ...DEFAULT_SENDER,
      allow,
      resolve: resolveHost,
      now: () => clock,
      random: () => 0.5,
    });
    const pass = (allow?: WebhookAllowList) => deliverWebhooks(t.database.db, sender(allow), 4);
    /** Runs passes (the clock standing still) until `check` holds: events reach the fan-out once past the horizon. */
    const passUntil = (what: string, check: () => boolean) =>
      waitFor(what, async () => {
        await pass();
        return check() || undefined;
      });

    beforeAll(async () => {
      t = await createTestApp(backend, { webhookAllow: ALLOW_LOOPBACK, resolveHost });
      receiver = await startReceiver(
        () => secrets.get('current')!,
        (request) => (request.body.data.job_id === failJob && failFirst-- > 0 ? 500 : 200),
      );
    });
    afterAll(async () => {
      await receiver?.close();
      await t?.close();
    });

    const subscribe = async (body: Record<string, unknown>, token?: string) => {
      const response = await t.call('POST', '/v1/webhooks', { body, ...(token ? { token } : {}) });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> & { id: string } };
    };
    const deliveries = async (id: string) => {
      const response = await t.call('GET', `/v1/webhooks/${id}/deliveries`);
      expect(response.status).toBe(200);
      return ((await response.json()) as { deliveries: Record<string, unknown>[] }).deliveries;
    };
    const update = (jobId: string, n: number) =>
      t.database.db.execute(
        sql`INSERT INTO job_events (job_id, attempt, from_state, to_state, actor, kind, changes)
            VALUES (${Number(jobId)}, 0, 'PENDING', 'PENDING', 'test', 'update', jsonb_build_object('n', ${n}::int))`,
      );

    it('signs, retries 500s with growing pauses, keeps order per job, logs, and redelivers', async () => {
      const made = await subscribe({ url: `${receiver.url}/physics`, account: 'physics' });
      expect(made.status).toBe(201);
      expect(made.body.secret).toMatch(/^whsec_[0-9a-f]{64}$/);
      secrets.set('current', made.body.secret as string);
      const got = await t.call('GET', `/v1/webhooks/${made.body.id}`);
      expect(await got.json()).not.toHaveProperty('secret');

      const a = await t.submit();
      await update(a, 1);
      failJob = a;
      failFirst = 2;
      // A's first event (its submit) fails twice; meanwhile its later events wait, nothing else does.
      await passUntil('the first attempt', () => receiver.received.length >= 1);
      const b = await t.submit();
      await passUntil("B's event", () => receiver.received.some((r) => r.body.data.job_id === b));
      let log = await deliveries(made.body.id);
      const first = log.find((d) => d.job_id === a && d.attempts === 1)!;
      expect(first).toMatchObject({ status: 'pending', last_status_code: 500 });
      const pause = (d: Record<string, unknown>) =>
        Date.parse(d.next_attempt_at as string) - Date.parse(d.last_attempt_at as string);
      expect(pause(first)).toBe(30_000 * 0.875);
      expect(receiver.received.filter((r) => r.body.data.job_id === a)).toHaveLength(1);

      clock = new Date(clock.getTime() + 3_600_000);
      await pass();
      log = await deliveries(made.body.id);
      const second = log.find((d) => d.id === first.id)!;
      expect(second).toMatchObject({ attempts: 2, last_status_code: 500 });
      expect(pause(second)).toBe(60_000 * 0.875);

      clock = new Date(clock.getTime() + 3_600_000);
      await passUntil("all of A's events", () => receiver.received.filter((r) => r.body.data.job_id === a).length >= 4);
      const ofA = receiver.received.filter((r) => r.body.data.job_id === a);
      // The first event three times (500, 500, 200), then the update, in order.
      expect(ofA.map((r) => r.status)).toEqual([500, 500, 200, 200]);
      expect(ofA[0]!.eventId).toBe(ofA[2]!.eventId);
      expect(ofA[3]!.body.type).toBe('job.update');
      expect(ofA[3]!.eventId).toBe(ofA[3]!.body.id);
      expect(comparePositions(parsePosition(ofA[3]!.body.id)!, parsePosition(ofA[2]!.body.id)!)).toBeGreaterThan(0);
      // B's event went out while A's first was still failing.
      const bAt = receiver.received.findIndex((r) => r.body.data.job_id === b);
      expect(bAt).toBeLessThan(receiver.received.indexOf(ofA[2]!));

      log = await deliveries(made.body.id);
      const done = log.find((d) => d.id === first.id)!;
      expect(done).toMatchObject({ status: 'delivered', attempts: 3, last_status_code: 200, last_error: null });
      expect(done.delivered_at).toBe(clock.toISOString());

      const again = await t.call('POST', `/v1/webhooks/${made.body.id}/deliveries/${first.id as string}/redeliver`);
      expect(again.status).toBe(202);
      const before = receiver.received.length;
      await passUntil('the redelivery', () => receiver.received.length > before);
      expect(receiver.received.at(-1)!.eventId).toBe(ofA[0]!.eventId);
      expect((await t.call('POST', `/v1/webhooks/${made.body.id}/deliveries/999999/redeliver`)).status).toBe(404);
      expect((await t.call('DELETE', `/v1/webhooks/${made.body.id}`)).status).toBe(204);
    });

    it("gives each account's subscription its own jobs only, and a user token its own subscriptions", async () => {
      const secret = 'a-shared-test-secret-0123456789';
      secrets.set('current', secret);
      const chemistry = await t.token('user', 'chemistry');
      const physics = await subscribe({ url: `${receiver.url}/p2`, account: 'physics', secret });
      const mine = await subscribe({ url: `${receiver.url}/c2`, secret }, chemistry);
      expect(mine.status).toBe(201);
      expect(mine.body.account).toBe('chemistry');
      expect((await subscribe({ url: `${receiver.url}/x`, account: 'physics' }, chemistry)).status).toBe(403);
      expect((await t.call('GET', `/v1/webhooks/${physics.body.id}`, { token: chemistry })).status).toBe(404);
      const list = (await (await t.call('GET', '/v1/webhooks', { token: chemistry })).json()) as {
        webhooks: unknown[];
      };
      expect(list.webhooks).toHaveLength(1);

      const p = await t.submit();
      const c = await t.submit(validJob({ account: 'chemistry' }), undefined, chemistry);
      await passUntil('both jobs', () =>
        [p, c].every((job) => receiver.received.some((r) => r.body.data.job_id === job)),
      );
      for (const r of receiver.received.filter((r) => r.path === '/p2')) expect(r.body.data.account).toBe('physics');
      for (const r of receiver.received.filter((r) => r.path === '/c2')) expect(r.body.data.account).toBe('chemistry');
      expect(receiver.received.some((r) => r.path === '/c2' && r.body.data.job_id === c)).toBe(true);
      await t.call('DELETE', `/v1/webhooks/${physics.body.id}`);
      await t.call('DELETE', `/v1/webhooks/${mine.body.id}`, { token: chemistry });
    });

    it('sends only the states a subscription names; PATCH changes them, and refuses a URL as POST does', async () => {
      const made = await subscribe({ url: `${receiver.url}/states`, account: 'physics', states: ['RUNNING'] });
      secrets.set('current', made.body.secret as string);
      const patch = (body: unknown) => t.call('PATCH', `/v1/webhooks/${made.body.id}`, { body });
      const refused = await patch({ url: 'https://10.0.0.1/' });
      expect(refused.status).toBe(422);
      expect(((await refused.json()) as { errors: { field: string }[] }).errors[0]!.field).toBe('url');
      const changed = await patch({ states: ['CANCELLED'] });
      expect(await changed.json()).toMatchObject({ url: `${receiver.url}/states`, states: ['CANCELLED'] });
      const job = await t.submit();
      expect((await t.call('POST', `/v1/jobs/${job}/cancel`)).status).toBeLessThan(300);
      const mine = () => receiver.received.filter((r) => r.path === '/states');
      await passUntil('the cancel', () => mine().length >= 1);
      await pass();
      expect(mine().map((r) => (r.body.data as unknown as { to_state: string }).to_state)).toEqual(['CANCELLED']);
      await t.call('DELETE', `/v1/webhooks/${made.body.id}`);
    });

    it('refuses states named twice or given as a string, naming states and making nothing', async () => {
      const list = async () =>
        ((await (await t.call('GET', '/v1/webhooks')).json()) as { webhooks: unknown[] }).webhooks;
      const before = await list();
      for (const states of [['COMPLETED', 'COMPLETED'], 'COMPLETED']) {
        const refused = await subscribe({ url: `${receiver.url}/twice`, account: 'physics', states });
        expect(refused.status).toBe(422);
        const errors = (refused.body as unknown as { errors: { field: string; message: string }[] }).errors;
        expect(errors.map((error) => error.field)).toEqual(['states']);
        expect(errors[0]!.message).toMatch(Array.isArray(states) ? /once/ : /array/);
      }
      expect(await list()).toEqual(before);
    });

    it("fails a delivery 24 hours after its first attempt; the job's later events then go on; redelivery revives it", async () => {
      const made = await subscribe({ url: `${receiver.url}/give-up`, account: 'physics' });
      secrets.set('current', made.body.secret as string);
      const job = await t.submit();
      failJob = job;
      failFirst = Number.POSITIVE_INFINITY;
      await update(job, 1);
      const mine = () => receiver.received.filter((r) => r.path === '/give-up');
      await passUntil('the first attempt', () => mine().length >= 1);
      clock = new Date(clock.getTime() + 25 * 3_600_000);
      await pass();
      const [failed] = (await deliveries(made.body.id)).filter((d) => d.status === 'failed');
      expect(failed).toMatchObject({ attempts: 2, last_status_code: 500, failed_at: clock.toISOString() });
      expect(failed!.next_attempt_at).toBeNull();
      failFirst = 0;
      // The job's update is no longer held back by it.
      await passUntil('the next event', () => mine().some((r) => r.body.type === 'job.update'));
      expect(
        (await t.call('POST', `/v1/webhooks/${made.body.id}/deliveries/${failed!.id as string}/redeliver`)).status,
      ).toBe(202);
      await passUntil('the redelivery', () => mine().at(-1)!.eventId === failed!.event_id);
      const revived = (await deliveries(made.body.id)).find((d) => d.id === failed!.id)!;
      expect(revived).toMatchObject({ status: 'delivered', attempts: 3, last_status_code: 200 });
      await t.call('DELETE', `/v1/webhooks/${made.body.id}`);
    });

    it('refuses loopback, private and resolving-to-loopback targets unless allowed, at subscription and delivery', async () => {
      const closed = await createTestApp(backend, { resolveHost, partitions: [] });
      try {
        for (const url of [
          'https://127.0.0.1/hook',
          'https://10.0.0.1/hook',
          'https://[::1]/',
          'http://example.com/',
        ]) {
          const response = await closed.call('POST', '/v1/webhooks', { body: { url, account: 'physics' } });
          expect(response.status, url).toBe(422);
          const problem = (await response.json()) as { errors: { field: string }[] };
          expect(problem.errors[0]!.field).toBe('url');
        }
        const name = hostname();
        const loopback = (await resolveHost(name)).every((address) => address.startsWith('127.') || address === '::1');
        if (loopback) {
          const response = await closed.call('POST', '/v1/webhooks', {
            body: { url: `https://${name}/hook`, account: 'physics' },
          });
          expect(response.status).toBe(422);
        }
        const count = (await closed.database.db.execute(sql`SELECT count(*)::int AS n FROM webhooks`)) as unknown as {
          rows: { n: number }[];
        };
        expect(count.rows[0]!.n).toBe(0);
      } finally {
        await closed.close();
      }

      // Allowed when made, refused when sent: the attempt fails with the reason in the log.
      const made = await subscribe({ url: `${receiver.url}/later`, account: 'physics' });
      const before = receiver.received.length;
      await t.submit();
      const log = await waitFor('a refused attempt', async () => {
        await pass(WebhookAllowList.NONE);
        const entries = await deliveries(made.body.id);
        return entries.find((d) => d.attempts === 1);
      });
      expect(log.last_error).toMatch(
        /refused by the allow-list \(CONDUCTOR_WEBHOOK_ALLOW\): 127\.0\.0\.1 is a private/,
      );
      expect(log.last_status_code).toBeNull();
      expect(receiver.received.length).toBe(before);
      await t.call('DELETE', `/v1/webhooks/${made.body.id}`);
    });

    it('checks a signature with the SDK helper', async () => {
      const body = '{"id":"1-2"}';
      const t0 = 1_900_000_000;
      const mac = createHmac('sha256', 'k-0123456789abcdef').update(`${t0}.${body}`).digest('hex');
      const header = `t=${t0},v1=${mac}`;
      expect(await verifyWebhookSignature('k-0123456789abcdef', header, body, 300, t0 + 10)).toBe(true);
      expect(await verifyWebhookSignature('another-secret-012345', header, body, 300, t0 + 10)).toBe(false);
      expect(await verifyWebhookSignature('k-0123456789abcdef', header, body, 300, t0 + 301)).toBe(false);
      expect(await verifyWebhookSignature('k-0123456789abcdef', header, `${body} `, 300, t0)).toBe(false);
    });
  });
}

const postgres = (await backends()).find((backend) => backend.name === 'postgres')!;

describe.skipIf(postgres.skip)('webhooks from the Node host', () => {
  let d: NodeHostDeployment;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let secret = '';
  beforeAll(async () => {
    d = await startNodeHostDeployment('webhooks_node_host', { CONDUCTOR_WEBHOOK_ALLOW: '127.0.0.1' });
    receiver = await startReceiver(
      () => secret,
      () => 200,
    );
  }, 120_000);
  afterAll(async () => {
    await receiver?.close();
    await d?.stop();
  });

  it('sends on its own loop, to 127.0.0.1 as CONDUCTOR_WEBHOOK_ALLOW lets it, and refuses 10.0.0.1', async () => {
    await d.json(201, 'PUT', '/v1/partitions/batch', { body: {} });
    const made = await d.json<{ id: string; secret: string }>(201, 'POST', '/v1/webhooks', {
      body: { url: `${receiver.url}/host`, account: 'physics' },
    });
    secret = made.secret;
    const job = await d.json<{ id: string }>(201, 'POST', '/v1/jobs', {
      body: { job: validJob(), script: '#!/bin/bash\necho hi' },
    });
    await waitUntil('the delivery', () => receiver.received.some((r) => r.body.data.job_id === job.id));
    const refused = await d.call('POST', '/v1/webhooks', { body: { url: 'https://10.0.0.1/', account: 'physics' } });
    expect(refused.status).toBe(422);
  });
});

describe.skipIf(postgres.skip)('webhooks from the Worker', () => {
  let d: WorkerDeployment;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let secret = '';
  beforeAll(async () => {
    d = await startWorkerDeployment('webhooks_worker', {
      args: ['--test-scheduled'],
      vars: { CONDUCTOR_WEBHOOK_ALLOW: '127.0.0.1' },
    });
    receiver = await startReceiver(
      () => secret,
      () => 200,
    );
  }, 120_000);
  afterAll(async () => {
    await receiver?.close();
    await d?.stop();
  }, 60_000);

  it('sends from its Cron run, signed with Web Crypto, and refuses a private address', async () => {
    await d.json(201, 'PUT', '/v1/partitions/batch', { body: {} });
    const made = await d.json<{ id: string; secret: string }>(201, 'POST', '/v1/webhooks', {
      body: { url: `${receiver.url}/worker`, account: 'physics' },
    });
    secret = made.secret;
    const job = await d.json<{ id: string }>(201, 'POST', '/v1/jobs', {
      body: { job: validJob(), script: '#!/bin/bash\necho hi' },
    });
    await waitUntil('the delivery', async () => {
      const response = await fetch(`${d.worker.url}/__scheduled?cron=*+*+*+*+*`);
      expect(response.status).toBe(200);
      return receiver.received.some((r) => r.body.data.job_id === job.id);
    });
    const refused = await d.call('POST', '/v1/webhooks', { body: { url: 'https://192.168.0.1/', account: 'physics' } });
    expect(refused.status).toBe(422);
  });
});
