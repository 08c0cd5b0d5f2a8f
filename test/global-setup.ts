/**
 * Vitest globalSetup, the work done once per run instead of once per test:
 * - migrates, so each test clones a migrated database instead of migrating its own (test/helpers/database-templates.ts
 *   says how). Rebuilt on every run from the migrations on disk, so a new migration needs nothing here.   Postgres: a template database, closed to connections while tests clone it (`CREATE DATABASE … TEMPLATE` refuses
 *   a template with sessions on it); dropped at the end with every clone the run left, and so are the leftovers of
 *   runs killed earlier. PGlite: a data directory dump in a temporary directory, removed at the end, and one of a
 *   database before any migration (loading one is a fraction of the seconds PGlite's initdb takes).
 * - builds the web console (dist/ui) as `npm run build:ui` does, every run (a second or so), so it is never stale;
 * - bundles the node daemon as `npm run build:node` does, and the Node API host likewise, so the suites that start
 *   them start plain JavaScript (about a quarter of the start-up time tsx takes to compile them, more on a busy
 *   machine). node-host.test.ts still starts `npm start`'s own command once.
 */
import type { PGlite } from '@electric-sql/pglite';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { loadMigrations } from '../shared/db/migration-files.js';
import { migrate } from '../shared/db/migrator.js';
import { openNodeDatabase } from '../shared/db/node-database.js';
import { LEFTOVER_AGE_MS, runStamp, startOfRun, TEMPLATE_PREFIX, templateName } from './helpers/database-templates.js';
import { bundleDaemon, bundleHost } from './helpers/program-bundles.js';
import { POSTGRES_URL } from './helpers/test-databases.js';
import { buildConsole } from '../ui/build.js';

const RUN_DIR_PREFIX = 'conductor-test-run-';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stamp = runStamp();
  await dropOldDumps();
  const dir = await mkdtemp(join(tmpdir(), RUN_DIR_PREFIX));
  // The daemon bundle is run by the test users too (a daemon that is not root runs as one of them).
  await chmod(dir, 0o755);
  // The web console's build first: the host bundle links it, and the suites serve it (api/console/).
  await buildConsole();
  const [postgresTemplate, [pglite, pgliteDataDir], nodeBundle, hostBundle] = await Promise.all([
    makePostgresTemplate(stamp),
    makePgliteTemplate(dir).then(async (dumps) => [dumps, await makePgliteDataDir(dumps.migrated, dir)] as const),
    bundleDaemon(dir),
    bundleHost(dir),
  ]);
  project.provide('postgresTemplate', postgresTemplate);
  project.provide('pgliteTemplate', pglite.migrated);
  project.provide('pgliteEmpty', pglite.empty);
  project.provide('pgliteDataDir', pgliteDataDir);
  project.provide('nodeBundle', nodeBundle);
  project.provide('hostBundle', hostBundle);
  return async () => {
    await Promise.all([
      postgresTemplate ? dropRun(postgresTemplate.slice(0, -'template'.length)) : undefined,
      rm(dir, { recursive: true, force: true }),
    ]);
  };
}

/** The migrated template's name, or null when the server is unreachable (its suites skip themselves). */
async function makePostgresTemplate(stamp: string): Promise<string | null> {
  const admin = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch {
    return null;
  }
  try {
    await dropLeftovers(admin);
    const name = templateName(stamp);
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(POSTGRES_URL);
    url.pathname = `/${name}`;
    const database = await openNodeDatabase({ url: url.toString(), poolSize: 1 });
    try {
      await migrate(database.migrations, await loadMigrations());
    } finally {
      await database.close();
    }
    await admin.query(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS false`);
    return name;
  } finally {
    await admin.end();
  }
}

/** Drops the databases of runs started more than LEFTOVER_AGE_MS ago; one still in use is left to its run. */
async function dropLeftovers(admin: pg.Client): Promise<void> {
  const { rows } = await admin.query<{ datname: string }>(
    `SELECT datname FROM pg_database WHERE starts_with(datname, $1)`,
    [TEMPLATE_PREFIX],
  );
  const old = rows
    .map((row) => row.datname)
    .filter((name) => (startOfRun(name) ?? Infinity) < Date.now() - LEFTOVER_AGE_MS);
  for (const name of old) await admin.query(`DROP DATABASE IF EXISTS ${name}`).catch(() => {});
}

/** Drops every database named `<prefix>…`: the template and what the run's tests did not drop (killed workers). */
async function dropRun(prefix: string): Promise<void> {
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE starts_with(datname, $1)`,
      [prefix],
    );
    for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** A migrated PGlite's data directory, dumped uncompressed (loading skips the inflate) into `dir`; its path. */
async function makePgliteTemplate(dir: string): Promise<{ empty: string; migrated: string }> {
  const database = await openNodeDatabase({});
  try {
    const client = (database.db as unknown as { $client: PGlite }).$client;
    const dumpTo = async (name: string) => {
      const file = join(dir, name);
      await writeFile(file, new Uint8Array(await (await client.dumpDataDir('none')).arrayBuffer()));
      return file;
    };
    const empty = await dumpTo('pglite-empty.tar');
    await migrate(database.migrations, await loadMigrations());
    return { empty, migrated: await dumpTo('pglite.tar') };
  } finally {
    await database.close();
  }
}

/**
 * The migrated PGlite database as a data directory on disk, for the embedded hosts' data directories: a copy starts in
 * a fraction of a second, where PGlite's initdb of a new one takes seconds.
 */
async function makePgliteDataDir(dump: string, dir: string): Promise<string> {
  const dataDir = join(dir, 'pglite-data');
  const database = await openNodeDatabase({ dataDir, loadDataDir: new Blob([await readFile(dump)]) });
  await database.close();
  return dataDir;
}

/** Removes the directories killed runs left, by the same age rule as databases. */
async function dropOldDumps(): Promise<void> {
  const dirs = (await readdir(tmpdir())).filter((name) => name.startsWith(RUN_DIR_PREFIX));
  for (const name of dirs) {
    const path = join(tmpdir(), name);
    const { mtimeMs } = await stat(path).catch(() => ({ mtimeMs: Infinity }));
    if (mtimeMs < Date.now() - LEFTOVER_AGE_MS) await rm(path, { recursive: true, force: true });
  }
}
