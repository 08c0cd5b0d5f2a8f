/**
 * The messages between the API and its node daemons are defined once (shared/protocol/), with a version: both
 * sides hold to the same schemas (a real daemon's whole conversation is checked against them), the API serves its own
 * version and the one before, and a daemon facing an API it cannot speak to stops claiming and says why.
 */
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from '@hono/zod-openapi';
import { ClaimRequest, ClaimResponse } from '../shared/protocol/claim.js';
import { ConfirmRequest, ConfirmResponse } from '../shared/protocol/confirm.js';
import { EventsRequest, EventsResponse } from '../shared/protocol/events.js';
import { HeartbeatRequest, HeartbeatResponse } from '../shared/protocol/heartbeat.js';
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from '../shared/protocol/protocol-version.js';
import { CONDUCTOR_VERSION } from '../shared/version.js';
import { fetchTransport } from '../worker-node/api-transport.js';
import { RunAs } from '../worker-node/run-as.js';
import { ApiRefused, NodeApi, ProtocolMismatch } from '../worker-node/node-api.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { startTestApi, testNodes, waitFor, waitForState, type TestApi, type TestNodes } from './helpers/test-node.js';

const capacity = { partitions: ['default'], cpus: 4, memory_mb: 4096 };

describe('the API side of the node protocol', () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await createTestApp({ name: 'pglite', skip: undefined });
    token = await t.token('node', 'n1');
  });
  afterAll(() => t?.close());

  const heartbeat = (headers: Record<string, string>, body: unknown = capacity) =>
    t.app.request('/v1/nodes/n1/heartbeat', {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const node = async () => (await (await t.call('GET', '/v1/nodes')).json()).nodes[0];

  it('serves a daemon of the version before (3), which hears no lease, and says its own', async () => {
    const runsAs = { any_user: false, users: [], unnamed: true };
    const answer = await heartbeat(
      { [PROTOCOL_HEADER]: '3' },
      { ...capacity, daemon_version: '8.8.8', runs_as: runsAs },
    );
    expect(answer.status).toBe(200);
    expect(answer.headers.get(PROTOCOL_HEADER)).toBe(String(PROTOCOL_VERSION));
    expect(await node()).toMatchObject({ name: 'n1', protocol: 3, daemon_version: '8.8.8', runs_as: runsAs });
  });

  it("serves its own version, grants the node its lease, and shows the daemon's version and how it runs jobs", async () => {
    const runsAs = { any_user: true, users: [], unnamed: false };
    const answer = await heartbeat(
      { [PROTOCOL_HEADER]: '4' },
      { ...capacity, daemon_version: '9.9.9', runs_as: runsAs },
    );
    expect(answer.status).toBe(200);
    // CONDUCTOR_NODE_LEASE_SECONDS's default, Slurm's SlurmdTimeout.
    expect((await answer.json()).lease_seconds).toBe(300);
    expect(await node()).toMatchObject({ protocol: 4, daemon_version: '9.9.9', runs_as: runsAs });
  });

  it("shows the node's containment levels in /v1/nodes once its heartbeat says them, and refuses an unknown level", async () => {
    expect(await node()).toMatchObject({ containment: null });
    const containment = { memory: 'cgroup1', cpus: 'cgroup1', kill: 'cgroup2', pids: 'none' };
    expect((await heartbeat({ [PROTOCOL_HEADER]: '3' }, { ...capacity, containment })).status).toBe(200);
    expect(await node()).toMatchObject({ containment });
    const unknown = { ...containment, kill: 'prayer' };
    expect((await heartbeat({ [PROTOCOL_HEADER]: '3' }, { ...capacity, containment: unknown })).status).toBe(422);
    expect(await node()).toMatchObject({ containment });
  });

  it.each([
    [{ any_user: false, users: ['root'], unnamed: true }, 'runs_as.users.0'],
    [{ any_user: false, users: ['Alice'], unnamed: true }, 'runs_as.users.0'],
    [{ any_user: true, users: [] }, 'runs_as.unnamed'],
  ])('refuses runs_as %j, naming %s', async (runsAs, field) => {
    const answer = await heartbeat({ [PROTOCOL_HEADER]: '3' }, { ...capacity, runs_as: runsAs });
    expect(answer.status).toBe(422);
    expect((await answer.json()).errors.map((error: { field: string }) => error.field)).toContain(field);
  });

  it.each(['', '7', '2', '1', '0', 'two'])('refuses protocol %j, naming the versions it serves', async (version) => {
    const answer = await heartbeat(version === '' ? {} : { [PROTOCOL_HEADER]: version });
    expect(answer.status).toBe(400);
    expect(answer.headers.get(PROTOCOL_HEADER)).toBe(String(PROTOCOL_VERSION));
    const problem = await answer.json();
    expect(problem.code).toBe('protocol_unsupported');
    expect(problem.detail).toContain('3, 4, 5 and 6');
    expect(problem.detail).toContain(version);
  });

  it('documents every node message with the protocol schemas', async () => {
    const document = await (await t.call('GET', '/openapi.json', { token: null })).json();
    const ref = (path: string, part: 'request' | 'response') => {
      const operation = document.paths[path].post;
      const body = part === 'request' ? operation.requestBody : operation.responses['200'];
      return body.content['application/json'].schema.$ref;
    };
    expect(
      ['heartbeat', 'claim', 'confirm', 'events'].flatMap((name) => [
        ref(`/v1/nodes/{node}/${name}`, 'request'),
        ref(`/v1/nodes/{node}/${name}`, 'response'),
      ]),
    ).toEqual(
      [
        'HeartbeatRequest',
        'HeartbeatResponse',
        'ClaimRequest',
        'ClaimResponse',
        'ConfirmRequest',
        'ConfirmResponse',
        'NodeEventsRequest',
        'NodeEventsResponse',
      ].map((name) => `#/components/schemas/${name}`),
    );
  });

  describe("the daemon's client", () => {
    /** The app's answers, with the version header an API of `version` would send (none for version 1). */
    const apiOf = (version: number | undefined, rewrite?: (text: string) => string) =>
      new NodeApi({
        url: 'http://api',
        token,
        node: 'n1',
        transport: async (...args) => {
          const reply = await fetchTransport((request) => t.app.fetch(request))(...args);
          return {
            ...reply,
            text: rewrite ? rewrite(reply.text) : reply.text,
            protocol: version === undefined ? undefined : String(version),
          };
        },
      });

    it('speaks to an API of its version, or of the next (which serves it too)', async () => {
      for (const version of [PROTOCOL_VERSION, PROTOCOL_VERSION + 1]) {
        await expect(apiOf(version).heartbeat(capacity)).resolves.toMatchObject({ state: 'UP' });
      }
    });

    it.each([undefined, PROTOCOL_VERSION - 1, PROTOCOL_VERSION + 2])(
      'stops at an API of protocol %s, naming both versions',
      async (version) => {
        const failure = await apiOf(version)
          .heartbeat(capacity)
          .catch((error: Error) => error);
        expect(failure).toBeInstanceOf(ProtocolMismatch);
        expect((failure as Error).message).toContain(`this daemon speaks protocol ${PROTOCOL_VERSION}`);
        expect((failure as Error).message).toContain(`the API speaks protocol ${version ?? 1}`);
      },
    );

    it('refuses an answer the protocol does not allow', async () => {
      const garbled = apiOf(PROTOCOL_VERSION, () => '{"state": "SLEEPING", "cancel": [], "stop": []}');
      const failure = await garbled.heartbeat(capacity).catch((error: Error) => error);
      expect(failure).toBeInstanceOf(ApiRefused);
      expect((failure as Error).message).toContain('an answer the protocol does not allow');
    });
  });
});

