import { getTableConfig, type PgTable } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { loadMigrations } from '../shared/db/migration-files.js';
import { migrate } from '../shared/db/migrator.js';
import { queryRows } from '../shared/db/query-rows.js';
import { schema } from '../shared/db/schema.js';
import { backends, createTestDatabase, emptyPglite, type TestDatabase } from './helpers/test-databases.js';

const migrations = await loadMigrations();

for (const backend of await backends()) {
  describe.skipIf(backend.skip)(`migrations on ${backend.name}`, () => {
    let database: TestDatabase | undefined;
    afterEach(async () => {
      await database?.destroy();
      database = undefined;
    });

    it('are numbered files applied in order', async () => {
      expect(migrations.map((m) => m.version)).toEqual(migrations.map((_, index) => index + 1));
    });

    it('are safe to run again and concurrently', async () => {
      database = await createTestDatabase(backend, { fresh: true });
      expect(await migrate(database.migrations, migrations)).toEqual([]);
      const runs = await Promise.all(Array.from({ length: 5 }, () => migrate(database!.migrations, migrations)));
      expect(runs.flat()).toEqual([]);
      const rows = await queryRows(database.db, sql`SELECT count(*)::int AS n FROM schema_migrations`);
      expect(rows[0]!.n).toBe(migrations.length);
    });

    it('create the tables drizzle describes, column for column', async () => {
      database = await createTestDatabase(backend, { fresh: true });
      for (const table of Object.values(schema) as PgTable[]) {
        const config = getTableConfig(table);
        const rows = await queryRows(
          database.db,
          sql`SELECT column_name, is_nullable FROM information_schema.columns
              WHERE table_name = ${config.name} AND table_schema = current_schema() ORDER BY column_name`,
        );
        const actual = rows.map((row) => `${row.column_name}${row.is_nullable === 'YES' ? '?' : ''}`);
        const expected = config.columns.map((column) => `${column.name}${column.notNull ? '' : '?'}`).sort();
        expect(actual, config.name).toEqual(expected);
      }
    });
  });
}

describe('the migration that adds warnings', () => {
  it('keeps the jobs already stored as they were: their time limits, and no warnings', async () => {
    const database = await emptyPglite();
    try {
      const before = migrations.filter((m) => m.name < '0004');
      await migrate(database.migrations, before);
      // A job stored before: "1:30" read as Slurm's 90 seconds, and one with no limit.
      await database.db.execute(sql`
        INSERT INTO jobs (account, name, partition, submitted_by, script, stdout_pattern, stderr_pattern, environment,
                          ntasks_per_node, cpus_per_task, cpus, memory_mb, time_limit_seconds)
        VALUES ('a', 'old', 'p', 'admin:x', 'true', 'o', 'e', '{}', 1, 1, 1, 1024, 90),
               ('a', 'endless', 'p', 'admin:x', 'true', 'o', 'e', '{}', 1, 1, 1, 1024, NULL)`);
      await migrate(database.migrations, migrations);
      const rows = await queryRows(database.db, sql`SELECT name, time_limit_seconds, warnings FROM jobs ORDER BY id`);
      expect(rows).toEqual([
        { name: 'old', time_limit_seconds: 90, warnings: [] },
        { name: 'endless', time_limit_seconds: null, warnings: [] },
      ]);
    } finally {
      await database.close();
    }
  });
});

