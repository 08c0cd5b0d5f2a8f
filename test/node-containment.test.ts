/**
 * The containment probes of issue 12 against a real daemon (`npm run node`) on this machine's cgroups: a `setsid`
 * child does not outlive its job's cancel, time limit or normal end; a `setsid` child over the memory limit makes the
 * job OUT_OF_MEMORY; `taskset` cannot widen a job's CPUs; a job that kills its own wrapper is FAILED within a
 * generous deadline, its processes killed and its cores free. Run as root (cgroups need it); skipped with a printed
 * reason when not (failed where CONDUCTOR_REQUIRE_SERVICES=1, as CI sets). The memory, CPU and process-count probes
 * need the node's level for that concern to be a cgroup, and are skipped with the reason where it is not; the others
 * hold at every level. Each test's processes end with it; the daemon's node cgroups are removed at the end.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainmentLevels } from '../shared/protocol/containment.js';
import type { ChildServer } from './helpers/child-server.js';
import { WRAPPER_LOST_MESSAGE } from '../worker-node/job-ending.js';
import { processStartTime } from '../worker-node/process-table.js';
import { startTestApi, testNodes, waitFor, waitForState, type TestApi, type TestNodes } from './helpers/test-node.js';

const root = process.getuid?.() === 0;
const NOT_ROOT = 'not root (a node contains its jobs in cgroups only as root; CI runs as root)';
if (!root && process.env.CONDUCTOR_REQUIRE_SERVICES === '1') throw new Error(`node-containment: ${NOT_ROOT}`);
if (!root) console.log(`node-containment: skipped, ${NOT_ROOT}`);

describe.runIf(root)('a node daemon contains its jobs', () => {
  let api: TestApi;
  let nodes: TestNodes;
  let work: string;
  let daemon: ChildServer;
  let levels: ContainmentLevels;
  const env = { CONDUCTOR_NODE_CPUS: '2', CONDUCTOR_MEMORY_POLL_SECONDS: '0.2', CONDUCTOR_JOB_PIDS_MAX: '16' };

  beforeAll(async () => {
    api = await startTestApi();
    nodes = testNodes(api);
    work = nodes.dir();
    daemon = await nodes.start('n1', env);
    levels = await waitFor('the node to say its containment', async () => {
      const [first] = (await (await api.t.call('GET', '/v1/nodes')).json()).nodes;
      return first?.containment ?? undefined;
    });
  });
  afterAll(async () => {
    await nodes.cleanup();
    await api.close();
  });

  const submit = (script: string, job: Record<string, unknown> = {}) =>
    api.t.submit({ name: 'probe', current_working_directory: work, ...job }, `#!/bin/bash\n${script}`);

  /** A job that leaves a `setsid` child (out of its process group and session) and writes that child's pid. */
  const leaveASetsidChild = (then: string) =>
    [
      'setsid sleep 1000 & child=$!',
      // Written once the child leads its own session (field 6 of its stat): out of the job's process group for good.
      'until [ "$(cut -d" " -f6 /proc/$child/stat)" = "$child" ]; do sleep 0.01; done',
      'echo $child > escaped-$CONDUCTOR_JOB_ID',
      then,
    ].join('\n');
  const escapedPid = (id: string) =>
    waitFor(`job ${id}'s setsid child`, () => {
      try {
        return Number(readFileSync(join(work, `escaped-${id}`), 'utf8')) || undefined;
      } catch {
        return undefined;
      }
    });
  const alive = (pid: number) => processStartTime(pid) !== undefined;

  it('says its containment levels in its heartbeat: /v1/nodes shows them', () => {
    console.log(`node-containment: levels ${JSON.stringify(levels)}`);
    expect(Object.keys(levels).sort()).toEqual(['cpus', 'kill', 'memory', 'pids']);
  });

  it('a setsid child is gone once its job is CANCELLED', async () => {
    const id = await submit(leaveASetsidChild('sleep 1000'));
    const pid = await escapedPid(id);
    await waitForState(api.t, id, ['RUNNING']);
    expect((await api.t.call('POST', `/v1/jobs/${id}/cancel`)).status).toBe(200);
    await waitForState(api.t, id, ['CANCELLED']);
    expect(alive(pid)).toBe(false);
  });

  it('a setsid child is gone once its job reached its time limit: TIMEOUT', async () => {
    const id = await submit(leaveASetsidChild('sleep 1000'), { time_limit: '0:01' });
    const pid = await escapedPid(id);
    await waitForState(api.t, id, ['TIMEOUT']);
    expect(alive(pid)).toBe(false);
  });

  it('a setsid child is gone once its job ended on its own: COMPLETED', async () => {
    const id = await submit(leaveASetsidChild('exit 0'));
    const pid = await escapedPid(id);
    await waitForState(api.t, id, ['COMPLETED']);
    expect(alive(pid)).toBe(false);
  });

  it('a setsid child over the memory limit makes the job OUT_OF_MEMORY', async (context) => {
    if (levels.memory === 'polled') return context.skip('memory is only polled here: a setsid child escapes the poll');
    const id = await submit(`setsid perl -e '$x = "a" x (600 * 2**20); sleep 5'\nexit 0`, { memory_per_node: '50M' });
    const job = await waitForState(api.t, id, ['OUT_OF_MEMORY', 'COMPLETED', 'FAILED']);
    expect(job).toMatchObject({ state: 'OUT_OF_MEMORY', error_msg: 'used more than its 50 MB of memory' });
  });

  it('taskset cannot widen the CPUs of a 1-core job', async (context) => {
    if (levels.cpus === 'affinity') return context.skip('no cpuset cgroup here: a job can widen its affinity');
    const id = await submit('taskset -pc 0-1 $$ >/dev/null 2>&1; taskset -pc $$', { standard_output: 'widen-%j.out' });
    await waitForState(api.t, id, ['COMPLETED', 'FAILED']);
    const out = readFileSync(join(work, `widen-${id}.out`), 'utf8').trim();
    expect(out).toMatch(/current affinity list: \d+$/);
  });

  it('a job cannot have more processes than CONDUCTOR_JOB_PIDS_MAX', async (context) => {
    if (levels.pids === 'none') return context.skip('no pids cgroup here: the number of processes is not limited');
    // perl's fork answers undef at the limit (EAGAIN): it counts the children it could make.
    const forks =
      'my $n = 0; for (1 .. 40) { my $pid = fork(); last unless defined $pid; if (!$pid) { sleep 30; exit } $n++ } print "$n\\n"';
    const id = await submit(`exec perl -e '${forks}'`, { standard_output: 'forks-%j.out' });
    await waitForState(api.t, id, ['COMPLETED', 'FAILED']);
    expect(Number(readFileSync(join(work, `forks-${id}.out`), 'utf8'))).toBeLessThan(16);
  });

  it('a job that kills its wrapper is FAILED for its lost wrapper, its processes killed, its cores free', async () => {
    const id = await submit(leaveASetsidChild('kill -KILL $PPID\nsleep 1000'), { cpus_per_task: 2 });
    const pid = await escapedPid(id);
    const job = await waitForState(api.t, id, ['FAILED', 'COMPLETED', 'CANCELLED']);
    expect(job).toMatchObject({ state: 'FAILED', error_msg: WRAPPER_LOST_MESSAGE });
    expect(alive(pid)).toBe(false);
    // The node's two CPUs are free again: a job needing both runs.
    const next = await submit('exit 0', { cpus_per_task: 2 });
    await waitForState(api.t, next, ['COMPLETED']);
  });

  it("a daemon restarted after kill -9 finds a run's cgroups again by name: a cancel then leaves no setsid child", async () => {
    const id = await submit(leaveASetsidChild('sleep 1000'));
    const pid = await escapedPid(id);
    await waitForState(api.t, id, ['RUNNING']);
    daemon.kill('SIGKILL');
    await daemon.exited;
    daemon = await nodes.start('n1', env);
    expect((await api.t.call('POST', `/v1/jobs/${id}/cancel`)).status).toBe(200);
    await waitForState(api.t, id, ['CANCELLED']);
    expect(alive(pid)).toBe(false);
  });
});
