/**
 * What a job array's task shows of its array (issue 20, item 3), as Slurm shows it: its display id `123_7`
 * (squeue's JOBID), its array's id and its index, the array's indexes and cap, the names `%A`/`%a` of its output
 * paths, and the SLURM_ARRAY_* variables its node sets (sbatch(1), OUTPUT ENVIRONMENT VARIABLES).
 */
import type { JobSummaryRow } from './job-summary.js';
import { arrayShape, parseArraySpec } from '../../shared/job/array-spec.js';

type ArrayColumns = Pick<
  JobSummaryRow,
  'id' | 'name' | 'arrayJobId' | 'arrayTaskId' | 'arrayIndexes' | 'arrayTaskLimit'
>;

/** `123_7` for an array's task, else the id. */
export function displayId(row: Pick<JobSummaryRow, 'id' | 'arrayJobId' | 'arrayTaskId'>): string {
  return row.arrayJobId === null ? String(row.id) : `${row.arrayJobId}_${row.arrayTaskId}`;
}

/** The array fields of the /v1 job view (api/routes/v1/jobs/schema.ts). */
export function arrayTaskView(row: ArrayColumns) {
  return {
    display_id: displayId(row),
    array_job_id: row.arrayJobId === null ? null : String(row.arrayJobId),
    array_task_id: row.arrayTaskId,
    array:
      row.arrayIndexes === null
        ? null
        : row.arrayIndexes + (row.arrayTaskLimit === null ? '' : `%${row.arrayTaskLimit}`),
  };
}

/** The output path names a job gives (shared/job/output-path.ts) but its user and node: %j, %x, %A, %a. */
export function outputNames(row: ArrayColumns) {
  return {
    id: String(row.id),
    name: row.name,
    arrayJobId: row.arrayJobId === null ? null : String(row.arrayJobId),
    arrayTaskId: row.arrayTaskId === null ? null : String(row.arrayTaskId),
  };
}

// Tasks of one array are confirmed together: their shape is parsed once, not once per task.
const shapes = new Map<string, ReturnType<typeof arrayShape>>();
const MAX_SHAPES = 256;

/**
 * The variables slurmd gives an array's task: SLURM_ARRAY_JOB_ID, SLURM_ARRAY_TASK_ID, and the array's
 * SLURM_ARRAY_TASK_COUNT, _MIN, _MAX and _STEP (array-spec.ts, arrayShape); none for another job.
 */
export function arrayEnvironment(row: ArrayColumns): Record<string, string> {
  if (row.arrayJobId === null || row.arrayIndexes === null) return {};
  let shape = shapes.get(row.arrayIndexes);
  if (!shape) {
    shape = arrayShape(parseArraySpec(row.arrayIndexes).indexes);
    if (shapes.size >= MAX_SHAPES) shapes.clear();
    shapes.set(row.arrayIndexes, shape);
  }
  return {
    SLURM_ARRAY_JOB_ID: String(row.arrayJobId),
    SLURM_ARRAY_TASK_ID: String(row.arrayTaskId),
    SLURM_ARRAY_TASK_COUNT: String(shape.count),
    SLURM_ARRAY_TASK_MIN: String(shape.min),
    SLURM_ARRAY_TASK_MAX: String(shape.max),
    SLURM_ARRAY_TASK_STEP: String(shape.step),
  };
}
