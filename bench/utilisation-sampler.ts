/**
 * `npm run bench:sampler`: what the per-minute utilisation sample (api/stats/sample-utilisation.ts) adds to a
 * reconciler run, with BENCH_JOBS jobs (10,000) in the table of a real Postgres server: 70% PENDING, 5% RUNNING, 25%
 * finished, their starts and ends spread over 30 minutes. Reference, in the same script and database: one plain
 * reconciler run (every other step; the sample skipped, its minute being done). Then the queue-order listing
 * (GET /v1/jobs?order=queue) on the same table: its first page and a page deep in the PENDING jobs, against the
 * newest-first listing, and the plans Postgres chooses for them (which index).
 *
 * Env: DATABASE_URL (default the local test server), BENCH_JOBS (10000), BENCH_ROUNDS (20). Prints `name value unit`
 * lines (medians) and the ratios.
 */
import { performance } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import { listJobs, listQueue } from '../api/jobs/list-jobs.js';
import { Reconciler } from '../api/reconciler.js';
import { sampleUtilisation } from '../api/stats/sample-utilisation.js';
import { queryRows } from '../shared/db/query-rows.js';
import { nodes } from '../shared/db/schema.js';
import { PostgresJobQueue } from '../shared/queue/postgres-job-queue.js';
import { insertPendingJobs, moveJobs } from '../test/fixtures/job-rows.js';
import { createTestDatabase } from '../test/helpers/test-databases.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const MINUTE = 60_000;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
async function timed(work: (round: number) => Promise<unknown>): Promise<number> {
  const ms: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    await work(round);
    ms.push(performance.now() - start);
  }
  return median(ms);
}

const database = await createTestDatabase({ name: 'postgres', skip: undefined }, { poolSize: 4 });
try {
  const { db } = database;
  await db
    .insert(nodes)
    .values(
      Array.from({ length: 50 }, (_, n) => ({ name: `b${n}`, partitions: ['batch'], cpus: 64, memoryMb: 262144 })),
    );
  const ids = await insertPendingJobs(db, { count: JOBS, account: 'physics' });
  const running = ids.slice(0, Math.floor(JOBS * 0.05));
  const finished = ids.slice(running.length, running.length + Math.floor(JOBS * 0.25));
  await moveJobs(db, running, 'RUNNING');
  await moveJobs(
    db,
    finished.filter((_, n) => n % 4 !== 0),
    'COMPLETED',
  );
  await moveJobs(
    db,
    finished.filter((_, n) => n % 4 === 0),
    'FAILED',
  );
  const base = Math.floor(Date.now() / MINUTE) * MINUTE;
  // Starts and ends spread over the 30 minutes sampled below, so that every sample has some of each to read.
  await db.execute(
    sql`UPDATE jobs SET start_time = ${new Date(base).toISOString()}::timestamptz + (id % 30) * interval '1 minute',
                        end_time = CASE WHEN end_time IS NULL THEN NULL
                                   ELSE ${new Date(base).toISOString()}::timestamptz + (id % 30) * interval '1 minute' + interval '20 seconds' END
         WHERE start_time IS NOT NULL`,
  );
  await db.execute(sql`ANALYZE jobs`);

  // A run at `now` samples the minute before (sample-utilisation.ts); each round samples a minute of its own.
  const sampleAt = (round: number) => new Date(base + (round % 30) * MINUTE + MINUTE + 15_000);
  const queue = new PostgresJobQueue(db);
  const reconciler = new Reconciler(queue, {}, () => sampleAt(0));
  await reconciler.run(db); // warm-up, and this minute's sample: later runs at the same clock skip it
  const plainRun = await timed(() => reconciler.run(db));
  await db.execute(sql`DELETE FROM utilisation_minutes`);
  const sample = await timed((round) => sampleUtilisation(db, sampleAt(round)));
  console.log(`jobs ${JOBS} rounds ${ROUNDS}`);
  console.log(`reconciler_run_plain ${plainRun.toFixed(2)} ms`);
  console.log(`sample_alone ${sample.toFixed(2)} ms`);
  console.log(`sample/plain_run ratio ${(sample / plainRun).toFixed(2)}`);

  const filter = {};
  const pendingIds = ids.slice(running.length + finished.length);
  const deep = pendingIds[Math.floor(pendingIds.length * 0.9)]!;
  const newestFirst = await timed(() => listJobs(db, filter, 50));
  const queueFirst = await timed(() => listQueue(db, filter, 50));
  const queueDeep = await timed(() => listQueue(db, filter, 50, { phase: 'PENDING', rank: 0, id: deep }));
  console.log(`list_newest_first_page ${newestFirst.toFixed(2)} ms`);
  console.log(`list_queue_first_page ${queueFirst.toFixed(2)} ms`);
  console.log(`list_queue_deep_page ${queueDeep.toFixed(2)} ms (after 90% of ${pendingIds.length} pending)`);
  console.log(`queue_deep/newest_first ratio ${(queueDeep / newestFirst).toFixed(2)}`);
  const plan = async (query: ReturnType<typeof sql>) =>
    (await queryRows(db, sql`EXPLAIN ${query}`)).map((row) => `  ${String(row['QUERY PLAN'])}`).join('\n');
  console.log(
    `plan of a first queue page:\n${await plan(
      sql`SELECT id FROM jobs WHERE state = 'PENDING' ORDER BY (-priority), id LIMIT 51`,
    )}`,
  );
  console.log(
    `plan of a deep queue page:\n${await plan(
      sql`SELECT id FROM jobs WHERE state = 'PENDING' AND ((-priority), id) > (0, ${deep})
          ORDER BY (-priority), id LIMIT 51`,
    )}`,
  );
} finally {
  await database.destroy();
}
