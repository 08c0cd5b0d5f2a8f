/**
 * Per-job accounting (issue 21, item 4) with real daemons and real jobs: a job that burns 2 s of CPU and holds
 * 200 MB is recorded with its CPU time and max RSS within 10% of what it measured of itself, from its cgroup (as
 * root, where the node has cgroups), from its wrapper's rusage (containment off), and after a kill -9 of the daemon
 * while it ran (settled from what its wrapper wrote and its cgroup kept). Shown by GET /v1/jobs/{id}, the listing,
 * the original query's detail, with seff's efficiencies.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainmentLevels } from '../shared/protocol/containment.js';
import type { RunUsage } from '../shared/protocol/run-usage.js';
import type { ChildServer } from './helpers/child-server.js';
import { runConductor } from './helpers/run-conductor.js';
import { startTestApi, testNodes, waitFor, waitForState, type TestApi, type TestNodes } from './helpers/test-node.js';

const root = process.getuid?.() === 0;
const NOT_ROOT = 'not root (a node puts its jobs in cgroups only as root; CI runs as root)';
if (!root) console.log(`run-accounting: the cgroup and crash cases are skipped, ${NOT_ROOT}`);
if (!root && process.env.CONDUCTOR_REQUIRE_SERVICES === '1') throw new Error(`run-accounting: ${NOT_ROOT}`);

const MIB = 2 ** 20;
// A job's own run is slow on a busy machine: its wall time is not the test's to bound, only its end to wait for.
const JOB_END_MS = 180_000;

/**
 * The job: holds 200 MiB (vec grows its string zero-filled: every page written), burns 2 s of CPU (its own user +
 * system time, times(2)), then writes what it measured of itself (CPU ms, and its peak RSS: VmHWM, proc(5)) to
 * `<work>/<id>.did`, and (with `hold`) waits, asleep, until `<work>/<id>.go` appears.
 */
const JOB = (hold: boolean) => `#!/usr/bin/perl
use strict;
my $held = ''; vec($held, 200 * 2**20 - 1, 8) = 1;
my $cpu = 0;
while ($cpu < 2.0) { my $x = 0; $x++ for 1 .. 100_000; my @t = times(); $cpu = $t[0] + $t[1]; }
open(my $status, '<', '/proc/self/status') or die; my ($hwm) = join('', <$status>) =~ /VmHWM:\\s+(\\d+) kB/;
open(my $did, '>', "$ENV{CONDUCTOR_JOB_ID}.did.tmp") or die; printf $did "%d %d\\n", 1000 * $cpu, 1024 * $hwm;
close($did); rename("$ENV{CONDUCTOR_JOB_ID}.did.tmp", "$ENV{CONDUCTOR_JOB_ID}.did");
${hold ? 'select(undef, undef, undef, 0.05) until -e "$ENV{CONDUCTOR_JOB_ID}.go";' : ''}
`;

interface Accounted {
  usage: (RunUsage & { attempt: number; node: string }) | null;
  efficiency: { cpu_percent: number | null; memory_percent: number | null } | null;
  cpus: number;
}

/** What the job measured of itself: CPU ms and peak RSS bytes. */
function measured(work: string, id: string): { cpuMs: number; rssBytes: number } {
  const [cpuMs, rssBytes] = readFileSync(join(work, `${id}.did`), 'utf8')
    .trim()
    .split(' ')
    .map(Number);
  return { cpuMs: cpuMs!, rssBytes: rssBytes! };
}

const within10 = (recorded: number, expected: number) => {
  expect(recorded).toBeGreaterThanOrEqual(expected * 0.9);
  expect(recorded).toBeLessThanOrEqual(expected * 1.1);
};

/** The usage recorded for job `id` matches what it did, from `sources`; its efficiencies are seff's. */
async function expectAccounted(
  api: TestApi,
  work: string,
  id: string,
  node: string,
  sources: Pick<RunUsage, 'cpu_source' | 'memory_source'>,
): Promise<RunUsage> {
  const job = (await (await api.t.call('GET', `/v1/jobs/${id}`)).json()) as Accounted;
  const did = measured(work, id);
  const usage = job.usage!;
  console.log(`run-accounting: job ${id} did ${JSON.stringify(did)}, recorded ${JSON.stringify(usage)}`);
  expect(usage).toMatchObject({ attempt: 1, node, ...sources });
  expect(did.cpuMs).toBeGreaterThanOrEqual(2000);
  expect(did.rssBytes).toBeGreaterThanOrEqual(200 * MIB);
  within10(usage.cpu_user_ms + usage.cpu_system_ms, did.cpuMs);
  within10(usage.max_rss_bytes!, did.rssBytes);
  // Its wall time holds at least its CPU time (one process, on one core).
  expect(usage.wall_ms).toBeGreaterThanOrEqual(0.9 * did.cpuMs);
  // seff: CPU time / (wall × cores), max RSS / memory asked (1G).
  expect(job.efficiency).toEqual({
    cpu_percent: Math.round((10_000 * (usage.cpu_user_ms + usage.cpu_system_ms)) / (usage.wall_ms * job.cpus)) / 100,
    memory_percent: Math.round((10_000 * usage.max_rss_bytes!) / 1024 / MIB) / 100,
  });
  return usage;
}

/** An API and its own daemons, for one describe block. */
function accountingCluster() {
  const cluster = {} as { api: TestApi; nodes: TestNodes; work: string };
  beforeAll(async () => {
    cluster.api = await startTestApi();
    cluster.nodes = testNodes(cluster.api);
    cluster.work = cluster.nodes.dir();
  });
  afterAll(async () => {
    await cluster.nodes?.cleanup();
    await cluster.api?.close();
  });
  return cluster;
}

