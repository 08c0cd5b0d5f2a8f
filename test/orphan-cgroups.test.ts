/**
 * A run cgroup no journaled run owns (a daemon killed between forgetting a run and removing its cgroups, found by the
 * soak) is emptied and removed by the next daemon of the node at its start; the cgroups of the runs it re-adopts are
 * left alone. As root on real cgroups; skipped with the reason otherwise.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareNodeCgroups, removeNodeCgroups } from '../worker-node/containment/node-cgroups.js';
import { RunContainment } from '../worker-node/containment/run-containment.js';
import { cgroupNodeName } from '../worker-node/node-daemon.js';
import { processStartTime } from '../worker-node/process-table.js';
import {
  startReported,
  startTestApi,
  testNodes,
  waitFor,
  waitForState,
  type TestApi,
  type TestNodes,
} from './helpers/test-node.js';

const root = process.getuid?.() === 0;
const probe = root ? prepareNodeCgroups(`orphan-probe-${process.pid}`, true) : undefined;
const hasCgroups = probe !== undefined && Object.keys(probe.dirs).length > 0;
if (probe) removeNodeCgroups(probe);
if (!root) console.log('orphan-cgroups: skipped, not root (cgroups need root to be made)');
else if (!hasCgroups) console.log('orphan-cgroups: skipped, this machine has no writable cgroup hierarchy');

describe.runIf(hasCgroups)('a run cgroup no run owns', () => {
  let api: TestApi;
  let nodes: TestNodes;
  let stray: ChildProcess | undefined;
  beforeAll(async () => {
    api = await startTestApi();
    nodes = testNodes(api);
  });
  afterAll(async () => {
    stray?.kill('SIGKILL');
    await nodes?.cleanup();
    await api?.close();
  });

  it('is emptied and removed at the next start, while a re-adopted run keeps its own', async () => {
    const work = nodes.dir();
    const first = await nodes.start('orphans', { CONDUCTOR_NODE_CPUS: '1' });
    const live = await api.t.submit(
      { name: 'live', current_working_directory: work },
      `#!/bin/bash\nwhile [ ! -e ${work}/end ]; do sleep 0.05; done`,
    );
    // Started on the node (not only confirmed): its cgroups are made, and the next daemon re-adopts the run.
    await startReported(api.t, live, 1);
    first.kill('SIGKILL');
    await first.exited;

    // What a killed daemon would leave: a run's cgroups, with a process still in them.
    const cgroups = prepareNodeCgroups(cgroupNodeName('orphans', nodes.nodeDir('orphans')), true);
    const orphan = RunContainment.create(cgroups, '999999.1', { memoryMb: 64, cpuIds: [0] });
    stray = spawn('sleep', ['600'], { stdio: 'ignore' });
    const strayStart = processStartTime(stray.pid!);
    for (const procs of orphan.cgroupProcs) await appendFile(procs, `${stray.pid}\n`);

    await nodes.start('orphans', { CONDUCTOR_NODE_CPUS: '1' });
    await waitFor('the orphan cgroups removed', () =>
      Object.values(orphan.dirs).every((dir) => !existsSync(dir)) ? true : undefined,
    );
    expect(processStartTime(stray.pid!) === strayStart).toBe(false);
    const adopted = RunContainment.find(cgroups, `${live}.1`);
    expect(Object.values(adopted.dirs).every((dir) => existsSync(dir))).toBe(true);

    await writeFile(`${work}/end`, '');
    expect(await waitForState(api.t, live, ['COMPLETED', 'FAILED'])).toMatchObject({ state: 'COMPLETED' });
  });
});
