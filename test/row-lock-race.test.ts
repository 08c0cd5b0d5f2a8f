/**
 * The conditional writes hold up when another transaction changes the job while they wait for its row: the second
 * writer must see what the first committed, not its own stale snapshot. Made deterministic by holding the row lock in
 * a second connection, waiting until Postgres shows the write blocked behind it, then committing a competing change.
 * The competing statements mark themselves as the transition function does (migration 0006 refuses them otherwise).
 */
import { eq } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelJob } from '../api/jobs/cancel-job.js';
import { jobEvents } from '../shared/db/schema.js';
import { silentLogger } from '../shared/log/logger.js';
import { moveJob } from './helpers/job-states.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { backends } from './helpers/test-databases.js';

const [, postgres] = await backends();

describe.skipIf(postgres!.skip)('writes that wait for a row lock, on Postgres', () => {
  let t: TestApp;
  let other: pg.Client;
  beforeAll(async () => {
    t = await createTestApp(postgres!);
    other = new pg.Client({ connectionString: t.database.url });
    await other.connect();
  });
  afterAll(async () => {
    await other?.end();
    await t?.close();
  });

  /** Runs `write` while `other` holds the job's row lock, then commits `competing` and lets the write go on. */
  async function race<T>(id: string, competing: string, write: () => Promise<T>): Promise<T> {
    await other.query('BEGIN');
    await other.query('SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE', [id]);
    const holder = (await other.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const pending = write();
    await blockedBehind(holder);
    await other.query(competing, [id]);
    await other.query('COMMIT');
    return pending;
  }

  /** Waits until some backend waits for a lock `holder` holds: the write has reached the row and blocked on it. */
  async function blockedBehind(holder: number): Promise<void> {
    const watcher = new pg.Client({ connectionString: t.database.url });
    await watcher.connect();
    try {
      for (;;) {
        const { rowCount } = await watcher.query(
          'SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))',
          [holder],
        );
        if (rowCount) return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    } finally {
      await watcher.end();
    }
  }

  const mark = `WITH mark AS (SELECT set_config('conductor.transition', statement_timestamp()::text, true))`;

  const eventsOf = (id: string) =>
    t.database.db
      .select()
      .from(jobEvents)
      .where(eq(jobEvents.jobId, Number(id)));

  it('a cancel that waited behind another cancel changes nothing', async () => {
    const id = await t.submit();
    const result = await race(
      id,
      `${mark}, j AS (UPDATE jobs SET state = 'CANCELLED', end_time = now() FROM mark WHERE id = $1 RETURNING id, attempt)
       INSERT INTO job_events (job_id, attempt, from_state, to_state, actor, reason)
       SELECT id, attempt, 'PENDING', 'CANCELLED', 'other', 'race' FROM j`,
      () => cancelJob(t.database.db, { queue: t.queue, logger: silentLogger }, Number(id), 'test', undefined),
    );
    expect(result.effect).toBe('none');
    expect((await eventsOf(id)).filter((e) => e.toState === 'CANCELLED')).toHaveLength(1);
  });

  it('a cancel request that waited behind a requeue cancels the requeued job instead of losing the cancel', async () => {
    const id = await t.submit();
    await moveJob(t.database.db, id, 'RUNNING');
    const result = await race(id, `${mark} UPDATE jobs SET state = 'PENDING' FROM mark WHERE id = $1`, () =>
      cancelJob(t.database.db, { queue: t.queue, logger: silentLogger }, Number(id), 'test', undefined),
    );
    expect(result.effect).toBe('cancelled');
    expect(result.job.state).toBe('CANCELLED');
  });

  it('a cancel request that waited behind another cancel request is recorded once', async () => {
    const id = await t.submit();
    await moveJob(t.database.db, id, 'RUNNING');
    const result = await race(id, `UPDATE jobs SET cancel_requested_at = now() WHERE id = $1`, () =>
      cancelJob(t.database.db, { queue: t.queue, logger: silentLogger }, Number(id), 'test', undefined),
    );
    expect(result.effect).toBe('none');
    expect((await eventsOf(id)).filter((e) => e.reason === 'cancel requested')).toHaveLength(0);
  });
});
