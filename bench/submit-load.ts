/**
 * `npm run bench:submit`: submit throughput and latency of the Node host, on the Postgres server (DATABASE_URL, in a
 * throw-away schema) and on the embedded PGlite (in a throw-away data directory), next to a reference: a bare Hono
 * handler doing one INSERT ... RETURNING. Each server runs in its own process; autocannon drives it from this one.
 *
 * Env: DATABASE_URL (default the local test server), BENCH_SECONDS (10), BENCH_CONNECTIONS (50).
 * Prints `<backend> <metric> <value>` lines, then a summary table; exits 1 if a check fails.
 */
import autocannon from 'autocannon';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startChildServer, type ChildServer } from '../test/helpers/child-server.js';
import { adminQuery, withServerSchema } from '../test/helpers/test-databases.js';

const SECONDS = positiveInt('BENCH_SECONDS', 10);
const CONNECTIONS = positiveInt('BENCH_CONNECTIONS', 50);
// Long enough for the JIT, the connection pool and Postgres' caches to warm up; never counted.
const WARMUP_SECONDS = 2;
// The host's default pool size, given to the reference too, so both have the same number of connections.
const POOL_SIZE = 10;
const HOST = '127.0.0.1';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ADMIN_TOKEN = randomBytes(20).toString('hex');

const SUBMIT_BODY = JSON.stringify({
  job: {
    account: 'bench',
    name: 'load',
    partition: 'default',
    ntasks_per_node: 1,
    cpus_per_task: 1,
    memory_per_node: '1G',
    time_limit: '10',
  },
  script: '#!/bin/bash\ntrue',
});

interface Measurement {
  name: string;
  seconds: number;
  created: number;
  perSecond: number;
  p50: number;
  p99: number;
  non201: number;
  errors: number;
  /** Requests sent but not answered when autocannon stopped: the server may still have committed them. */
  unanswered: number;
  rowsAdded: number;
  rowsOk: boolean;
  stderrTail: string[];
}

function positiveInt(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive whole number`);
  return value;
}

// ---- load -------------------------------------------------------------------------------------------------------

function runLoad(url: string, seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url: `${url}/v1/jobs`,
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: SUBMIT_BODY,
    connections: CONNECTIONS,
    duration: seconds,
  });
}

/** Warm up, then measure, counting the rows the measured run added (the warm-up's are counted out). */
async function measure(name: string, server: ChildServer, countRows: () => Promise<number>): Promise<Measurement> {
  await runLoad(server.url, WARMUP_SECONDS);
  const before = await settledCount(countRows);
  const result = await runLoad(server.url, SECONDS);
  const rowsAdded = (await settledCount(countRows)) - before;
  return summarize(name, result, rowsAdded, server.stderrTail());
}

function summarize(name: string, result: autocannon.Result, rowsAdded: number, stderrTail: string[]): Measurement {
  const byStatus = Object.values(result.statusCodeStats ?? {}).map((stat) => stat.count ?? 0);
  const responses = byStatus.reduce((sum, count) => sum + count, 0);
  const created = result.statusCodeStats?.['201']?.count ?? 0;
  const unanswered = Math.max(0, result.requests.sent - responses);
  return {
    name,
    seconds: result.duration,
    created,
    perSecond: created / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non201: responses - created,
    errors: result.errors,
    unanswered,
    rowsAdded,
    // Exact, except for the requests cut off in flight at the end: committed, but the answer was never read.
    rowsOk: rowsAdded >= created && rowsAdded - created <= unanswered,
    stderrTail,
  };
}

/** Requests cut off at the end of a run may still be committing; count until two reads agree. */
async function settledCount(countRows: () => Promise<number>): Promise<number> {
  let last = await countRows();
  for (;;) {
    await new Promise((done) => setTimeout(done, 250));
    const next = await countRows();
    if (next === last) return next;
    last = next;
  }
}

// ---- servers ----------------------------------------------------------------------------------------------------

async function startConductorHost(name: string, env: Record<string, string>): Promise<ChildServer> {
  const port = await freePort(HOST);
  return startChildServer(name, 'api/hosts/node/main.ts', ROOT, {
    ...inheritedEnv(),
    HOST,
    PORT: String(port),
    CONDUCTOR_ADMIN_TOKEN: ADMIN_TOKEN,
    CONDUCTOR_DB_POOL_SIZE: String(POOL_SIZE),
    ...env,
  });
}

/** This shell's environment minus the host's own settings, so a stray DATABASE_URL cannot pick the backend. */
function inheritedEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(CONDUCTOR_\w+|DATABASE_URL|REDIS_URL|PORT|HOST)$/.test(key)),
  );
}

async function statsTotal(url: string): Promise<number> {
  const response = await fetch(`${url}/v1/stats`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  if (!response.ok) throw new Error(`GET /v1/stats: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { total: number }).total;
}

