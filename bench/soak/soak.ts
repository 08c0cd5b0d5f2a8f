/**
 * `npm run soak`: the guarantees under faults (issue 15, item 3). On a Postgres and a Redis of its own (private ports,
 * a private directory), one API process (two with SOAK_APIS=2) and four node daemons run a mix of jobs that several
 * clients submit with idempotency keys, while the chaos kills, stops, restarts and partitions every part of it
 * (bench/soak/chaos.ts). Then it lets the jobs end, checks what happened against what the jobs themselves wrote in
 * their ledger (bench/soak/soak-checks.ts), stops everything, looks for anything left behind, prints the tables and
 * exits 1 on any violation. Knobs: bench/soak/soak-config.ts.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { cleanEnv } from '../bench-cluster.js';
import { freePort } from '../../test/helpers/child-server.js';
import { runChaos, type FaultCounts } from './chaos.js';
import { readLedgerFile } from './ledger.js';
import { leftRunCgroups, markedProcesses, MARKER, removeCgroups } from './leak-check.js';
import { PrivatePostgres } from './private-postgres.js';
import { PrivateRedis } from './private-redis.js';
import { checkSoak, TERMINAL, type JobRow } from './soak-checks.js';
import { SoakCluster } from './soak-cluster.js';
import { faultQuotas, readSoakConfig } from './soak-config.js';
import { printReport, type SoakReport } from './soak-report.js';
import { runClients } from './submit-clients.js';

const SHARED_PORTS = [5432, 6379];
const OUTPUT_READERS = 8;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);

const config = readSoakConfig(process.env);
const run = randomBytes(6).toString('hex');
const scratch = mkdtempSync(join(tmpdir(), 'conductor-soak-'));
// The postgres user runs the soak's Postgres in here.
chmodSync(scratch, 0o711);
const env = { ...cleanEnv({}), [MARKER]: run };
const privatePort = async () => {
  for (;;) {
    const port = await freePort('127.0.0.1');
    if (!SHARED_PORTS.includes(port)) return port;
  }
};
const adminToken = randomBytes(24).toString('hex');
const ledgerFile = join(scratch, 'ledger');
const workDir = join(scratch, 'work');
mkdirSync(workDir, { mode: 0o755 });

log(`soak ${run}: ${JSON.stringify(config)} in ${scratch}`);
const started = Date.now();
const postgres = await PrivatePostgres.start(scratch, await privatePort(), env);
const redis = await PrivateRedis.start(scratch, await privatePort(), env);
const database = new pg.Pool({ connectionString: postgres.url, max: 2 });
database.on('error', () => {});
const cluster = new SoakCluster({
  scratch,
  env,
  apiPorts: await Promise.all(Array.from({ length: config.apis }, privatePort)),
  databaseUrl: postgres.url,
  redisUrl: redis.url,
  redisPort: redis.port,
  adminToken,
  daemons: config.daemons,
  leaseSeconds: config.leaseSeconds,
  freePort: privatePort,
  log,
});

/** A query that waits out a restarting Postgres. */
async function query<Row extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<Row[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await database.query<Row>(text, values)).rows;
    } catch (error) {
      if (attempt >= 120) throw error;
      await sleep(500);
    }
  }
}

const redisLosses: SoakReport['redisLosses'] = [];
let measuring = true;
/** Before Redis loses its data: the PENDING jobs, whose refs it loses; after: the time until none is PENDING. */
async function redisDataLoss(): Promise<() => void> {
  const ids = (await query<{ id: string }>(`SELECT id FROM jobs WHERE state = 'PENDING'`)).map((row) => row.id);
  const loss: SoakReport['redisLosses'][number] = { pendingAtLoss: ids.length };
  redisLosses.push(loss);
  return () => {
    const at = Date.now();
    void (async () => {
      while (measuring) {
        const [row] = await query<{ n: number }>(
          `SELECT count(*)::int AS n FROM jobs WHERE id = ANY($1::bigint[]) AND state = 'PENDING'`,
          [ids],
        );
        if (row!.n === 0) {
          loss.seconds = (Date.now() - at) / 1000;
          return;
        }
        await sleep(250);
      }
    })();
  };
}

async function stateCounts(): Promise<Record<string, number>> {
  const rows = await query<{ state: string; n: number }>(`SELECT state, count(*)::int AS n FROM jobs GROUP BY state`);
  return Object.fromEntries(rows.map((row) => [row.state, row.n]));
}

async function readOutput(id: string): Promise<string | undefined> {
  for (let attempt = 1; attempt <= 5; attempt++) {
    try {
      const response = await fetch(`${cluster.url}/v1/jobs/${id}/logs/stdout?limit=8388608`, {
        headers: { Authorization: `Bearer ${adminToken}` },
      });
      if (response.ok) return await response.text();
    } catch {
      // Answered below, after a pause.
    }
    await sleep(500);
  }
  return undefined;
}

let failures: string[] = ['the soak did not finish'];
const nodes = () => cluster.daemons.map(({ node, dir }) => ({ node, dir }));

