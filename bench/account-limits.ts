/**
 * What account limits cost a submit (issue 19, item 2), through the app in-process on the Postgres server and the
 * Postgres queue, in the same run: submits per second to an account without limits (the reference: one primary-key
 * read, then today's one-statement insert) and to one with all three submit-time limits (a transaction holding the
 * account's advisory lock while it counts pending jobs, the last minute's submits and stored bytes), `CONCURRENCY`
 * submits in flight. The limits are set high enough never to refuse. Run: `npm run bench:accounts`
 * (`LIMITS=max_pending_jobs` for some of them alone).
 *
 * Submits to one limited account are serialised (the lock spans its check, insert and commit, whose WAL flush then
 * cannot be shared with other submits'), so that account's rate is about one commit's flush per submit, whatever the
 * limits; other accounts' submits are not held by it.
 */
import { performance } from 'node:perf_hooks';
import { createApp } from '../api/app.js';
import { loadMigrations } from '../shared/db/migration-files.js';
import { migrate } from '../shared/db/migrator.js';
import { openNodeDatabase } from '../shared/db/node-database.js';
import { PostgresJobQueue } from '../shared/queue/postgres-job-queue.js';
import { adminQuery, POSTGRES_URL } from '../test/helpers/test-databases.js';

const SUBMITS = Number(process.env.SUBMITS ?? 2000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 8);
const ADMIN = 'bench-admin-token-0123456789abcdef0123456789';

const schema = `bench_accounts_${process.pid}`;
await adminQuery(`CREATE SCHEMA ${schema}`);
const database = await openNodeDatabase({ url: POSTGRES_URL, searchPath: schema, poolSize: CONCURRENCY + 2 });
try {
  await migrate(database.migrations, await loadMigrations());
  const app = createApp({ db: database.db, queue: new PostgresJobQueue(database.db), adminToken: ADMIN });
  const request = (method: string, path: string, body: unknown) =>
    app.request(path, {
      method,
      headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  await request('POST', '/v1/nodes/bench/heartbeat', { partitions: ['batch'], cpus: 64, memory_mb: 256_000 });
  // LIMITS=max_pending_jobs,… measures some of them alone.
  const limits: Record<string, number> = {
    max_pending_jobs: 10 * SUBMITS,
    max_submits_per_minute: 10 * SUBMITS,
    max_stored_output_bytes: 2 ** 50,
  };
  const chosen = process.env.LIMITS?.split(',') ?? Object.keys(limits);
  await request('PUT', '/v1/accounts/limited', Object.fromEntries(chosen.map((name) => [name, limits[name]])));
  const job = (account: string) => ({
    job: {
      account,
      name: 'bench',
      partition: 'batch',
      current_working_directory: '/tmp',
      environment: {},
      ntasks_per_node: 1,
      cpus_per_task: 1,
      memory_per_node: '1G',
      time_limit: '10',
    },
    script: '#!/bin/bash\ntrue',
  });
  const rate = async (account: string) => {
    let sent = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (sent < SUBMITS) {
          sent += 1;
          const response = await request('POST', '/v1/jobs', job(account));
          if (response.status !== 201) throw new Error(`submit: ${response.status} ${await response.text()}`);
        }
      }),
    );
    return SUBMITS / ((performance.now() - started) / 1000);
  };
  await rate('warmup');
  const free = await rate('free');
  const limited = await rate('limited');
  console.log(`submits/s, ${CONCURRENCY} in flight, ${SUBMITS} each:`);
  console.log(`  account without limits (reference): ${free.toFixed(0)}`);
  console.log(
    `  account with ${chosen.join(', ')}: ${limited.toFixed(0)} (${(limited / free).toFixed(2)} of the reference)`,
  );
} finally {
  await database.close();
  await adminQuery(`DROP SCHEMA ${schema} CASCADE`);
}
