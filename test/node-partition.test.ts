/**
 * A network partition between one node daemon and the API (issue 15), through a proxy the test controls
 * (test/fixtures/partition-proxy.ts): nothing crosses it and nobody is told, so the daemon's requests hang until its
 * own timeout. Shorter than the node's lease, the node's runs go on and what they did (events, the end) reaches the API
 * once it heals, with no false ending. Longer, the daemon stops its runs before its lease ends, the API settles them
 * only after, and the next attempt never overlaps the stopped one. The daemon's log store is not behind the proxy
 * (the daemons here write to the API's log directory): only the API is cut off.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Reconciler } from '../api/reconciler.js';
import { LEASE_EXPIRED_MESSAGE } from '../worker-node/job-ending.js';
import { readLeaseFile } from '../worker-node/node-lease.js';
import { startPartitionProxy, type PartitionProxy } from './fixtures/partition-proxy.js';
import {
  getJob,
  getJobEvents,
  startReported as startReportedOf,
  startTestApi,
  testNodes,
  waitFor,
  waitForState,
  type TestApi,
  type TestNodes,
} from './helpers/test-node.js';

// Long enough that a short partition (a few of the test's own steps) is well inside it on a busy machine; short
// enough that a long one ends within a test.
const LEASE_MS = 8000;
const NODE_ENV = { CONDUCTOR_HEARTBEAT_SECONDS: '0.2', CONDUCTOR_NODE_CPUS: '1' };

describe('a network partition between a node and the API', () => {
  let api: TestApi;
  let nodes: TestNodes;
  let proxy: PartitionProxy;
  let work: string;

  beforeAll(async () => {
    api = await startTestApi({ nodeLeaseMs: LEASE_MS });
  });
  afterAll(async () => {
    await api?.close();
  });
  beforeEach(async () => {
    nodes = testNodes(api);
    work = nodes.dir();
    proxy = await startPartitionProxy(api.url);
  });
  afterEach(async () => {
    proxy.heal();
    await nodes.cleanup();
    await proxy.close();
  });

  const submit = (script: string, job: Record<string, unknown> = {}) =>
    api.t.submit({ name: 'job', current_working_directory: work, ...job }, `#!/bin/bash\n${script}`);
  const events = (id: string) => getJobEvents(api.t, id);
  const startReported = (id: string, attempt: number) => startReportedOf(api.t, id, attempt);
  const runDir = (node: string, id: string, attempt = 1) => join(nodes.nodeDir(node), 'runs', `${id}-${attempt}`);
  const reconcile = () => new Reconciler(api.t.queue).run(api.t.database.db);
  const stored = async (id: string, attempt = 1) => {
    const answer = await api.t.call('GET', `/v1/jobs/${id}/logs/stdout?attempt=${attempt}`);
    return answer.text();
  };

  it('shorter than the lease: the run goes on, its end reaches the API after the heal, and nothing else happens', async () => {
    const daemon = await nodes.start('cut-short', { ...NODE_ENV, CONDUCTOR_API_URL: proxy.url });
    const go = join(work, 'go');
    const id = await submit(`echo before\nwhile [ ! -e ${go} ]; do sleep 0.05; done\necho after`);
    await startReported(id, 1);

    proxy.partition();
    writeFileSync(go, '');
    // The job ends during the partition: its end cannot reach the API yet.
    const status = join(runDir('cut-short', id), 'status');
    await waitFor('the job to end on its node', () => (existsSync(status) ? true : undefined));
    expect(readFileSync(status, 'utf8')).toBe('0 -\n');
    expect((await getJob(api.t, id)).state).toBe('RUNNING');
    // Within the lease, the API keeps the node and its job.
    expect((await reconcile()).nodesDown).not.toContain('cut-short');
    proxy.heal();

    const job = await waitForState(api.t, id, ['COMPLETED', 'FAILED', 'NODE_FAIL', 'PENDING']);
    expect(job).toMatchObject({ state: 'COMPLETED', attempt: 1, exit_code: { status: 0, signal: null } });
    expect(await stored(id)).toBe('before\nafter\n');
    expect(daemon.stdout().join('\n')).not.toContain('stopping its runs');
    // One attempt, never settled by anyone but its node.
    const all = await events(id);
    expect(all.map((e) => [e.attempt, e.to_state])).toEqual([
      [0, 'PENDING'],
      [1, 'RUNNING'],
      [1, 'RUNNING'],
      [1, 'COMPLETED'],
    ]);
  });

  it('longer than the lease: the daemon stops its run before the lease ends, the API requeues it only after, and attempt 2 starts after attempt 1 ended', async () => {
    const daemon = await nodes.start('cut-long', { ...NODE_ENV, CONDUCTOR_API_URL: proxy.url });
    const id = await submit('echo "attempt $CONDUCTOR_ATTEMPT"\nexec sleep 600', { requeue: true });
    await startReported(id, 1);

    proxy.partition();
    const status = join(runDir('cut-long', id), 'status');
    // The reconciler runs all along, as the API's cron does: it never settles the node before the lease has ended.
    await waitFor(
      'the daemon to stop its run',
      async () => {
        expect((await reconcile()).nodesDown).not.toContain('cut-long');
        return existsSync(status) ? true : undefined;
      },
      LEASE_MS * 3,
    );
    const stoppedAt = statSync(status).mtimeMs;
    const lease = readLeaseFile(join(nodes.nodeDir('cut-long'), 'lease'))!;
    // The daemon's own graceful stop, before its wrapper's deadline and so before the lease's end.
    expect(readFileSync(status, 'utf8')).toBe('- 15\n');
    expect(stoppedAt).toBeLessThan(lease.fenceAt);
    expect(daemon.stdout().join('\n')).toContain('stopping its runs');
    expect((await getJob(api.t, id)).state).toBe('RUNNING');

    await waitFor(
      'the API to settle the node',
      async () => ((await reconcile()).nodesDown.includes('cut-long') ? true : undefined),
      LEASE_MS * 3,
    );
    const settled = (await events(id)).find((e) => e.actor === 'reconciler')!;
    expect(settled).toMatchObject({ attempt: 1, from_state: 'RUNNING', to_state: 'PENDING' });
    expect(Date.parse(settled.at)).toBeGreaterThanOrEqual(lease.endsAt);

    // Healed: the node comes back, tells attempt 1's real end (kept as a note: the job is on attempt 2 now), and runs
    // attempt 2 (its only CPU is free), which starts after attempt 1 had ended.
    proxy.heal();
    const note = await waitFor("attempt 1's real end in the job's events", async () =>
      (await events(id)).find((e) => e.attempt === 1 && e.reason?.includes('really ended')),
    );
    expect(note.reason).toContain(LEASE_EXPIRED_MESSAGE);
    const second = await startReported(id, 2);
    expect(Date.parse(second.at)).toBeGreaterThan(stoppedAt);
    expect(await waitFor("attempt 2's output", async () => ((await stored(id, 2)) ? stored(id, 2) : undefined))).toBe(
      'attempt 2\n',
    );
    expect(await stored(id, 1)).toBe('attempt 1\n');
    await api.t.call('POST', `/v1/jobs/${id}/cancel`);
    await waitForState(api.t, id, ['CANCELLED']);
  });
});