/** Stops the server whatever happened; a server that did not exit cleanly is a finding worth printing. */
async function withServer<T>(
  name: string,
  start: Promise<ChildServer>,
  work: (server: ChildServer) => Promise<T>,
): Promise<T> {
  const server = await start;
  try {
    return await work(server);
  } finally {
    const how = await server.stop();
    if (how !== 'code 0') console.warn(`${name} server ended with ${how}`);
  }
}

// ---- databases --------------------------------------------------------------------------------------------------

/** Proves the search_path took effect: the migrations made their tables in the bench schema, not in public. */
async function assertTableIn(schema: string, table: string): Promise<void> {
  const rows = await adminQuery('SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2', [
    schema,
    table,
  ]);
  if (rows.length !== 1) throw new Error(`no ${table} table in schema ${schema}: the search_path did not take effect`);
}

async function withTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'conductor-bench-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// ---- the three runs ---------------------------------------------------------------------------------------------

function benchPostgres(): Promise<Measurement> {
  return withServerSchema('bench', (schema, url) =>
    withServer('postgres', startConductorHost('postgres host', { DATABASE_URL: url }), async (server) => {
      await assertTableIn(schema, 'jobs');
      return measure('postgres', server, () => statsTotal(server.url));
    }),
  );
}

function benchPglite(): Promise<Measurement> {
  return withTempDir((dir) =>
    withServer('pglite', startConductorHost('pglite host', { CONDUCTOR_DATA_DIR: dir }), (server) =>
      measure('pglite', server, () => statsTotal(server.url)),
    ),
  );
}

function benchReference(): Promise<Measurement> {
  return withServerSchema('bench_ref', async (schema, url) => {
    const port = await freePort(HOST);
    const start = startChildServer('reference server', 'bench/reference-insert-server.ts', ROOT, {
      ...inheritedEnv(),
      DATABASE_URL: url,
      HOST,
      PORT: String(port),
      DB_POOL_SIZE: String(POOL_SIZE),
    });
    return withServer('reference', start, async (server) => {
      await assertTableIn(schema, 'bench_ref');
      const countRows = async () =>
        Number((await adminQuery<{ count: string }>(`SELECT count(*) FROM ${schema}.bench_ref`))[0]!.count);
      return measure('reference', server, countRows);
    });
  });
}

// ---- output -----------------------------------------------------------------------------------------------------

function printMeasurement(m: Measurement): void {
  const lines: [string, string | number][] = [
    ['submits_per_s', Math.round(m.perSecond)],
    ['p50_ms', m.p50],
    ['p99_ms', m.p99],
    ['created_201', m.created],
    ['non_201', m.non201],
    ['errors', m.errors],
    ['rows_added', m.rowsAdded],
    ['rows_check', rowsCheck(m)],
  ];
  for (const [metric, value] of lines) console.log(`${m.name} ${metric} ${value}`);
  if (m.stderrTail.length) console.log(`${m.name} server stderr (last lines):\n  ${m.stderrTail.join('\n  ')}`);
}

function rowsCheck(m: Measurement): string {
  const extra = m.rowsAdded - m.created;
  const verdict = m.rowsOk ? 'ok' : 'FAILED';
  if (extra === 0) return `${verdict} (${m.rowsAdded} rows = ${m.created} 201s)`;
  if (extra > 0)
    return `${verdict} (${m.rowsAdded} rows = ${m.created} 201s + ${extra} of the ${m.unanswered} requests cut off unanswered at the end)`;
  return `${verdict} (${m.rowsAdded} rows, fewer than the ${m.created} 201s)`;
}

function printSummary(results: Measurement[], reference: Measurement): void {
  const header = ['backend', 'submits/s', 'vs ref', 'p50 ms', 'p99 ms', 'non-201', 'errors', 'rows'];
  const rows = results.map((m) => [
    m.name,
    String(Math.round(m.perSecond)),
    (m.perSecond / reference.perSecond).toFixed(2),
    String(m.p50),
    String(m.p99),
    String(m.non201),
    String(m.errors),
    m.rowsOk ? 'ok' : 'FAILED',
  ]);
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => row[i]!.length)));
  const format = (row: string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  console.log(`\n${format(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const row of rows) console.log(format(row));
}

async function main(): Promise<void> {
  console.log(
    `machine cores ${availableParallelism()} (${cpus()[0]?.model.trim() ?? 'unknown cpu'}), node ${process.version}`,
  );
  console.log(`bench seconds ${SECONDS} connections ${CONNECTIONS} warmup_s ${WARMUP_SECONDS} pool ${POOL_SIZE}`);
  const results: Measurement[] = [];
  for (const run of [benchPostgres, benchPglite, benchReference]) {
    const result = await run();
    printMeasurement(result);
    results.push(result);
  }
  const [postgres, , reference] = results as [Measurement, Measurement, Measurement];
  console.log(`postgres/reference ratio ${(postgres.perSecond / reference.perSecond).toFixed(2)}`);
  printSummary(results, reference);
  if (results.some((m) => !m.rowsOk || m.non201 > 0 || m.errors > 0)) process.exitCode = 1;
}

main().catch((error: Error) => {
  console.error(`bench failed: ${error.stack ?? error.message}`);
  process.exitCode = 1;
});
