/**
 * Fencing on node loss, with real processes (issue 13): a node holds a lease renewed by its heartbeats; when it cannot
 * renew it, its runs are stopped before it ends (by the daemon, or by each run's wrapper when the daemon itself is
 * gone), and the API settles the node's jobs only after it has ended: no two attempts of a job run at once, and no job
 * is declared ended while its processes run. The order is read from the job's events and the files' times, not from
 * the test's own clock. Leases are short here (CONDUCTOR_NODE_LEASE_SECONDS is the API's).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Reconciler } from '../api/reconciler.js';
import { LEASE_EXPIRED_MESSAGE } from '../worker-node/job-ending.js';
import { readLeaseFile } from '../worker-node/node-lease.js';
import { sql } from 'drizzle-orm';
import {
  ENDED,
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

const LEASE_MS = 6000;
// Heartbeats several times a second: the lease is renewed long before it ends, on a busy machine too. One core
// each: two nodes, and one restarted, share the machine's.
const NODE_ENV = { CONDUCTOR_HEARTBEAT_SECONDS: '0.2', CONDUCTOR_NODE_CPUS: '1' };

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
};

describe('fencing on node loss', () => {
  let api: TestApi;
  let nodes: TestNodes;
  let work: string;

  beforeAll(async () => {
    api = await startTestApi({ nodeLeaseMs: LEASE_MS });
  });
  afterAll(async () => {
    await api?.close();
  });
  beforeEach(() => {
    nodes = testNodes(api);
    work = nodes.dir();
  });
  afterEach(async () => {
    await nodes.cleanup();
  });

  const submit = (script: string, job: Record<string, unknown> = {}) =>
    api.t.submit({ name: 'job', current_working_directory: work, ...job }, `#!/bin/bash\n${script}`);
  const events = (id: string) => getJobEvents(api.t, id);
  const startReported = (id: string, attempt: number) => startReportedOf(api.t, id, attempt);
  const runDir = (node: string, id: string, attempt = 1) => join(nodes.nodeDir(node), 'runs', `${id}-${attempt}`);
  const reconcile = () => new Reconciler(api.t.queue).run(api.t.database.db);

  it('kill -9 of the daemon: the wrapper stops its job before the lease ends, the API settles it only after, and attempt 2 starts after that', async () => {
    const daemon = await nodes.start('fenced', NODE_ENV);
    const id = await submit('exec sleep 600', { requeue: true });
    await startReported(id, 1);
    const dir = runDir('fenced', id);
    const pid = Number(readFileSync(join(dir, 'pid'), 'utf8').split(' ')[0]);

    daemon.kill('SIGKILL');
    expect(await daemon.exited).toBe('signal SIGKILL');
    // The last lease the daemon renewed: nobody renews it now.
    const lease = readLeaseFile(join(nodes.nodeDir('fenced'), 'lease'))!;
    expect(lease).toBeDefined();

    // The API keeps the job the node's while the lease lasts, however often the reconciler runs.
    const status = join(dir, 'status');
    await waitFor(
      'the wrapper stops its job',
      async () => {
        expect((await reconcile()).nodesDown).not.toContain('fenced');
        return existsSync(status) ? true : undefined;
      },
      LEASE_MS * 3,
    );
    expect(readFileSync(status, 'utf8')).toBe('- 9 lease\n');
    const fencedAt = statSync(status).mtimeMs;
    expect(fencedAt).toBeLessThan(lease.endsAt);
    expect(alive(pid)).toBe(false);

    // Settled once the API's lease has ended: requeued, after the job's process was gone.
    await waitFor(
      'the API settles the node',
      async () => ((await reconcile()).nodesDown.includes('fenced') ? true : undefined),
      LEASE_MS * 3,
    );
    const settled = (await events(id)).find((e) => e.actor === 'reconciler')!;
    expect(settled).toMatchObject({ attempt: 1, from_state: 'RUNNING', to_state: 'PENDING' });
    expect(Date.parse(settled.at)).toBeGreaterThan(fencedAt);
    expect(Date.parse(settled.at)).toBeGreaterThanOrEqual(lease.endsAt);

    // Another node (another machine: cores of its own) runs attempt 2, after attempt 1 had ended.
    const elsewhere = testNodes(api);
    try {
      await elsewhere.start('other', NODE_ENV);
      const second = await startReported(id, 2);
      expect(Date.parse(second.at)).toBeGreaterThan(fencedAt);
      await comesBack(id);
    } finally {
      await elsewhere.cleanup();
    }
  });

  /** The lost node `fenced` comes back: attempt 1's real end is kept in the job's events; its state stays. */
  async function comesBack(id: string): Promise<void> {
    await nodes.start('fenced', NODE_ENV);
    const note = await waitFor("attempt 1's real end in the job's events", async () =>
      (await events(id)).find((e) => e.attempt === 1 && e.reason?.includes('really ended')),
    );
    expect(note.reason).toBe(
      `attempt 1 really ended NODE_FAIL (signal 9: ${LEASE_EXPIRED_MESSAGE}), after node fenced was settled as lost`,
    );
    expect(await (await api.t.call('GET', `/v1/jobs/${id}`)).json()).toMatchObject({ state: 'RUNNING', attempt: 2 });
    await api.t.call('POST', `/v1/jobs/${id}/cancel`);
    await waitForState(api.t, id, ['CANCELLED']);
  }

  it('the API away: the daemon stops its runs before the lease ends, and reports them NODE_FAIL once it is back', async () => {
    const daemon = await nodes.start('cutoff', NODE_ENV);
    // Not retried (a lost node's run is, by default): its end stands.
    const id = await submit('exec sleep 600', { requeue: false });
    await startReported(id, 1);
    await api.pause();
    const status = join(runDir('cutoff', id), 'status');
    try {
      await waitFor('the daemon stops its run', () => (existsSync(status) ? true : undefined), LEASE_MS * 3);
    } finally {
      await api.resume();
    }
    const lease = readLeaseFile(join(nodes.nodeDir('cutoff'), 'lease'))!;
    // The daemon's graceful stop (SIGTERM), before the wrappers' deadline.
    expect(readFileSync(status, 'utf8')).toBe('- 15\n');
    expect(statSync(status).mtimeMs).toBeLessThan(lease.fenceAt);
    expect(daemon.stdout().join('\n')).toContain('stopping its runs');
    const job = await waitForState(api.t, id, ['NODE_FAIL']);
    expect(job).toMatchObject({ error_msg: LEASE_EXPIRED_MESSAGE });
  });
});

