/**
 * Hand-written job statements return rows through these helpers, so that they come back exactly as drizzle's own
 * queries would (camelCase keys, each column's driver value mapped), whichever driver ran them.
 */
import { getTableColumns, sql, type SQL } from 'drizzle-orm';
import { jobs, type JobRow } from '../../shared/db/schema.js';

const COLUMNS = Object.entries(getTableColumns(jobs));

/** `alias.col AS "key", …` for every job column. */
export function jobColumns(alias: string): SQL {
  return sql.join(
    COLUMNS.map(([key, column]) => sql`${sql.identifier(alias)}.${sql.identifier(column.name)} AS ${sql.identifier(key)}`),
    sql`, `,
  );
}

export function toJobRow(raw: Record<string, unknown>): JobRow {
  const row: Record<string, unknown> = {};
  for (const [key, column] of COLUMNS) {
    const value = raw[key];
    row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return row as JobRow;
}