describe('a real daemon and the API', () => {
  let api: TestApi;
  let nodes: TestNodes;
  let server: ServerType;
  let url: string;
  /** What an API of the protocol before the daemon's would answer (no header): set to make the API "old". */
  let old = false;
  const seen: { path: string; request: unknown; status: number; answer: unknown }[] = [];

  beforeAll(async () => {
    api = await startTestApi();
    nodes = testNodes(api);
    // In front of the app: records every node message, and can answer as an older API would.
    server = await new Promise<ServerType>((done) => {
      const made = serve(
        {
          hostname: '127.0.0.1',
          port: 0,
          fetch: async (request) => {
            const body = request.method === 'POST' ? await request.clone().json() : undefined;
            const response = await api.t.app.fetch(request);
            const path = new URL(request.url).pathname;
            if (path.startsWith('/v1/nodes/')) {
              seen.push({ path, request: body, status: response.status, answer: await response.clone().json() });
            }
            if (!old) return response;
            const headers = new Headers(response.headers);
            headers.delete(PROTOCOL_HEADER);
            return new Response(response.body, { status: response.status, headers });
          },
        },
        () => done(made),
      );
    });
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    await nodes?.cleanup();
    await new Promise<void>((done) => server?.close(() => done()));
    await api?.close();
  });

  it('says every message in the protocol, and every answer is one', async () => {
    const daemon = await nodes.start('talker', { CONDUCTOR_API_URL: url });
    const id = await api.t.submit(
      { name: 'p', partition: 'default', current_working_directory: nodes.dir() },
      'echo hi',
    );
    await waitForState(api.t, id, ['COMPLETED']);
    await daemon.stop();
    const schemas: Record<string, [z.ZodType, z.ZodType]> = {
      heartbeat: [HeartbeatRequest, HeartbeatResponse],
      claim: [ClaimRequest, ClaimResponse],
      confirm: [ConfirmRequest, ConfirmResponse],
      events: [EventsRequest, EventsResponse],
    };
    const kinds = new Set<string>();
    for (const message of seen) {
      const kind = message.path.split('/').at(-1)!;
      kinds.add(kind);
      expect(message.status, `${kind}: ${JSON.stringify(message.answer)}`).toBe(200);
      expect(schemas[kind]![0].safeParse(message.request).error).toBeUndefined();
      expect(schemas[kind]![1].safeParse(message.answer).error).toBeUndefined();
    }
    expect([...kinds].sort()).toEqual(['claim', 'confirm', 'events', 'heartbeat']);
    expect(seen.find((message) => message.path.endsWith('heartbeat'))!.request).toMatchObject({
      daemon_version: CONDUCTOR_VERSION,
      // The test daemons' defaults (test-node.ts): root jobs allowed where the run is root.
      runs_as: new RunAs({ minUid: 1000, allowRootJobs: true }).runsAs,
    });
  });

  it('stops claiming once the API cannot speak to it, says both versions, and goes on once it can', async () => {
    const daemon = await nodes.start('newer', { CONDUCTOR_API_URL: url, CONDUCTOR_HEARTBEAT_SECONDS: '0.1' });
    await waitFor('the node to be UP', () => daemon.stdout().find((line) => line.includes('node newer is UP')));
    // The API is replaced by one of an older protocol: the daemon's next heartbeat finds out.
    old = true;
    const said = await waitFor('the daemon to say why it stops claiming', () =>
      daemon.stdout().find((line) => line.includes('stops claiming')),
    );
    expect(said).toContain('the API speaks protocol 1');
    expect(said).toContain(`this daemon speaks protocol ${PROTOCOL_VERSION}`);
    const since = seen.length;
    // Several heartbeats after a submit, it has claimed nothing (a claim the API ran would be stranded there).
    const id = await api.t.submit(
      { name: 'q', partition: 'default', current_working_directory: nodes.dir() },
      'echo hi',
    );
    const beats = () => seen.filter((message) => message.path.endsWith('/newer/heartbeat')).length;
    const beatsBefore = beats();
    await waitFor('three more heartbeats', () => (beats() >= beatsBefore + 3 ? true : undefined));
    expect(seen.slice(since).filter((message) => /\/newer\/(claim|confirm)$/.test(message.path))).toEqual([]);
    expect((await (await api.t.call('GET', `/v1/jobs/${id}`)).json()).state).toBe('PENDING');
    old = false;
    await waitForState(api.t, id, ['COMPLETED']);
  });
});
