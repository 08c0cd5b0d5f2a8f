/**
 * Hand-written job statements answer rows through these helpers, so that they come back exactly as drizzle's own
 * queries would (camelCase keys, each column's driver value mapped), whichever driver ran them. They answer the
 * summary columns: a transition has no reason to carry the script back.
 */
import { getTableColumns, sql, type SQL } from 'drizzle-orm';
import { jobs, type JobRow } from '../../shared/db/schema.js';
import { summaryColumns, type JobSummaryRow } from './job-summary.js';

const COLUMNS = Object.entries(summaryColumns);
const ALL_COLUMNS = Object.entries(getTableColumns(jobs));

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
  return mapColumns(raw, COLUMNS, (key) => key) as JobSummaryRow;
}

/** A whole row as `RETURNING *` gives it (snake_case keys), mapped as drizzle maps it. */
export function toFullJobRow(raw: Record<string, unknown>): JobRow {
  return mapColumns(raw, ALL_COLUMNS, (_, name) => name) as JobRow;
}

function mapColumns(
  raw: Record<string, unknown>,
  columns: typeof ALL_COLUMNS,
  rawKey: (key: string, name: string) => string,
): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const [key, column] of columns) {
    const value = raw[rawKey(key, column.name)];
    row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return row;
}
