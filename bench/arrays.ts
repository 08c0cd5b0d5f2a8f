/**
 * `npm run bench:arrays`: job arrays (issue 20, item 3), in real processes on this machine, on the embedded default
 * (`npm start`: API, PGlite, the Postgres queue and its node daemon with all the machine's cores, in one process).
 *
 * (a) Submit of a 10,000-task array: the POST's round trip, ms, BENCH_SUBMITS times (each array then held, its time
 *     limit updated and released by the array's id, and cancelled: each round trip reported too, with how many
 *     PENDING tasks the hold changed; the local node starts some tasks meanwhile), on a warm host.
 * (b) Makespan of BENCH_ARRAY_TASKS `true` tasks submitted as one array, against the same number of single submits of
 *     the same script (BENCH_CONCURRENCY requests in flight, as a pipeline's loop would send them), each on a fresh
 *     host in the same run: from the first request to the moment the API lists none PENDING or RUNNING. With
 *     BENCH_ROUNDS=2 the sides run in the order array, singles, singles, array, so that a load that changes during the
 *     run weighs on both; each run is printed.
 *
 * Env: BENCH_ARRAY_TASKS (10000), BENCH_SUBMITS (3), BENCH_CONCURRENCY (4), BENCH_ROUNDS (1), BENCH_ONLY (submit or
 * makespan).
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildServer } from '../test/helpers/child-server.js';
import { BenchCluster, until } from './bench-cluster.js';

const TASKS = Number(process.env.BENCH_ARRAY_TASKS ?? 10_000);
const SUBMITS = Number(process.env.BENCH_SUBMITS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const ONLY = process.env.BENCH_ONLY;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
const SUBMIT_TASKS = 10_000;

const cluster = new BenchCluster('arrays');

/** A fresh embedded default, warmed by one job. */
async function startEmbedded(): Promise<ChildServer> {
  const dataDir = mkdtempSync(join(cluster.scratch, 'embedded-'));
  const host = await cluster.startHost({
    CONDUCTOR_DATA_DIR: dataDir,
    CONDUCTOR_CORE_LOCK_DIR: join(dataDir, 'cores'),
    CONDUCTOR_ALLOW_ROOT_JOBS: 'true',
  });
  await until('the local node UP', async () => host.stdout().some((line) => line.includes('is UP')), 60_000);
  await cluster.call(host, 'POST', '/v1/jobs', body({}));
  await until('the warm-up job ended', () => idle(host), 60_000);
  return host;
}

function body(extra: Record<string, unknown>) {
  const cwd = join(cluster.scratch, 'jobs');
  return {
    job: {
      name: 'arr',
      current_working_directory: cwd,
      memory_per_node: '10M',
      time_limit: '1',
      standard_output: '/dev/null',
      ...extra,
    },
    script: '#!/bin/bash\ntrue',
  };
}

async function idle(host: ChildServer): Promise<boolean> {
  const stats = (await cluster.call(host, 'GET', '/v1/stats')) as { by_state: Record<string, number> };
  return (stats.by_state.PENDING ?? 0) + (stats.by_state.RUNNING ?? 0) === 0;
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

/** Seconds from `started` until the host lists no job PENDING or RUNNING. */
async function makespan(host: ChildServer, started: number): Promise<number> {
  await until('every job ended', () => idle(host), 60 * 60_000, 100);
  return (performance.now() - started) / 1000;
}

const fixed = (value: number, digits = 0) => value.toFixed(digits);

/** TASKS `true` tasks as one array on a fresh host: its submit and makespan. */
async function arrayRun(): Promise<string> {
  const host = await startEmbedded();
  const started = performance.now();
  const submit = await timed(() => cluster.call(host, 'POST', '/v1/jobs', body({ array: `0-${TASKS - 1}` })));
  const span = await makespan(host, started);
  await host.stop();
  return `${TASKS} \`true\` tasks as one array: submit ${fixed(submit.ms)} ms, makespan ${fixed(span, 1)} s (${fixed(TASKS / span, 1)} tasks/s)`;
}

/** TASKS single submits of the same script on a fresh host, CONCURRENCY in flight: their time and makespan. */
async function singlesRun(): Promise<string> {
  const host = await startEmbedded();
  const started = performance.now();
  let next = 0;
  const sender = async () => {
    while (next < TASKS) {
      next++;
      await cluster.call(host, 'POST', '/v1/jobs', body({}));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, sender));
  const submitS = (performance.now() - started) / 1000;
  const span = await makespan(host, started);
  await host.stop();
  return (
    `${TASKS} single submits of the same script (${CONCURRENCY} in flight): submits ${fixed(submitS, 1)} s, ` +
    `makespan ${fixed(span, 1)} s (${fixed(TASKS / span, 1)} jobs/s)`
  );
}

try {
  mkdirSync(join(cluster.scratch, 'jobs'));
  const lines: string[] = [];

  if (ONLY !== 'makespan') {
    const host = await startEmbedded();
    const submits: number[] = [];
    const cancels: number[] = [];
    const wide: Record<'hold' | 'update' | 'release', number[]> = { hold: [], update: [], release: [] };
    const held: number[] = [];
    for (let n = 0; n < SUBMITS; n++) {
      const submit = await timed(
        () =>
          cluster.call(host, 'POST', '/v1/jobs', body({ array: `0-${SUBMIT_TASKS - 1}` })) as Promise<{ id: string }>,
      );
      submits.push(submit.ms);
      const path = `/v1/jobs/${submit.value.id}`;
      const hold = await timed(
        () => cluster.call(host, 'POST', `${path}/hold`) as Promise<{ array_tasks: { changed: number } }>,
      );
      wide.hold.push(hold.ms);
      held.push(hold.value.array_tasks.changed);
      wide.update.push((await timed(() => cluster.call(host, 'PATCH', path, { time_limit: '0:30' }))).ms);
      wide.release.push((await timed(() => cluster.call(host, 'POST', `${path}/release`))).ms);
      cancels.push((await timed(() => cluster.call(host, 'POST', `/v1/jobs/${submit.value.id}/cancel`))).ms);
      await until('the array ended', () => idle(host), 10 * 60_000);
    }
    await host.stop();
    lines.push(
      `submit of a ${SUBMIT_TASKS}-task array: ${submits.map((ms) => fixed(ms)).join(', ')} ms ` +
        `(whole-array cancel: ${cancels.map((ms) => fixed(ms)).join(', ')} ms)`,
      `by the array's id (${held.join(', ')} PENDING tasks held): ` +
        (['hold', 'update', 'release'] as const)
          .map((what) => `${what} ${wide[what].map((ms) => fixed(ms)).join(', ')} ms`)
          .join('; '),
    );
  }

  if (ONLY !== 'submit') {
    const order = Array.from({ length: ROUNDS }, (_, round) =>
      round % 2 === 0 ? (['array', 'singles'] as const) : (['singles', 'array'] as const),
    ).flat();
    for (const side of order) lines.push(side === 'array' ? await arrayRun() : await singlesRun());
  }
  for (const line of lines) console.log(line);
} finally {
  await cluster.close();
}
