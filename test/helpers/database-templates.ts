/**
 * The migrated templates test databases are cloned from, made once per run by test/global-setup.ts (the way
 * graphile-worker's tests do it): a Postgres database that each test copies with `CREATE DATABASE … TEMPLATE`, and a
 * PGlite data directory dump (`dumpDataDir`) that each test loads (`loadDataDir`). Migrating takes PGlite seconds; a
 * clone takes it a fraction of that, and the server tens of milliseconds.
 *
 * Names: every database a run makes starts with TEMPLATE_PREFIX and the run's stamp (its start, seconds since the
 * epoch in base 36, and a random part), so a run drops its own at the end, and a later run drops the leftovers of a
 * killed one by their age.
 */
import { randomBytes } from 'node:crypto';

/** What global-setup.ts passes to the test workers (through vitest's provide/inject). */
declare module 'vitest' {
  export interface ProvidedContext {
    /** The migrated Postgres template database's name; null when the server is unreachable. */
    postgresTemplate: string | null;
    /** Path of the migrated PGlite data directory dump (an uncompressed tar). */
    pgliteTemplate: string;
    /** Path of a PGlite dump of a database no migration has touched (test-databases.ts's `emptyPglite`). */
    pgliteEmpty: string;
    /** The same database as a PGlite data directory (node-host.test.ts copies it into embedded hosts' data dirs). */
    pgliteDataDir: string;
    /** Path of the node daemon bundled as `npm run build:node` makes it (test-node.ts starts daemons from it). */
    nodeBundle: string;
    /** Path of the Node API host bundled likewise (its packages left in node_modules). */
    hostBundle: string;
  }
}

export const TEMPLATE_PREFIX = 'conductor_test_';

/** Databases a killed run left are dropped once this old (a run takes minutes; this leaves others' runs alone). */
export const LEFTOVER_AGE_MS = 2 * 60 * 60 * 1000;

/** A run's stamp: `<start in base-36 seconds>_<random>`, both lower case as Postgres folds unquoted names. */
export function runStamp(now = Date.now()): string {
  return `${Math.floor(now / 1000).toString(36)}_${randomBytes(3).toString('hex')}`;
}

/** The template's name in a run. */
export const templateName = (stamp: string) => `${TEMPLATE_PREFIX}${stamp}_template`;

/** A fresh name for a test database cloned in the run that made `template`. */
export function cloneName(template: string): string {
  return `${template.slice(0, -'template'.length)}${randomBytes(5).toString('hex')}`;
}

/** When the run that made database `name` started (ms since the epoch); undefined for names not ours. */
export function startOfRun(name: string): number | undefined {
  const match = new RegExp(`^${TEMPLATE_PREFIX}([0-9a-z]+)_`).exec(name);
  return match ? parseInt(match[1]!, 36) * 1000 : undefined;
}
