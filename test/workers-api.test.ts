/**
 * The Workers host's API in workerd (`wrangler dev`), against the real local services: Postgres through Neon's
 * driver and the WebSocket proxy fixture, Redis through the Upstash client and the REST bridge fixture. One Worker for
 * the block, started with `--test-scheduled` so that `GET /__scheduled` runs its Cron handler (the reconciler), and a
 * node lease of 5 s so that a silent node's lease ends within a test. Its node is a hand-made one, as in the README's
 * "Dispatch"; a real daemon against the Worker is workers-daemon.test.ts.
 */
import { sql } from 'drizzle-orm';
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from '../shared/protocol/protocol-version.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkerDeployment, type WorkerDeployment } from './fixtures/worker-deployment.js';
import { ADMIN_TOKEN, validJob } from './helpers/test-app.js';
import { expectConsoleServed } from './helpers/console-served.js';
import { backends } from './helpers/test-databases.js';
import { deleteKeys, redisUnreachable } from './helpers/test-redis.js';
import { SseReader } from './helpers/sse-reader.js';
import { waitFor } from './helpers/wait-for.js';

const [, postgres] = await backends();
const serversAway = postgres!.skip ?? (await redisUnreachable());

interface Job {
  id: string;
  state: string;
  account: string;
  node: string | null;
  attempt: number;
  exit_code: { status: number | null; signal: number | null } | null;
}