/** Whatever is still up goes, and so does the directory: after a failure on the way, or an interrupt. */
async function tearDown(): Promise<void> {
  measuring = false;
  await cluster.stop().catch(() => {});
  await database.end().catch(() => {});
  await redis.stop().catch(() => {});
  await postgres.stop().catch(() => {});
  await removeCgroups(nodes()).catch(() => {});
  rmSync(scratch, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping the soak`);
    void tearDown().finally(() => process.exit(1));
  });
}
try {
  await cluster.start();
  const t0 = Date.now();
  const T = config.seconds * 1000;
  log(`cluster up: ${config.apis} API process(es) at ${cluster.url}, ${config.daemons} daemons`);
  const progress = setInterval(() => {
    void stateCounts().then((counts) => log(`progress: ${JSON.stringify(counts)}`));
  }, 15_000);
  const clients = runClients({
    url: () => cluster.url,
    token: adminToken,
    seed: config.seed,
    jobs: config.jobs,
    clients: config.clients,
    concurrency: 4,
    windowMs: 0.8 * T,
    deadline: t0 + T + 60_000,
    runKey: run,
    body: { ledger: ledgerFile, workDir, marker: { [MARKER]: run } },
  });
  const faults: FaultCounts = await runChaos(
    {
      cluster,
      postgres,
      redis,
      nodeState: async (node) =>
        (
          await database
            .query<{ state: string }>(`SELECT state FROM nodes WHERE name = $1`, [node])
            .catch(() => undefined)
        )?.rows[0]?.state,
      redisDataLoss,
      log,
    },
    {
      seconds: config.seconds,
      seed: config.seed,
      startMs: t0 + 0.05 * T,
      endMs: t0 + 0.9 * T,
      // The lease, the reconciler's turn, and room for a busy machine.
      partitionMs: (config.leaseSeconds * 2 + 20) * 1000,
    },
  );
  const submitted = await clients;
  log(`chaos done, ${submitted.submits.filter((s) => s.jobId).length} submits acknowledged: draining`);
  const drainUntil = Date.now() + config.drainSeconds * 1000;
  for (;;) {
    const counts = await stateCounts();
    if (!counts.PENDING && !counts.RUNNING) break;
    if (Date.now() > drainUntil) break;
    await sleep(1000);
  }
  clearInterval(progress);
  measuring = false;

  const jobs = (
    await query<JobRow & { id: string }>(
      `SELECT id::text, name, state, attempt, node_name AS node, exit_status AS "exitStatus", requeue,
              error_msg AS "errorMsg" FROM jobs ORDER BY id`,
    )
  ).map((row) => ({ ...row, id: String(row.id) }));
  const completed = jobs.filter((job) => job.state === 'COMPLETED').map((job) => job.id);
  const outputs = new Map<string, string>();
  let next = 0;
  await Promise.all(
    Array.from({ length: OUTPUT_READERS }, async () => {
      while (next < completed.length) {
        const id = completed[next++]!;
        const text = await readOutput(id);
        if (text !== undefined) outputs.set(id, text);
      }
    }),
  );
  const ledger = readLedgerFile(ledgerFile);
  const findings = checkSoak({
    seed: config.seed,
    submits: submitted.submits,
    jobs,
    ledger: ledger.attempts,
    malformedLedgerLines: ledger.malformed,
    outputs,
  });

  // Every job has ended: stopped daemons leave no run behind, and nothing of the soak's outlives it.
  await cluster.stop();
  const leftCgroups = leftRunCgroups(nodes());
  const leaks = leftCgroups.map((name) => `run cgroup ${name}`);
  // A run's cgroup is `<node>.<hash>/<job>.<attempt>`: what its daemon said of the job tells how it was left.
  for (const name of leftCgroups) {
    const [, node, job] = /^([^.]+)\.[^/]+\/(\d+)\./.exec(name) ?? [];
    if (node) findings.details.push(...cluster.logged(node, `job ${job}:`).map((line) => `${node}: ${line}`));
  }
  await database.end();
  await redis.stop();
  await postgres.stop();
  leaks.push(...markedProcesses(run).map((process) => `process ${process}`));
  await removeCgroups(nodes());
  rmSync(scratch, { recursive: true, force: true });
  if (existsSync(scratch)) leaks.push(`directory ${scratch}`);

  failures = printReport({
    counts: findings.counts,
    leaks,
    unexpectedExits: cluster.unexpectedExits,
    refusedSubmits: submitted.refused,
    faults: { reached: faults, required: faultQuotas(config.seconds) },
    redisLosses,
    details: findings.details,
    requests: { sent: submitted.requests, retries: submitted.retries },
    outcomes: {
      ...Object.fromEntries(
        TERMINAL.map((state) => [`ended ${state}`, jobs.filter((job) => job.state === state).length]),
      ),
      'requeued (ran as attempt 2 or later)': jobs.filter((job) => job.attempt > 1).length,
    },
    elapsedSeconds: (Date.now() - started) / 1000,
  });
} catch (error) {
  log(`soak stopped: ${(error as Error).stack}`);
} finally {
  await tearDown();
}
process.exit(failures.length ? 1 : 0);