describe('fencing with a lease that never expires', () => {
  let api: TestApi;
  let nodes: TestNodes;

  beforeAll(async () => {
    api = await startTestApi({ nodeLeaseMs: null });
  });
  afterAll(async () => {
    await api?.close();
  });
  beforeEach(() => {
    nodes = testNodes(api);
  });
  afterEach(async () => {
    await nodes.cleanup();
  });

  it('a restarted daemon ends the attempt it re-adopted before it starts the next attempt of the same job', async () => {
    const work = nodes.dir();
    // Two CPUs: both attempts fit, so only the rule keeps them apart. A grace long enough to see them overlap.
    const env = { ...NODE_ENV, CONDUCTOR_NODE_CPUS: '2', CONDUCTOR_KILL_GRACE_SECONDS: '1' };
    const log = join(work, 'attempts.log');
    const daemon = await nodes.start('again', env);
    const id = await api.t.submit(
      { name: 'job', current_working_directory: work, requeue: true },
      `#!/bin/bash\ntrap '' TERM\nwhile true; do echo "$CONDUCTOR_ATTEMPT" >> ${log}; sleep 0.05; done`,
    );
    await waitFor('attempt 1 writing', () => (existsSync(log) ? true : undefined));
    daemon.kill('SIGKILL');
    await daemon.exited;
    // The admin requeues it while attempt 1 still runs (the README says not to; the daemon must not start both).
    expect((await api.t.call('POST', '/v1/nodes/again/down')).status).toBe(200);
    expect((await new Reconciler(api.t.queue).run(api.t.database.db)).requeued).toBe(1);
    await nodes.start('again', env);
    const attempts = () => readFileSync(log, 'utf8').trim().split('\n');
    await waitFor('attempt 2 writing', () => (attempts().includes('2') ? true : undefined));
    expect((await api.t.call('POST', `/v1/jobs/${id}/cancel`)).status).toBe(200);
    await waitForState(api.t, id, ENDED);
    const seen = attempts();
    expect(seen.lastIndexOf('1')).toBeLessThan(seen.indexOf('2'));
  });

  it('keeps a silent node’s job running and its own until an admin declares the node down', async () => {
    const work = nodes.dir();
    const daemon = await nodes.start('steady', NODE_ENV);
    const id = await api.t.submit(
      { name: 'job', current_working_directory: work, requeue: true },
      '#!/bin/bash\nexec sleep 600',
    );
    const dir = join(nodes.nodeDir('steady'), 'runs', `${id}-1`);
    const pidFile = join(dir, 'pid');
    await waitFor('the job started', () => (existsSync(pidFile) ? true : undefined));
    await waitForState(api.t, id, ['RUNNING']);
    const pid = Number(readFileSync(pidFile, 'utf8').split(' ')[0]);
    try {
      // No lease file: no deadline for the daemon or the wrapper to stop the job at.
      expect(existsSync(join(nodes.nodeDir('steady'), 'lease'))).toBe(false);
      daemon.kill('SIGKILL');
      await daemon.exited;
      await api.t.database.db.execute(
        sql`UPDATE nodes SET last_heartbeat = now() - interval '1 day' WHERE name = 'steady'`,
      );
      expect((await new Reconciler(api.t.queue).run(api.t.database.db)).nodesDown).toEqual([]);
      expect((await getJob(api.t, id)).state).toBe('RUNNING');
      expect(alive(pid)).toBe(true);
      expect(existsSync(join(dir, 'status'))).toBe(false);

      expect((await api.t.call('POST', '/v1/nodes/steady/down')).status).toBe(200);
      expect((await new Reconciler(api.t.queue).run(api.t.database.db)).requeued).toBe(1);
      expect((await getJob(api.t, id)).state).toBe('PENDING');
    } finally {
      // The admin declared it down: its job is the test's to end.
      process.kill(-pid, 'SIGKILL');
    }
  });
});
