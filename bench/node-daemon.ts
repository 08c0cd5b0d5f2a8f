/**
 * `npm run bench:node`: the node daemon, end to end, in real processes on this machine.
 *
 * 1. Makespan of 1,000 jobs of `true` (1 CPU each) on one node holding every core, from the node's first heartbeat
 *    to the last job's end as the API recorded it, against the same 1,000 scripts run by `xargs -P <cores> -n1 bash`.
 *    The API is the Node host on the Postgres server with a Redis queue; the daemon claims from Redis.
 * 2. Submit-to-start latency on an idle node (the job prints the time it started): the embedded default (`npm start`,
 *    PGlite, the node in the same process) and the Node host with Redis plus a daemon of its own.
 * 3. The daemon's resident memory idle and with 200 running `sleep` jobs, and its CPU use while idle.
 * 4. Isolation off against on, in the same run, as root: off runs jobs naming no user as root with
 *    CONDUCTOR_CONTAINMENT=off (process group, taskset, polled memory); on runs them as their owner (a Unix user the
 *    bench adds and removes) in cgroups of their own. The makespan of the same jobs and the submit-to-start p50 with
 *    each, as a ratio and a difference (means over rounds in the order off, on, on, off), the latency split at the
 *    job's RUNNING event.
 *
 * The daemons run from the bundle `npm run build:node` makes (as deployed), the API host under tsx.
 * Env: DATABASE_URL (default the local test server), REDIS_URL (default local), BENCH_JOBS (1000), BENCH_SAMPLES (50),
 * BENCH_ONLY=isolation (section 4 alone), BENCH_ISOLATION_ROUNDS (2: off, on, then on, off).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { ChildServer } from '../test/helpers/child-server.js';
import { BenchCluster, percentile, submitBody, until } from './bench-cluster.js';
import { adminQuery, withServerSchema } from '../test/helpers/test-databases.js';
import { deleteKeys, REDIS_URL } from '../test/helpers/test-redis.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 1000);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 50);
const ONLY = process.env.BENCH_ONLY;
const ISOLATION_ROUNDS = Number(process.env.BENCH_ISOLATION_ROUNDS ?? 2);
const CORES = availableParallelism();
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

const cluster = new BenchCluster('node');
const { scratch } = cluster;

/** A submit body; `user` names the job's owner (the bench submits as the admin, who may name one). */
function ownedBody(script: string, cwd: string, user: string | undefined) {
  const body = submitBody(script, cwd);
  return user === undefined ? body : { ...body, job: { ...body.job, user } };
}

async function submitMany(host: ChildServer, count: number, script: string, cwd: string, user?: string): Promise<void> {
  const body = ownedBody(script, cwd, user);
  let next = 0;
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (next < count) {
        next++;
        await cluster.call(host, 'POST', '/v1/jobs', body);
      }
    }),
  );
}

async function countIn(host: ChildServer, state: string): Promise<number> {
  const stats = (await cluster.call(host, 'GET', '/v1/stats')) as { by_state: Record<string, number> };
  return stats.by_state[state] ?? 0;
}

/** The time a daemon logged a line (each starts with an ISO timestamp). */
function loggedAt(daemon: ChildServer, text: string): number | undefined {
  const line = daemon.stdout().find((candidate) => candidate.includes(text));
  return line ? Date.parse(line.split(' ')[0]!) : undefined;
}

function residentMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((candidate) => candidate.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]) / 1024;
}

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** The machine's CPU time so far, in clock ticks: all of it, and the idle part (/proc/stat). */
function machineTicks(): { total: number; idle: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { total: fields.reduce((sum, value) => sum + value, 0), idle: fields[3]! + fields[4]! };
}

