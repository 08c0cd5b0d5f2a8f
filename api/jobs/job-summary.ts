import { getTableColumns } from 'drizzle-orm';
import { jobs, type JobRow } from '../../shared/db/schema.js';

/** What a listing or a submit answers of a job: everything but the script and environment, which may be large. */
export type JobSummaryRow = Omit<JobRow, 'script' | 'environment'>;

const { script: _script, environment: _environment, ...columns } = getTableColumns(jobs);

/** The columns of a JobSummaryRow, for select() and returning(). */
export const summaryColumns = columns;