const submitJob = (cluster: { api: TestApi; work: string }, hold = false) =>
  cluster.api.t.submit({ name: 'acct', current_working_directory: cluster.work, memory_per_node: '1G' }, JOB(hold));

describe('accounting from the wrapper (containment off)', () => {
  const cluster = accountingCluster();

  it(
    'a job that burns 2 s of CPU and holds 200 MB: its rusage, within 10%',
    { timeout: JOB_END_MS + 30_000 },
    async () => {
      await cluster.nodes.start('acct-rusage', { CONDUCTOR_CONTAINMENT: 'off' });
      const id = await submitJob(cluster);
      await waitForState(cluster.api.t, id, ['COMPLETED'], JOB_END_MS);
      await expectAccounted(cluster.api, cluster.work, id, 'acct-rusage', {
        cpu_source: 'rusage',
        memory_source: 'rusage',
      });

      // The listing and the original query's detail show the same.
      const { jobs } = (await (await cluster.api.t.call('GET', '/v1/jobs')).json()) as {
        jobs: (Accounted & { id: string })[];
      };
      const listed = jobs.find((job) => job.id === id)!;
      const shown = (await (await cluster.api.t.call('GET', `/v1/jobs/${id}`)).json()) as Accounted;
      expect({ usage: listed.usage, efficiency: listed.efficiency }).toEqual({
        usage: shown.usage,
        efficiency: shown.efficiency,
      });
      const query = (await (await cluster.api.t.call('GET', `/jobs/query/${id}`)).json()) as { detail: Accounted };
      expect(query.detail).toMatchObject({ usage: shown.usage, efficiency: shown.efficiency });

      // The CLI: seff's lines, and history's columns.
      const home = cluster.nodes.dir();
      const seff = await runConductor(cluster.api.url, home, ['seff', id]);
      expect(seff.code).toBe(0);
      const usage = shown.usage!;
      const cpuSeconds = Math.round((usage.cpu_user_ms + usage.cpu_system_ms) / 1000);
      expect(seff.stdout).toContain(`Job ID: ${id}\nState: COMPLETED (exit code 0)\nCores: 1\n`);
      expect(seff.stdout).toContain(`CPU Utilized: 00:00:0${cpuSeconds}\n`);
      expect(seff.stdout).toContain(`CPU Efficiency: ${shown.efficiency!.cpu_percent!.toFixed(2)}% of `);
      expect(seff.stdout).toContain(`Memory Utilized: ${(usage.max_rss_bytes! / MIB).toFixed(2)} MB\n`);
      expect(seff.stdout).toContain(`Memory Efficiency: ${shown.efficiency!.memory_percent!.toFixed(2)}% of 1.00 GB\n`);
      const history = await runConductor(cluster.api.url, home, ['history']);
      expect(history.stdout).toMatch(/TotalCPU\s+MaxRSS\s+CPUEff\s+MemEff\s+NodeList/);
      expect(history.stdout).toMatch(
        new RegExp(`00:00:0${cpuSeconds}\\s+${(usage.max_rss_bytes! / MIB).toFixed(2)} MB\\s`),
      );
    },
  );
});

describe.runIf(root)('accounting from cgroups', () => {
  const cluster = accountingCluster();
  const env = { CONDUCTOR_NODE_CPUS: '2' };
  let levels: ContainmentLevels;
  let daemon: ChildServer;

  beforeAll(async () => {
    daemon = await cluster.nodes.start('acct-cgroup', env);
    levels = await waitFor('the node to say its containment', async () => {
      const [first] = (await (await cluster.api.t.call('GET', '/v1/nodes')).json()).nodes;
      return first?.containment ?? undefined;
    });
    if (levels.memory === 'polled') console.log('run-accounting: this node has no memory cgroup: max RSS from rusage');
  });

  const sources = (): Pick<RunUsage, 'cpu_source' | 'memory_source'> => ({
    cpu_source: 'cgroup',
    memory_source: levels.memory === 'polled' ? 'rusage' : 'cgroup',
  });

  it(
    'a job that burns 2 s of CPU and holds 200 MB: its cgroup, within 10%',
    { timeout: JOB_END_MS + 30_000 },
    async () => {
      const id = await submitJob(cluster);
      await waitForState(cluster.api.t, id, ['COMPLETED'], JOB_END_MS);
      await expectAccounted(cluster.api, cluster.work, id, 'acct-cgroup', sources());
    },
  );

  it(
    'a run that ends while its daemon is down (kill -9) is accounted all the same',
    { timeout: JOB_END_MS + 60_000 },
    async () => {
      const { api, nodes, work } = cluster;
      const id = await submitJob(cluster, true);
      await waitFor(
        `job ${id} to have done its work`,
        () => (existsSync(join(work, `${id}.did`)) ? true : undefined),
        JOB_END_MS,
      );
      daemon.kill('SIGKILL');
      expect(await daemon.exited).toBe('signal SIGKILL');
      // It ends while no daemon is there: its wrapper writes its usage and status, its cgroup keeps its counts.
      writeFileSync(join(work, `${id}.go`), '');
      const run = join(nodes.nodeDir('acct-cgroup'), 'runs', `${id}-1`);
      await waitFor(`job ${id}'s exit status`, () => (existsSync(join(run, 'status')) ? true : undefined), JOB_END_MS);
      expect(existsSync(join(run, 'usage'))).toBe(true);
      daemon = await nodes.start('acct-cgroup', env);
      await waitForState(api.t, id, ['COMPLETED'], JOB_END_MS);
      await expectAccounted(api, work, id, 'acct-cgroup', sources());
    },
  );
});
