/**
 * Hand-written job statements answer rows through these helpers, so that they come back exactly as drizzle's own
 * queries would (camelCase keys, each column's driver value mapped), whichever driver ran them. They answer the
 * summary columns: a transition has no reason to carry the script back.
 */
import { sql, type SQL } from 'drizzle-orm';
import { summaryColumns, type JobSummaryRow } from './job-summary.js';

const COLUMNS = Object.entries(summaryColumns);

/** `alias.col AS "key", …` for every summary column. */
export function jobColumns(alias: string): SQL {
  return sql.join(
    COLUMNS.map(
      ([key, column]) => sql`${sql.identifier(alias)}.${sql.identifier(column.name)} AS ${sql.identifier(key)}`,
    ),
    sql`, `,
  );
}

export function toJobRow(raw: Record<string, unknown>): JobSummaryRow {
  const row: Record<string, unknown> = {};
  for (const [key, column] of COLUMNS) {
    const value = raw[key];
    row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return row as JobSummaryRow;
}
