/**
 * The node's disk full (issue 15), on a small tmpfs the test fills (test/helpers/small-disk.ts; root only, as CI runs):
 * - under a job's output: the job's own write fails (its script sees ENOSPC); what it did write is stored, and the
 *   run ends as its script did;
 * - under the node's directory (journal, run files, lease file): the lease is renewed all the same, a run that ends
 *   meanwhile is not given a false ending (its wrapper cannot record its exit status, and waits until it can), the
 *   daemon keeps serving its other runs (a cancel ends one), confirms no new job while it cannot journal one, and
 *   everything is reported truly once space returns.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChildServer } from './helpers/child-server.js';
import { readLeaseFile } from '../worker-node/node-lease.js';
import { mountSmallDisk, type SmallDisk } from './helpers/small-disk.js';
import {
  ENDED,
  getJob,
  startTestApi,
  testNodes,
  waitFor,
  waitForState,
  type TestApi,
  type TestNodes,
} from './helpers/test-node.js';

// Three CPUs on one core: two runs, and room for a third job to be claimed while the disk is full.
const NODE_ENV = {
  CONDUCTOR_HEARTBEAT_SECONDS: '0.2',
  CONDUCTOR_NODE_CPUS: '1',
  CONDUCTOR_NODE_OVERSUBSCRIBE: '3',
};
const root = process.getuid?.() === 0;
// Short, so that the disk stays full longer than a lease.
const LEASE_MS = 6000;

const alive = (pid: number) => {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
};

describe.skipIf(!root)('the node disk full', () => {
  let api: TestApi;
  let nodes: TestNodes;
  let work: string;
  let disk: SmallDisk | undefined;
  let daemon: ChildServer | undefined;

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
    disk?.free();
    // The daemon first: its node directory may be the small disk.
    await daemon?.stop();
    disk?.unmount();
    disk = undefined;
    await nodes.cleanup();
  });
  /** A small disk on a directory of the test's: its own, or `at`. */
  const smallDisk = (size: string, at?: string) => {
    const dir = at ?? join(nodes.dir(), 'disk');
    mkdirSync(dir, { recursive: true });
    return mountSmallDisk(dir, size);
  };

  const submit = (script: string, job: Record<string, unknown> = {}) =>
    api.t.submit({ name: 'job', current_working_directory: work, ...job }, `#!/bin/bash\n${script}`);
  const stored = async (id: string) => (await api.t.call('GET', `/v1/jobs/${id}/logs/stdout`)).text();
  const started = (id: string) =>
    waitFor(`job ${id} started`, async () => {
      const events = (
        (await (await api.t.call('GET', `/v1/jobs/${id}/events`)).json()) as {
          events: { reason: string | null }[];
        }
      ).events;
      return events.some((e) => e.reason?.startsWith('process ')) ? true : undefined;
    });

  it("under a job's output: the job sees its write fail, what it wrote is stored, and it ends as its script says", async () => {
    disk = smallDisk('1m');
    daemon = await nodes.start('output-full', NODE_ENV);
    // More than the disk holds; `head` fails on ENOSPC, and the script says so by its exit status.
    const id = await submit('yes 0123456789abcdef | head -c 3000000 || exit 7', {
      current_working_directory: disk.dir,
    });
    const job = await waitForState(api.t, id, ENDED);
    expect(job).toMatchObject({ state: 'FAILED', exit_code: { status: 7, signal: null }, error_msg: 'exit status 7' });
    const written = readFileSync(join(disk.dir, `slurm-${id}.out`), 'utf8');
    expect(written.length).toBeGreaterThan(0);
    expect(written.length).toBeLessThan(3_000_000);
    expect(await stored(id)).toBe(written);
  });

  it("under the node's directory: no false ending, its other runs served, no new job taken, all reported once space returns", async () => {
    const nodeDir = nodes.nodeDir('node-full');
    disk = smallDisk('16m', nodeDir);
    daemon = await nodes.start('node-full', NODE_ENV);
    const go = join(work, 'go');
    const ends = await submit(`echo waiting\nwhile [ ! -e ${go} ]; do sleep 0.05; done\necho done`);
    const cancelled = await submit('echo running\nexec sleep 600');
    await started(ends);
    await started(cancelled);

    disk.fill();
    // The lease is renewed all the same (its file rewritten in place): the runs outlive the lease they had.
    const lease = join(nodeDir, 'lease');
    const held = readLeaseFile(lease)!;
    await waitFor('the lease renewed past its end', () =>
      readLeaseFile(lease)!.fenceAt > held.endsAt ? true : undefined,
    );
    const pid = Number(readFileSync(join(nodeDir, 'runs', `${cancelled}-1`, 'pid'), 'utf8').split(' ')[0]);
    expect(alive(pid)).toBe(true);
    writeFileSync(go, '');
    // Its end cannot be recorded on the node: the run is not reported ended (nor ended falsely) while the disk is full.
    await waitFor('the wrapper to say it cannot record the end', () =>
      daemon!
        .stderrTail()
        .some((line) =>
          line.includes(`/runs/${ends}-1: the job ended; its exit status cannot be recorded yet (No space`),
        )
        ? true
        : undefined,
    );
    expect((await getJob(api.t, ends)).state).toBe('RUNNING');
    // A cancel now comes after its end: it does not change how it ended.
    await api.t.call('POST', `/v1/jobs/${ends}/cancel`);
    await waitFor('the daemon to see it ended already', () =>
      daemon!.stdout().some((line) => line.includes(`job ${ends}: ended already`)) ? true : undefined,
    );
    // Its other run is still served: a cancel ends its process (its end, too, is reported once it can be recorded).
    await api.t.call('POST', `/v1/jobs/${cancelled}/cancel`);
    await waitFor('the cancelled job to end', () => (alive(pid) ? undefined : true));
    expect((await getJob(api.t, cancelled)).state).toBe('RUNNING');
    // A new job is claimed but not confirmed while nothing can be journaled: it stays PENDING, not run unrecorded.
    const later = await submit('echo later');
    await waitFor('the claim to wait for the disk', () =>
      daemon!.stdout().some((line) => line.includes(`claimed job(s) ${later} not confirmed yet`)) ? true : undefined,
    );
    expect((await getJob(api.t, later)).state).toBe('PENDING');

    disk.free();
    expect(await waitForState(api.t, ends, ENDED)).toMatchObject({
      state: 'COMPLETED',
      exit_code: { status: 0, signal: null },
    });
    expect(await stored(ends)).toBe('waiting\ndone\n');
    expect(await waitForState(api.t, cancelled, ENDED)).toMatchObject({ state: 'CANCELLED' });
    expect(await stored(cancelled)).toBe('running\n');
    expect(await waitForState(api.t, later, ENDED)).toMatchObject({ state: 'COMPLETED', attempt: 1 });
    expect(await stored(later)).toBe('later\n');
  });
});