describe.skipIf(serversAway)('the Workers host in workerd (Neon driver, Upstash client)', () => {
  let d: WorkerDeployment;
  let nodeToken: string;
  beforeAll(async () => {
    d = await startWorkerDeployment('workers_api', {
      args: ['--test-scheduled'],
      // Event streams end after 2 s, so that a test sees one end and resume.
      vars: { CONDUCTOR_NODE_LEASE_SECONDS: '5', CONDUCTOR_EVENT_STREAM_SECONDS: '2' },
    });
    nodeToken = (
      await d.json<{ token: string }>(201, 'POST', '/v1/tokens', {
        body: { name: 'n01', kind: 'node', node: 'n01', partitions: ['batch'] },
      })
    ).token;
    // The listing test's second partition, configured as an admin does (the node token configured "batch").
    await d.json(201, 'PUT', '/v1/partitions/other', { body: {} });
  }, 120_000);
  afterAll(() => d?.stop(), 60_000);

  const capacity = { partitions: ['batch'], cpus: 32, memory_mb: 128_000 };
  const submit = async (job: Record<string, unknown> = validJob(), token?: string) =>
    (await d.json<Job>(201, 'POST', '/v1/jobs', { token, body: { job, script: '#!/bin/bash\ntrue' } })).id;
  const getJob = (id: string, token?: string) => d.json<Job>(200, 'GET', `/v1/jobs/${id}`, { token });
  const node = (action: string, body: unknown) =>
    d.json<Record<string, unknown>>(200, 'POST', `/v1/nodes/n01/${action}`, { token: nodeToken, body });
  const heartbeat = () => node('heartbeat', capacity);
  /** Claims as node n01 until the claim answers `id`'s ref (other tests' jobs may be ahead of it), and confirms it. */
  const claimAndConfirm = async (id: string) => {
    await waitFor(`job ${id}'s ref in a claim`, async () => {
      const claim = await node('claim', { ...capacity, free_cpus: 32, free_memory_mb: 128_000 });
      const ids = (claim.refs as { id: string }[]).map((ref) => ref.id);
      const confirmed = await node('confirm', { job_ids: ids });
      return (confirmed.jobs as { id: string }[]).some((job) => job.id === id) ? true : undefined;
    });
  };
  const scheduled = async () => {
    const response = await fetch(`${d.worker.url}/__scheduled?cron=*+*+*+*+*`);
    expect(response.status, await response.clone().text()).toBe(200);
  };

  it('answers the probes and /health with no token, reaching the database and the queue', async () => {
    expect(await d.json(200, 'GET', '/livez', { token: null })).toEqual({ status: 'ok' });
    expect(await d.json(200, 'GET', '/readyz', { token: null })).toEqual({ status: 'ok' });
    expect(await d.json(200, 'GET', '/health', { token: null })).toMatchObject({ status: 'healthy' });
    expect(await d.json(200, 'GET', '/', { token: null })).toMatchObject({
      service: 'SCNS-Conductor API',
      status: 'running',
    });
    const before = d.worker.proxy.counts().roundTrips;
    await d.json(200, 'GET', '/readyz', { token: null });
    // Readiness asked Postgres, through the driver and the proxy.
    expect(d.worker.proxy.counts().roundTrips).toBeGreaterThan(before);
  });

  it('serves the web console and the API reference from its asset binding, and signs in to it', async () => {
    await expectConsoleServed(d.apiUrl, ADMIN_TOKEN);
  });

  it('submits on /v1 and the original path, and gets, lists with filters and a cursor, and queries', async () => {
    const first = await submit(validJob({ account: 'listing', name: 'a' }));
    const second = await submit(validJob({ account: 'listing', name: 'b', partition: 'other' }));
    const { job_id: original } = await d.json<{ job_id: string }>(201, 'POST', '/jobs/submit', {
      body: { job: { account: 'listing', name: 'c', partition: 'batch' }, script: '#!/bin/bash\ntrue' },
    });
    // The job rows are in the Worker's database, and the refs in its Redis prefix, through Upstash's client.
    expect(await getJob(first)).toMatchObject({ id: first, state: 'PENDING', account: 'listing' });
    const rows = await d.database.db.execute(sql`SELECT count(*)::int AS n FROM jobs WHERE account = 'listing'`);
    expect((rows as unknown as { rows: { n: number }[] }).rows[0]!.n).toBe(3);

    const page1 = await d.json<{ jobs: Job[]; next_cursor: string | null }>(
      200,
      'GET',
      '/v1/jobs?account=listing&limit=2',
    );
    expect(page1.jobs.map((job) => job.id)).toEqual([original, second]);
    const page2 = await d.json<{ jobs: Job[]; next_cursor: string | null }>(
      200,
      'GET',
      `/v1/jobs?account=listing&limit=2&cursor=${page1.next_cursor}`,
    );
    expect(page2.jobs.map((job) => job.id)).toEqual([first]);
    expect(page2.next_cursor).toBeNull();
    const other = await d.json<{ jobs: Job[] }>(200, 'GET', '/v1/jobs?account=listing&partition=other');
    expect(other.jobs.map((job) => job.id)).toEqual([second]);

    const queried = await d.json(200, 'GET', `/jobs/query/${original}`);
    expect(queried).toMatchObject({
      job_id: original,
      state: 'PENDING',
      detail: { job_name: 'c', account: 'listing' },
    });
    const dashboard = await d.json<{ pending_jobs: { job_id: number }[] }>(200, 'GET', '/dashboard');
    expect(dashboard.pending_jobs.map((job) => String(job.job_id))).toEqual(expect.arrayContaining([first, original]));
  });

  it('cancels a PENDING job on /v1 and on the original path, and the queue no longer hands it out', async () => {
    const v1 = await submit();
    const original = await submit();
    expect(await d.json(200, 'POST', `/v1/jobs/${v1}/cancel`)).toMatchObject({
      effect: 'cancelled',
      job: { state: 'CANCELLED' },
    });
    expect(await d.json(200, 'POST', `/jobs/cancel/${original}`)).toMatchObject({
      msg: '取消成功',
      effect: 'cancelled',
    });
    expect((await getJob(original)).state).toBe('CANCELLED');
    expect(await d.json(200, 'POST', `/v1/jobs/${v1}/cancel`)).toMatchObject({ effect: 'none' });
    // Their refs are dropped by the confirm: neither starts.
    await heartbeat();
    const claim = await node('claim', { ...capacity, free_cpus: 32, free_memory_mb: 128_000 });
    const confirmed = await node('confirm', { job_ids: (claim.refs as { id: string }[]).map((ref) => ref.id) });
    expect((confirmed.jobs as { id: string }[]).map((job) => job.id)).not.toContain(v1);
    expect((confirmed.jobs as { id: string }[]).map((job) => job.id)).not.toContain(original);
    await node('events', {
      events: (confirmed.jobs as { id: string; attempt: number }[]).map((job) => ({
        kind: 'finished',
        job_id: job.id,
        attempt: job.attempt,
        state: 'COMPLETED',
        exit_status: 0,
        exit_signal: null,
        error_msg: null,
      })),
    });
  });

  it('makes, lists and revokes tokens; a revoked token is refused at once', async () => {
    const made = await d.json<{ id: string; token: string; kind: string }>(201, 'POST', '/v1/tokens', {
      body: { name: 'alice', kind: 'user', account: 'physics', user: 'alice' },
    });
    expect(made).toMatchObject({ kind: 'user', account: 'physics', user: 'alice', revoked_at: null });
    const listed = await d.json<{ tokens: { id: string }[] }>(200, 'GET', '/v1/tokens');
    expect(listed.tokens.map((token) => token.id)).toContain(made.id);
    expect(JSON.stringify(listed)).not.toContain(made.token);
    expect((await d.call('GET', '/v1/jobs', { token: made.token })).status).toBe(200);
    expect(await d.json(200, 'DELETE', `/v1/tokens/${made.id}`)).toMatchObject({ id: made.id });
    const refused = await d.call('GET', '/v1/jobs', { token: made.token });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ code: 'unauthenticated' });
  });

  it("lets a user see only its own account's jobs, keeps nodes off user routes, and needs a token", async () => {
    const alice = (
      await d.json<{ token: string }>(201, 'POST', '/v1/tokens', {
        body: { name: 'alice', kind: 'user', account: 'optics', user: 'tester' },
      })
    ).token;
    const mine = await submit(validJob({ account: undefined }), alice);
    const theirs = await submit(validJob({ account: 'chem' }));
    expect((await getJob(mine, alice)).account).toBe('optics');
    for (const [method, path] of [
      ['GET', `/v1/jobs/${theirs}`],
      ['POST', `/v1/jobs/${theirs}/cancel`],
      ['GET', `/jobs/query/${theirs}`],
    ] as const) {
      const response = await d.call(method, path, { token: alice });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(await response.json()).toMatchObject({ code: 'job_not_found' });
    }
    const listed = await d.json<{ jobs: Job[] }>(200, 'GET', '/v1/jobs', { token: alice });
    expect(listed.jobs.map((job) => job.id)).toEqual([mine]);
    const forbidden = await d.call('POST', '/v1/jobs', {
      token: alice,
      body: { job: validJob({ account: 'chem' }), script: 'true' },
    });
    expect(forbidden.status).toBe(403);
    expect((await d.call('GET', '/v1/tokens', { token: alice })).status).toBe(403);
    for (const [method, path] of [
      ['GET', '/v1/jobs'],
      ['POST', '/jobs/submit'],
      ['GET', '/dashboard'],
    ] as const) {
      const response = await d.call(method, path, { token: nodeToken });
      expect(response.status, `${method} ${path}`).toBe(403);
      expect(await response.json()).toMatchObject({ code: 'forbidden' });
    }
    for (const token of [null, 'nonsense-token']) {
      const response = await d.call('GET', '/v1/jobs', { token });
      expect(response.status).toBe(401);
    }
    // The admin sees every account's.
    expect((await getJob(theirs)).account).toBe('chem');
  });

  it('runs a job through a hand-made node: heartbeat, claim, confirm, started and finished events', async () => {
    const id = await submit();
    const beat = await heartbeat();
    expect(beat).toMatchObject({ lease_seconds: 5 });
    const nodes = await d.json<{ nodes: { name: string; state: string; cpus: number }[] }>(200, 'GET', '/v1/nodes');
    expect(nodes.nodes).toEqual([expect.objectContaining({ name: 'n01', state: 'UP', cpus: 32 })]);
    await claimAndConfirm(id);
    expect(await getJob(id)).toMatchObject({ state: 'RUNNING', node: 'n01', attempt: 1 });
    const started = await node('events', {
      events: [{ kind: 'started', job_id: id, attempt: 1, pid: 4242, cpu_ids: [0, 1, 2, 3] }],
    });
    expect(started).toMatchObject({ results: [{ result: 'applied' }] });
    const finished = {
      kind: 'finished',
      job_id: id,
      attempt: 1,
      state: 'COMPLETED',
      exit_status: 0,
      exit_signal: null,
      error_msg: null,
    };
    expect(await node('events', { events: [finished] })).toMatchObject({ results: [{ result: 'applied' }] });
    // A retry of the same report is answered, and changes nothing.
    expect(await node('events', { events: [finished] })).toMatchObject({ results: [{ result: 'duplicate' }] });
    expect(await getJob(id)).toMatchObject({ state: 'COMPLETED', exit_code: { status: 0, signal: null } });
    const events = await d.json<{ events: { to_state: string }[] }>(200, 'GET', `/v1/jobs/${id}/events`);
    expect(events.events.map((event) => event.to_state)).toEqual(['PENDING', 'RUNNING', 'RUNNING', 'COMPLETED']);
  });

  it('refuses node calls without the node protocol header, and from a user token', async () => {
    const bare = await fetch(`${d.url}/v1/nodes/n01/heartbeat`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${nodeToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(capacity),
    });
    expect(bare.status).toBe(400);
    expect(await bare.json()).toMatchObject({ code: 'protocol_unsupported' });
    expect(bare.headers.get(PROTOCOL_HEADER)).toBe(String(PROTOCOL_VERSION));
    const user = (
      await d.json<{ token: string }>(201, 'POST', '/v1/tokens', {
        body: { name: 'bob', kind: 'user', account: 'chem', user: 'tester' },
      })
    ).token;
    const refused = await d.call('POST', '/v1/nodes/n01/heartbeat', { token: user, body: capacity });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'forbidden' });
  });

  it('the scheduled reconciler pushes again a PENDING job whose ref the queue lost', async () => {
    const id = await submit();
    // Redis loses its data; the job is older than the sweep's 30 s.
    await deleteKeys(d.redisPrefix);
    await d.database.db.execute(sql`UPDATE jobs SET submit_time = now() - interval '1 minute' WHERE id = ${id}`);
    await heartbeat();
    const before = await node('claim', { ...capacity, free_cpus: 32, free_memory_mb: 128_000 });
    expect((before.refs as { id: string }[]).map((ref) => ref.id)).not.toContain(id);
    await scheduled();
    await claimAndConfirm(id);
    expect(await getJob(id)).toMatchObject({ state: 'RUNNING', node: 'n01' });
  });

  it('the scheduled reconciler marks a node DOWN once its lease ends, ending its RUNNING job NODE_FAIL', async () => {
    // Not retried (a lost node's job is, by default): its end stands.
    const id = await submit(validJob({ requeue: false }));
    await heartbeat();
    await claimAndConfirm(id);
    await node('events', { events: [{ kind: 'started', job_id: id, attempt: 1, pid: 4242, cpu_ids: [0] }] });
    // No more heartbeats: the lease (5 s) ends, and the next run of the Cron handler settles the node.
    const job = await waitFor('the silent node settled by the reconciler', async () => {
      await scheduled();
      const seen = await getJob(id);
      return seen.state === 'RUNNING' ? undefined : seen;
    });
    expect(job.state).toBe('NODE_FAIL');
    const nodes = await d.json<{ nodes: { name: string; state: string }[] }>(200, 'GET', '/v1/nodes');
    expect(nodes.nodes).toEqual([expect.objectContaining({ name: 'n01', state: 'DOWN' })]);
  });

  it('streams events through the Neon driver, ends the stream within its limit, and resumes it with Last-Event-ID', async () => {
    const id = await submit();
    const open = (query: string, lastEventId?: string) =>
      fetch(`${d.worker.url}/v1/events${query}`, {
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, ...(lastEventId ? { 'Last-Event-ID': lastEventId } : {}) },
      });
    // From the stream's beginning: the job's submission is in it.
    const first = new SseReader((await open(`?job_id=${id}&after=0-0`)).body!);
    const submitted = await first.take(2);
    // The Worker ended the stream itself, with the retry hint and the position reached.
    expect(first.ended).toBe(true);
    expect(first.retryMs).toBeGreaterThan(0);
    expect(submitted.map((message) => JSON.parse(message.data).to_state)).toEqual(['PENDING']);
    await d.json(200, 'POST', `/v1/jobs/${id}/cancel`);
    const again = new SseReader((await open(`?job_id=${id}`, first.lastEventId)).body!);
    const [cancelled] = await again.take(1);
    await again.drop();
    expect(JSON.parse(cancelled!.data)).toMatchObject({ job_id: id, from_state: 'PENDING', to_state: 'CANCELLED' });
    expect(cancelled!.id).not.toBe(submitted[0]!.id);
  });
});
