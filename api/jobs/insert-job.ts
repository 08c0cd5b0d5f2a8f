import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { jobs } from '../../shared/db/schema.js';
import type { JobSpec } from '../../shared/job/submit-request.js';
import { summaryColumns, type JobSummaryRow } from './job-summary.js';

/**
 * Inserts a PENDING job; the database records its "submitted" event in the same statement (a trigger). This is the
 * hottest statement of the API, so it is prepared once per database (a pg connection then parses and plans it once),
 * and it answers the job without the script and environment the client has just sent.
 */
export async function insertJob(db: Database, spec: JobSpec, actor: string): Promise<JobSummaryRow> {
  const [row] = await preparedInsert(db).execute({ ...spec, environment: JSON.stringify(spec.environment), actor });
  return row!;
}

const prepared = new WeakMap<Database, ReturnType<typeof prepareInsert>>();

function preparedInsert(db: Database) {
  let statement = prepared.get(db);
  if (!statement) {
    statement = prepareInsert(db);
    prepared.set(db, statement);
  }
  return statement;
}

function prepareInsert(db: Database) {
  const p = (name: keyof JobSpec | 'actor') => sql.placeholder(name);
  return db
    .insert(jobs)
    .values({
      account: p('account'),
      name: p('name'),
      partition: p('partition'),
      reason: 'Priority',
      priority: p('priority'),
      requeue: p('requeue'),
      submittedBy: p('actor'),
      script: p('script'),
      workDir: p('workDir'),
      stdoutPattern: p('stdoutPattern'),
      stderrPattern: p('stderrPattern'),
      environment: sql`${p('environment')}::jsonb`,
      ntasksPerNode: p('ntasksPerNode'),
      cpusPerTask: p('cpusPerTask'),
      cpus: p('cpus'),
      memoryMb: p('memoryMb'),
      timeLimitSeconds: p('timeLimitSeconds'),
      exclusive: p('exclusive'),
    })
    .returning(summaryColumns)
    .prepare('insert_job');
}