describe('the migration that adds owners (0007)', async () => {
  const [pglite, postgres] = await backends();
  /** A database with no migration applied: PGlite in memory, or a schema of its own on the Postgres server. */
  const emptyDatabase = async (backend: 'pglite' | 'postgres') => {
    const { openNodeDatabase } = await import('../shared/db/node-database.js');
    if (backend === 'pglite') {
      const database = await emptyPglite();
      return { database, close: () => database.close() };
    }
    const { POSTGRES_URL } = await import('./helpers/test-databases.js');
    const schemaName = `test_owners_${Math.random().toString(36).slice(2, 8)}`;
    const admin = await openNodeDatabase({ url: POSTGRES_URL, poolSize: 1 });
    await admin.db.execute(sql.raw(`CREATE SCHEMA ${schemaName}`));
    const database = await openNodeDatabase({ url: POSTGRES_URL, searchPath: schemaName, poolSize: 2 });
    return {
      database,
      close: async () => {
        await database.close();
        await admin.db.execute(sql.raw(`DROP SCHEMA ${schemaName} CASCADE`));
        await admin.close();
      },
    };
  };

  it.each([
    ['pglite', pglite!.skip],
    ['postgres', postgres!.skip],
  ] as const)('upgrades a %s database with tokens, jobs, refs and nodes in it', async (backend, skip) => {
    if (skip) return;
    const { database, close } = await emptyDatabase(backend);
    try {
      await migrate(
        database.migrations,
        migrations.filter((m) => m.name < '0007'),
      );
      await database.db.execute(sql`
        INSERT INTO api_tokens (name, kind, account, node_name, hash) VALUES
          ('alice', 'user', 'physics', NULL, 'h1'), ('alice laptop', 'user', 'physics', NULL, 'h2'),
          ('root', 'user', 'ops', NULL, 'h3'), ('ops', 'admin', NULL, NULL, 'h4'), ('n1', 'node', NULL, 'n1', 'h5')`);
      await database.db.execute(sql`
        INSERT INTO jobs (account, name, partition, submitted_by, script, stdout_pattern, stderr_pattern, environment,
                          ntasks_per_node, cpus_per_task, cpus, memory_mb, time_limit_seconds)
        VALUES ('physics', 'old', 'batch', 'user:alice', 'true', 'o', 'e', '{}', 1, 1, 1, 100, 60)`);
      await database.db.execute(sql`
        INSERT INTO queue_refs (job_id, partition, cpus, memory_mb, priority, exclusive)
        SELECT id, partition, cpus, memory_mb, priority, exclusive FROM jobs`);
      await database.db.execute(
        sql`INSERT INTO nodes (name, partitions, cpus, memory_mb) VALUES ('n1', '{batch}', 4, 4000)`,
      );

      expect(await migrate(database.migrations, migrations)).toContain('0007_owners');

      // A user token named by a login name (not root) runs its jobs as that login; the others wait for an admin.
      expect(await queryRows(database.db, sql`SELECT name, unix_user FROM api_tokens ORDER BY id`)).toEqual([
        { name: 'alice', unix_user: 'alice' },
        { name: 'alice laptop', unix_user: null },
        { name: 'root', unix_user: null },
        { name: 'ops', unix_user: null },
        { name: 'n1', unix_user: null },
      ]);
      expect(await queryRows(database.db, sql`SELECT name, unix_user FROM jobs`)).toEqual([
        { name: 'old', unix_user: null },
      ]);
      // A node that has not said otherwise runs only jobs naming no user; the old job's ref is still claimable.
      expect(await queryRows(database.db, sql`SELECT runs_any_user, runs_users, runs_unnamed FROM nodes`)).toEqual([
        { runs_any_user: false, runs_users: [], runs_unnamed: true },
      ]);
      const { PostgresJobQueue } = await import('../shared/queue/postgres-job-queue.js');
      const claimed = await new PostgresJobQueue(database.db).claim({
        node: 'n1',
        partitions: ['batch'],
        cpus: 4,
        memoryMb: 4000,
        freeCpus: 4,
        freeMemoryMb: 4000,
        runsAs: { any_user: false, users: [], unnamed: true },
      });
      expect(claimed.map((ref) => ref.user)).toEqual([null]);
      // Nobody's job runs as root: that is what a job naming no user is for.
      await expect(
        database.db.execute(sql`UPDATE api_tokens SET unix_user = 'root' WHERE name = 'alice laptop'`),
      ).rejects.toThrow();
    } finally {
      await close();
    }
  });
});

