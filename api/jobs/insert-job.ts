import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { queryRows } from '../../shared/db/query-rows.js';
import type { JobRow } from '../../shared/db/schema.js';
import type { JobSpec } from '../../shared/job/submit-request.js';
import { jobColumns, toJobRow } from './job-columns.js';

/**
 * Inserts a PENDING job and its first history event in one statement: one round trip, and no job without its
 * "submitted" event even if the connection drops between the two.
 */
export async function insertJob(db: Database, spec: JobSpec, actor: string): Promise<JobRow> {
  const rows = await queryRows(db, sql`
    WITH inserted AS (
      INSERT INTO jobs (
        account, name, partition, reason, priority, requeue, submitted_by, script, work_dir,
        stdout_pattern, stderr_pattern, environment, ntasks_per_node, cpus_per_task, cpus,
        memory_mb, time_limit_seconds, exclusive
      ) VALUES (
        ${spec.account}, ${spec.name}, ${spec.partition}, 'Priority', ${spec.priority}, ${spec.requeue}, ${actor},
        ${spec.script}, ${spec.workDir}, ${spec.stdoutPattern}, ${spec.stderrPattern},
        ${JSON.stringify(spec.environment)}::jsonb, ${spec.ntasksPerNode}, ${spec.cpusPerTask}, ${spec.cpus},
        ${spec.memoryMb}, ${spec.timeLimitSeconds}, ${spec.exclusive}
      )
      RETURNING *
    ), event AS (
      INSERT INTO job_events (job_id, attempt, from_state, to_state, actor, reason)
      SELECT id, attempt, NULL, state, ${actor}, 'submitted' FROM inserted
    )
    SELECT ${jobColumns('inserted')} FROM inserted
  `);
  return toJobRow(rows[0]!);
}
