/**
 * The PGlite test databases of one test worker, used again: opening one from the template dump costs about 0.4 s of
 * CPU (the WebAssembly instance and its data directory), emptying one about 10 ms. A database a test is done with is
 * emptied (its session state discarded, every table the template left empty truncated with its sequences, every
 * table the template seeded given its seeded rows back) and taken
 * by the next test that asks; one that was closed (as a test of a lost database does), or that cannot be emptied, is
 * dropped instead.
 */
import type { PGlite } from '@electric-sql/pglite';
import { openNodeDatabase, type NodeDatabase } from '../../shared/db/node-database.js';

const idle: NodeDatabase[] = [];
/** Given back and not taken since: a second give (a test's own close, then its cleanup's) must not pool it twice. */
const given = new WeakSet<NodeDatabase>();
/**
 * The statements that give a database the template's rows again: a TRUNCATE of the tables it leaves empty, and for
 * each table it seeds (the state table, the scheduler clock…) its rows as the template has them.
 */
let truncate: Promise<string> | undefined;

const client = (database: NodeDatabase) => (database.db as unknown as { $client: PGlite }).$client;

/** An empty migrated database: an idle one of this worker, or a new one loaded from `dump`. */
export async function takePglite(dump: () => Promise<Blob>): Promise<NodeDatabase> {
  const database = idle.pop() ?? (await openNodeDatabase({ loadDataDir: await dump() }));
  given.delete(database);
  truncate ??= truncateStatement(client(database));
  await truncate;
  return database;
}

/** Gives `database` back, emptied, for the next test; closes it instead if the test left it unusable. */
export async function givePglite(database: NodeDatabase): Promise<void> {
  const pglite = client(database);
  if (given.has(database) || pglite.closed) return;
  given.add(database);
  try {
    // A transaction a failed test left open ends here; DISCARD ALL drops settings, prepared statements, temporary
    // tables, LISTENs and session advisory locks. One statement each: DISCARD refuses to run in a transaction.
    await pglite.exec('ROLLBACK');
    await pglite.exec('DISCARD ALL');
    await pglite.exec(await truncate!);
    idle.push(database);
  } catch {
    await database.close();
  }
}

/** Called on a database just loaded from the template, while it holds the template's rows only. */
async function truncateStatement(pglite: PGlite): Promise<string> {
  const { rows } = await pglite.query<{ name: string }>(
    `SELECT format('%I', tablename) AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`,
  );
  const empty: string[] = [];
  const reseed: string[] = [];
  for (const { name } of rows) {
    const { rows: seeded } = await pglite.query<{ rows: string | null }>(
      `SELECT json_agg(t)::text AS rows FROM ${name} t`,
    );
    const json = seeded[0]?.rows;
    if (json === null || json === undefined) empty.push(name);
    else {
      const literal = `'${json.replaceAll("'", "''")}'`;
      reseed.push(
        `DELETE FROM ${name}; INSERT INTO ${name} SELECT * FROM json_populate_recordset(NULL::${name}, ${literal});`,
      );
    }
  }
  return `TRUNCATE ${empty.join(', ')} RESTART IDENTITY CASCADE; ${reseed.join(' ')}`;
}
