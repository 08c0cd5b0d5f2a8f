import { sql } from 'drizzle-orm';
import pg from 'pg';
import { loadMigrations } from '../shared/db/migration-files.js';
import { migrate } from '../shared/db/migrator.js';
import { openNodeDatabase } from '../shared/db/node-database.js';
import { queryRows } from '../shared/db/query-rows.js';
import { PostgresJobQueue } from '../shared/queue/postgres-job-queue.js';

const URL_ = 'postgres://postgres@127.0.0.1:5432/test';
const schema = `scratch_${Date.now().toString(36)}`;
const admin = async (t: string) => { const c = new pg.Client(URL_); await c.connect(); try { return (await c.query(t)).rows; } finally { await c.end(); } };
await admin(`CREATE SCHEMA ${schema}`);
const database = await openNodeDatabase({ url: URL_, searchPath: schema, poolSize: 4 });
try {
  await migrate(database.migrations, await loadMigrations());
  const q = new PostgresJobQueue(database.db);
  const depth = Number(process.env.DEPTH ?? 100000);
  let id = 1;
  const mk = (n: number) => Array.from({ length: n }, () => ({ id: id++, partition: 'batch', cpus: 1, memoryMb: 100, priority: 0, exclusive: false }));
  for (let i = 0; i < depth; i += 5000) await q.enqueue(mk(Math.min(5000, depth - i)));
  const cap = { node: 'n1', partitions: ['batch'], cpus: 8, memoryMb: 3200, freeCpus: 8, freeMemoryMb: 3200 };
  const explain = async () => {
    const rows = await queryRows(database.db, sql.raw(`EXPLAIN (ANALYZE, BUFFERS) SELECT c.job_id FROM unnest('{batch}'::text[]) AS part(name) CROSS JOIN LATERAL (SELECT * FROM queue_refs r WHERE r.partition = part.name AND r.claimed_by IS NULL ORDER BY r.priority DESC, r.job_id LIMIT 64 FOR UPDATE SKIP LOCKED) c`));
    console.log(rows.map((r) => r['QUERY PLAN']).join('\n'));
    const rows2 = await queryRows(database.db, sql.raw(`EXPLAIN (ANALYZE, BUFFERS) SELECT h.job_id FROM unnest('{batch}'::text[]) AS part(name) CROSS JOIN LATERAL (SELECT * FROM queue_refs r WHERE r.partition = part.name AND r.claimed_by IS NULL ORDER BY r.priority DESC, r.job_id LIMIT 1) h`));
    console.log(rows2.map((r) => r['QUERY PLAN']).join('\n'));
  };
  for (let round = 0; round < 4; round++) {
    let c = 0, s = 0;
    for (let i = 0; i < 250; i++) {
      const t0 = performance.now();
      const taken = await q.claim(cap, { max: 1 });
      const t1 = performance.now();
      await q.settle('n1', taken.map((r) => r.id));
      s += performance.now() - t1; c += t1 - t0;
      if (process.env.REFILL !== '0') await q.enqueue(mk(1));
    }
    console.log(`round ${round}: claim ${(c / 250).toFixed(2)} ms settle ${(s / 250).toFixed(2)} ms`);
    if (round === 1 || round === 3) await explain();
  }
  console.log(await admin(`SELECT n_live_tup, n_dead_tup, last_autovacuum, last_autoanalyze FROM pg_stat_user_tables WHERE schemaname='${schema}' AND relname='queue_refs'`));
} finally {
  await database.close();
  await admin(`DROP SCHEMA ${schema} CASCADE`);
}