describe('the migration that adds the confirm sequence', () => {
  it('starts every node at 0 and leaves the jobs already stored without one (never settled by a heartbeat)', async () => {
    const database = await emptyPglite();
    try {
      await migrate(
        database.migrations,
        migrations.filter((m) => m.name < '0010'),
      );
      await database.db.execute(sql`
        INSERT INTO nodes (name, partitions, cpus, memory_mb) VALUES ('n1', '{batch}', 4, 1024)`);
      await database.db.execute(sql`
        INSERT INTO jobs (account, name, partition, submitted_by, script, stdout_pattern, stderr_pattern, environment,
                          ntasks_per_node, cpus_per_task, cpus, memory_mb)
        VALUES ('a', 'before', 'batch', 'admin:x', 'true', 'o', 'e', '{}', 1, 1, 1, 1024)`);
      expect(await migrate(database.migrations, migrations)).toContain('0010_confirm_sequence');
      expect(await queryRows(database.db, sql`SELECT name, confirm_seq FROM nodes`)).toEqual([
        { name: 'n1', confirm_seq: 0 },
      ]);
      expect(await queryRows(database.db, sql`SELECT name, confirm_seq FROM jobs`)).toEqual([
        { name: 'before', confirm_seq: null },
      ]);
    } finally {
      await database.close();
    }
  });
});

for (const backend of await backends()) {
  describe.skipIf(backend.skip)(`the migration that binds node tokens to partitions, on ${backend.name}`, () => {
    it('keeps every node serving what it serves today, so an upgrade stops no node', async () => {
      const database = await createTestDatabase(backend, { upTo: '0008' });
      try {
        await database.db.execute(sql`
          INSERT INTO nodes (name, partitions, cpus, memory_mb) VALUES ('n1', '{batch,debug}', 8, 1024),
                                                                       ('n2', '{gpu}', 8, 1024)`);
        await database.db.execute(sql`
          INSERT INTO jobs (account, name, partition, submitted_by, script, stdout_pattern, stderr_pattern,
                            environment, ntasks_per_node, cpus_per_task, cpus, memory_mb)
          VALUES ('a', 'waiting', 'future', 'admin:x', 'true', 'o', 'e', '{}', 1, 1, 1, 1024)`);
        await database.db.execute(sql`
          INSERT INTO api_tokens (name, kind, node_name, hash) VALUES ('n1', 'node', 'n1', 'h1'),
                                                                      ('never', 'node', 'n7', 'h2')`);
        await database.db.execute(sql`
          INSERT INTO api_tokens (name, kind, account, hash) VALUES ('alice', 'user', 'physics', 'h3')`);
        await migrate(database.migrations, migrations);
        const rows = await queryRows(database.db, sql`SELECT name, partitions FROM api_tokens ORDER BY id`);
        expect(rows).toEqual([
          // Its node's partitions, as registered.
          { name: 'n1', partitions: ['batch', 'debug'] },
          // Never registered: every partition seen so far, and default.
          { name: 'never', partitions: ['batch', 'debug', 'default', 'future', 'gpu'] },
          { name: 'alice', partitions: null },
        ]);
      } finally {
        await database.destroy();
      }
    });
  });
}

describe('concurrent first migration on one Postgres schema', async () => {
  const [, postgres] = await backends();
  it.skipIf(postgres!.skip)('applies each migration exactly once', async () => {
    // Five runners race on a schema that has never seen a migration.
    const { openNodeDatabase } = await import('../shared/db/node-database.js');
    const { POSTGRES_URL } = await import('./helpers/test-databases.js');
    const schemaName = `test_race_${Math.random().toString(36).slice(2, 8)}`;
    const admin = await openNodeDatabase({ url: POSTGRES_URL, poolSize: 1 });
    await admin.db.execute(sql.raw(`CREATE SCHEMA ${schemaName}`));
    const runners = await Promise.all(
      Array.from({ length: 5 }, () => openNodeDatabase({ url: POSTGRES_URL, searchPath: schemaName, poolSize: 1 })),
    );
    try {
      const applied = await Promise.all(runners.map((runner) => migrate(runner.migrations, migrations)));
      expect(applied.flat()).toEqual(migrations.map((m) => m.name));
    } finally {
      await Promise.all(runners.map((runner) => runner.close()));
      await admin.db.execute(sql.raw(`DROP SCHEMA ${schemaName} CASCADE`));
      await admin.close();
    }
  });
});