/** CPU seconds used so far by every Postgres and Redis server process on the machine (their backends persist). */
function serverSeconds(): { postgres: number; redis: number } {
  const total = { postgres: 0, redis: 0 };
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      const server = comm.startsWith('postgres') ? 'postgres' : comm.startsWith('redis-server') ? 'redis' : undefined;
      if (server) total[server] += cpuSeconds(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

function xargsSeconds(count: number): number {
  const dir = mkdtempSync(join(scratch, 'xargs-'));
  for (let i = 0; i < count; i++) writeFileSync(join(dir, `job-${i}.sh`), '#!/bin/bash\ntrue\n');
  const started = process.hrtime.bigint();
  const result = spawnSync('bash', ['-c', `ls | xargs -P ${CORES} -n1 bash`], { cwd: dir });
  if (result.status !== 0) throw new Error(`xargs failed: ${result.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/**
 * Submits one job at a time to an idle node; each prints when it started. Answers the latencies in ms, sorted, and
 * the part of each spent answering the submit.
 */
interface Latencies {
  /** Submit sent to the job's first instruction, ms, sorted. */
  total: number[];
  /** The submit's own answer, ms, sorted. */
  submit: number[];
  /** With `schema`: submit sent to the RUNNING event (claim and confirm), and from it to the job's first instruction
   * (journal and launch), ms, sorted. */
  toRunning: number[];
  toFirstInstruction: number[];
}

async function startLatencies(
  host: ChildServer,
  token: string,
  cwd: string,
  user?: string,
  schema?: string,
): Promise<Latencies> {
  const latencies: Latencies = { total: [], submit: [], toRunning: [], toFirstInstruction: [] };
  for (let i = 0; i < SAMPLES; i++) {
    const sent = Date.now();
    const { id } = (await cluster.call(host, 'POST', '/v1/jobs', ownedBody('date +%s%3N', cwd, user), token)) as {
      id: string;
    };
    latencies.submit.push(Date.now() - sent);
    const out = join(cwd, `slurm-${id}.out`);
    await until(
      `job ${id} to start`,
      // Never created here: the job makes it, as its owner.
      async () => existsSync(out) && readFileSync(out, 'utf8').includes('\n'),
      10_000,
      2,
    );
    const started = Number(readFileSync(out, 'utf8').trim());
    latencies.total.push(started - sent);
    if (schema) {
      const [event] = await adminQuery<{ at: string }>(
        `SELECT extract(epoch FROM at) * 1000 AS at FROM ${schema}.job_events WHERE job_id = $1 AND to_state = 'RUNNING'`,
        [id],
      );
      latencies.toRunning.push(Math.round(Number(event!.at) - sent));
      latencies.toFirstInstruction.push(Math.round(started - Number(event!.at)));
    }
    await new Promise((resolve) => setTimeout(resolve, 100)); // idle again
  }
  for (const list of Object.values(latencies) as number[][]) list.sort((a, b) => a - b);
  return latencies;
}

function latencyLine(what: string, { total, submit }: Latencies, target: number): string {
  return (
    `submit-to-start ${what}: p50 ${percentile(total, 50)} ms, p95 ${percentile(total, 95)} ms ` +
    `(the submit's own answer: p50 ${percentile(submit, 50)} ms; target p50 under ${target} ms)`
  );
}

/** Section 4's job owner: a Unix user of the bench's own (useradd picks a uid of at least 1000), removed after. */
function addBenchUser(): { name: string; uid: number; gid: number; remove: () => void } {
  const name = `cndbench${process.pid}`;
  execFileSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', name]);
  const [uid, gid] = ['-u', '-g'].map((flag) => Number(execFileSync('id', [flag, name], { encoding: 'utf8' })));
  return { name, uid: uid!, gid: gid!, remove: () => execFileSync('userdel', [name]) };
}

/**
 * Section 4, one side: the makespan of JOBS `true` jobs queued before a fresh daemon starts (from its first UP to
 * their last end), then submit-to-start latencies on it, idle. `owner` set: isolation on (jobs run as the owner, in
 * cgroups); unset: off (jobs naming no user run as root, no cgroups).
 */
async function isolatedRun(
  host: ChildServer,
  schema: string,
  env: Record<string, string>,
  owner: ReturnType<typeof addBenchUser> | undefined,
): Promise<{ makespan: number; latency: Latencies }> {
  const side = owner ? 'on' : 'off';
  const workDir = (prefix: string) => {
    const dir = mkdtempSync(join(scratch, `${prefix}-${side}-`));
    if (owner) chownSync(dir, owner.uid, owner.gid);
    return dir;
  };
  const before = await countIn(host, 'COMPLETED');
  await submitMany(host, JOBS, 'true', workDir('isolated'), owner?.name);
  const daemon = await cluster.startDaemon(host, `isolation-${side}`, {
    ...env,
    CONDUCTOR_NODE_CPUS: String(CORES),
    CONDUCTOR_CONTAINMENT: side,
  });
  await until(`${JOBS} jobs COMPLETED`, async () => (await countIn(host, 'COMPLETED')) === before + JOBS, 600_000);
  const up = loggedAt(daemon, 'is UP')!;
  const [row] = await adminQuery<{ last: string }>(
    `SELECT extract(epoch FROM max(end_time)) * 1000 AS last FROM ${schema}.jobs`,
  );
  const makespan = (Number(row!.last) - up) / 1000;
  const latency = await startLatencies(host, cluster.adminToken, workDir('latency'), owner?.name, schema);
  const levels = daemon
    .stdout()
    .find((line) => line.includes('containment:'))
    ?.split('containment: ')[1];
  report(
    `isolation ${side} (${owner ? `as ${owner.name}, ${levels}` : 'as root, containment off'}): ` +
      `makespan ${makespan.toFixed(2)} s, submit-to-start p50 ${percentile(latency.total, 50)} ms ` +
      `(to RUNNING ${percentile(latency.toRunning, 50)} ms, then to the first instruction ` +
      `${percentile(latency.toFirstInstruction, 50)} ms)`,
  );
  await daemon.stop();
  return { makespan, latency };
}

const lines: string[] = [];
const report = (line: string) => {
  lines.push(line);
  console.log(line);
};

try {
  await withServerSchema('bench_node', async (schema, databaseUrl) => {
    const prefix = `bench:node:${randomBytes(4).toString('hex')}:`;
    const host = await cluster.startHost({
      DATABASE_URL: databaseUrl,
      REDIS_URL,
      CONDUCTOR_REDIS_PREFIX: prefix,
      CONDUCTOR_LOCAL_NODE: 'off',
    });
    const redisEnv = { REDIS_URL, CONDUCTOR_REDIS_PREFIX: prefix };

    // 4. Isolation off, then on, on the same host.
    if (process.getuid?.() !== 0) report('isolation off/on: skipped, not root (switching users and cgroups need root)');
    else {
      // The owner's jobs must reach their working directories under the bench's private scratch directory.
      chmodSync(scratch, 0o711);
      const owner = addBenchUser();
      try {
        // Off, on, on, off, ...: a drift over the run (a growing database, a warming cache) weighs on both sides alike.
        type IsolatedRun = Awaited<ReturnType<typeof isolatedRun>>;
        const runs: Record<'off' | 'on', IsolatedRun[]> = { off: [], on: [] };
        for (let round = 0; round < ISOLATION_ROUNDS; round++) {
          const order = round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const);
          for (const side of order)
            runs[side].push(await isolatedRun(host, schema, redisEnv, side === 'on' ? owner : undefined));
        }
        const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
        const makespan = (side: 'off' | 'on') => mean(runs[side].map((run) => run.makespan));
        const p50 = (side: 'off' | 'on', part: keyof Latencies = 'total') =>
          mean(runs[side].map((run) => percentile(run.latency[part], 50)));
        report(
          `isolation makespan ratio on/off (mean of ${ISOLATION_ROUNDS} each): ` +
            `${(makespan('on') / makespan('off')).toFixed(2)} (target at most 1.15)`,
        );
        report(
          `isolation submit-to-start p50 on - off: ${(p50('on') - p50('off')).toFixed(1)} ms (target at most 3 ms); ` +
            `to RUNNING ${(p50('on', 'toRunning') - p50('off', 'toRunning')).toFixed(1)} ms, ` +
            `then to the first instruction ` +
            `${(p50('on', 'toFirstInstruction') - p50('off', 'toFirstInstruction')).toFixed(1)} ms`,
        );
      } finally {
        owner.remove();
      }
    }
    if (ONLY === 'isolation') {
      await host.stop();
      await deleteKeys(prefix);
      return;
    }

    // 1. Makespan: the jobs wait in the queue; the clock starts at the node's first heartbeat.
    const work = mkdtempSync(join(scratch, 'work-'));
    await submitMany(host, JOBS, 'true', work);
    const hostCpu = cpuSeconds(host.pid);
    const serversCpu = serverSeconds();
    const machineBefore = machineTicks();
    const daemon = await cluster.startDaemon(host, 'bench', { ...redisEnv, CONDUCTOR_NODE_CPUS: String(CORES) });
    const daemonCpu = cpuSeconds(daemon.pid);
    await until(`${JOBS} jobs COMPLETED`, async () => (await countIn(host, 'COMPLETED')) === JOBS, 600_000);
    const perJob = (seconds: number) => `${((seconds * 1000) / JOBS).toFixed(2)} ms`;
    const servers = serverSeconds();
    const machineAfter = machineTicks();
    const busy = 1 - (machineAfter.idle - machineBefore.idle) / (machineAfter.total - machineBefore.total);
    report(
      `CPU per job: daemon ${perJob(cpuSeconds(daemon.pid) - daemonCpu)}, API host ${perJob(cpuSeconds(host.pid) - hostCpu)}, ` +
        `Postgres ${perJob(servers.postgres - serversCpu.postgres)}, Redis ${perJob(servers.redis - serversCpu.redis)}; ` +
        `the machine was ${(busy * 100).toFixed(0)}% busy`,
    );
    const up = loggedAt(daemon, 'is UP')!;
    const [row] = await adminQuery<{ last: string }>(
      `SELECT extract(epoch FROM max(end_time)) * 1000 AS last FROM ${schema}.jobs`,
    );
    const makespan = (Number(row!.last) - up) / 1000;
    const floor = xargsSeconds(JOBS);
    report(
      `makespan ${JOBS} true jobs on ${CORES} cores: ${makespan.toFixed(2)} s (${(JOBS / makespan).toFixed(0)} jobs/s)`,
    );
    report(`xargs -P ${CORES} -n1 bash, same scripts: ${floor.toFixed(2)} s (${(JOBS / floor).toFixed(0)} jobs/s)`);
    report(`makespan ratio: ${(makespan / floor).toFixed(2)} (target at most 1.3)`);

    // 2b. Submit-to-start with Redis, on this idle daemon.
    const latencyWork = mkdtempSync(join(scratch, 'latency-redis-'));
    const redisLatency = await startLatencies(host, cluster.adminToken, latencyWork);
    report(latencyLine('with Redis', redisLatency, 20));
    await daemon.stop();

    // 3. A fresh daemon offering 200 CPUs.
    const wide = await cluster.startDaemon(host, 'wide', {
      ...redisEnv,
      CONDUCTOR_NODE_CPUS: String(CORES),
      CONDUCTOR_NODE_OVERSUBSCRIBE: String(Math.ceil(200 / CORES)),
    });
    // 3a. Idle: no job yet; memory, and CPU over 10 s. Measured from 20 s after the start: for its first 20 s or so
    // a fresh node process spends about 0.5% of a core collecting its start-up garbage, then 0.1-0.2%.
    await new Promise((resolve) => setTimeout(resolve, 20_000));
    const idleRss = residentMb(wide.pid);
    const cpuBefore = cpuSeconds(wide.pid);
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const idleCpu = ((cpuSeconds(wide.pid) - cpuBefore) / 10) * 100;
    report(`daemon idle: RSS ${idleRss.toFixed(1)} MB, CPU ${idleCpu.toFixed(2)}% of a core (target under 1%)`);

    // 3b. 200 running sleep jobs.
    const sleepWork = mkdtempSync(join(scratch, 'sleep-'));
    await submitMany(host, 200, 'sleep 120', sleepWork);
    await until('200 jobs RUNNING', async () => (await countIn(host, 'RUNNING')) === 200, 120_000, 200);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    report(`daemon with 200 running sleep jobs: RSS ${residentMb(wide.pid).toFixed(1)} MB (target under 80 MB)`);
    const busyBefore = cpuSeconds(wide.pid);
    await new Promise((resolve) => setTimeout(resolve, 5000));
    report(`  its CPU meanwhile: ${(((cpuSeconds(wide.pid) - busyBefore) / 5) * 100).toFixed(2)}% of a core`);
    const { jobs } = (await cluster.call(host, 'GET', '/v1/jobs?state=RUNNING&limit=500')) as {
      jobs: { id: string }[];
    };
    await Promise.all(jobs.map((job) => cluster.call(host, 'POST', `/v1/jobs/${job.id}/cancel`)));
    await until('200 jobs CANCELLED', async () => (await countIn(host, 'CANCELLED')) === 200, 60_000, 200);
    await wide.stop();
    await host.stop();
    await deleteKeys(prefix);
  });

  // 2a. The embedded default: PGlite and the node in one process.
  if (ONLY !== 'isolation') {
    const dataDir = mkdtempSync(join(scratch, 'embedded-'));
    const embedded = await cluster.startHost({
      CONDUCTOR_DATA_DIR: dataDir,
      CONDUCTOR_CORE_LOCK_DIR: join(dataDir, 'cores'),
    });
    await until('the local node UP', async () => embedded.stdout().some((line) => line.includes('is UP')), 30_000);
    const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    const embeddedLatency = await startLatencies(embedded, token, mkdtempSync(join(scratch, 'latency-embedded-')));
    report(latencyLine('embedded', embeddedLatency, 10));
  }
} finally {
  await cluster.close();
}
console.log(`\nsummary:\n${lines.join('\n')}`);
