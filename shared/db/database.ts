/**
 * The database handle every part of the API takes. pg, PGlite and Neon's driver each give a drizzle database of this
 * type, so the app never knows which one it runs on.
 */
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { schema } from './schema.js';

export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;