describe('the migration that gives the database its cluster id (0013)', () => {
  it('makes one id, and keeps the output of the jobs stored before it readable, and only theirs, at the old keys', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { createApp } = await import('../api/app.js');
    const { readClusterId } = await import('../shared/db/cluster-id.js');
    const { FileLogStore } = await import('../shared/logs/file-log-store.js');
    const { PostgresJobQueue } = await import('../shared/queue/postgres-job-queue.js');
    const database = await emptyPglite();
    const dir = mkdtempSync(join(tmpdir(), 'conductor-upgrade-'));
    const insertJob = (name: string) =>
      queryRows(
        database.db,
        sql`INSERT INTO jobs (account, name, partition, submitted_by, script, stdout_pattern, stderr_pattern,
                              environment, ntasks_per_node, cpus_per_task, cpus, memory_mb, attempt)
            VALUES ('a', ${name}, 'batch', 'admin:x', 'true', 'o', 'e', '{}', 1, 1, 1, 1024, 1) RETURNING id`,
      ).then(([row]) => Number(row!.id));
    try {
      await migrate(
        database.migrations,
        migrations.filter((m) => m.name < '0013'),
      );
      const store = new FileLogStore(dir);
      const text = (value: string) => new TextEncoder().encode(value);
      // Output shipped before the upgrade: under the old keys, `jobs/{id}/...`.
      const before = await insertJob('before');
      await store.put({ jobId: before, attempt: 1, stream: 'stdout' }, 0, text('stored before the upgrade\n'));

      expect(await migrate(database.migrations, migrations)).toContain('0013_cluster_identity');
      const clusterId = await readClusterId(database.db);
      expect(clusterId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      // Once: migrating again makes no other.
      await migrate(database.migrations, migrations);
      expect(await queryRows(database.db, sql`SELECT cluster_id::text AS id FROM cluster_identity`)).toEqual([
        { id: clusterId },
      ]);
      // A job stored since: what the old keys hold under its id (another deployment's, sharing the store) is not its.
      const after = await insertJob('after');
      await store.put({ jobId: after, attempt: 1, stream: 'stdout' }, 0, text("another cluster's job\n"));
      expect(await queryRows(database.db, sql`SELECT name, legacy_log_keys FROM jobs ORDER BY id`)).toEqual([
        { name: 'before', legacy_log_keys: true },
        { name: 'after', legacy_log_keys: false },
      ]);

      const app = createApp({
        db: database.db,
        queue: new PostgresJobQueue(database.db),
        adminToken: ADMIN,
        logs: store,
      });
      const read = async (path: string) =>
        (await app.request(path, { headers: { Authorization: `Bearer ${ADMIN}` } })).text();
      expect(await read(`/v1/jobs/${before}/logs/stdout`)).toBe('stored before the upgrade\n');
      expect(JSON.parse(await read(`/jobs/query/${before}`)).job_log.stdout).toBe('stored before the upgrade\n');
      expect(await read(`/v1/jobs/${after}/logs/stdout`)).toBe('');
      // The job's output from now on is under the cluster's keys, and read there.
      await store.put({ cluster: clusterId, jobId: after, attempt: 1, stream: 'stdout' }, 0, text('its own\n'));
      expect(await read(`/v1/jobs/${after}/logs/stdout`)).toBe('its own\n');
    } finally {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const ADMIN = 'an-admin-token-for-the-upgrade-test-0123456789';
