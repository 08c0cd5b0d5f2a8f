/**
 * Hand-written job statements answer rows through these helpers, so that they come back exactly as drizzle's own
 * queries would (camelCase keys, each column's driver value mapped), whichever driver ran them. By default they answer
 * the summary columns (a transition has no reason to carry the script back); `full` answers the whole row.
 */
import { getTableColumns, sql, type SQL } from 'drizzle-orm';
import { jobs, type JobRow } from '../../shared/db/schema.js';
import { summaryColumns, type JobSummaryRow } from './job-summary.js';

const SUMMARY_COLUMNS = Object.entries(summaryColumns);
const ALL_COLUMNS = Object.entries(getTableColumns(jobs));

export interface ColumnsOptions {
  /** Put before each answered key: a statement that answers two rows per line tells them apart this way. */
  prefix?: string;
  /** Every column, script and environment included. */
  full?: boolean;
}

/** `alias.col AS "<prefix>key", …` for the summary (or every) column. */
export function jobColumns(alias: string, { prefix = '', full = false }: ColumnsOptions = {}): SQL {
  return sql.join(
    (full ? ALL_COLUMNS : SUMMARY_COLUMNS).map(
      ([key, column]) =>
        sql`${sql.identifier(alias)}.${sql.identifier(column.name)} AS ${sql.identifier(prefix + key)}`,
    ),
    sql`, `,
  );
}

/** The row `jobColumns` selected, mapped as drizzle maps it; null when its id is (an outer join found none). */
export function toJobRow(raw: Record<string, unknown>, options: ColumnsOptions & { full: true }): JobRow | null;
export function toJobRow(raw: Record<string, unknown>, options?: ColumnsOptions): JobSummaryRow | null;
export function toJobRow(
  raw: Record<string, unknown>,
  { prefix = '', full = false }: ColumnsOptions = {},
): JobRow | JobSummaryRow | null {
  if (raw[`${prefix}id`] === null || raw[`${prefix}id`] === undefined) return null;
  const row: Record<string, unknown> = {};
  for (const [key, column] of full ? ALL_COLUMNS : SUMMARY_COLUMNS) {
    const value = raw[prefix + key];
    row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return row as JobRow;
}
