/**
 * The one way a job's state changes (docs/architecture.md, invariant 2): a batch of jobs, each with the state it goes
 * to, moved by one conditional statement that also records each move as an event. Every caller (cancel, confirm, a
 * run's start and end, requeue, node loss) is a batch described to this function; the database refuses a state change
 * made any other way (migration 0006: the trigger accepts a change only from a statement this function marked, and only
 * one the state table allows).
 *
 * A job whose `to` is the state it is in is a note rather than a move: its state stays, its other columns change and
 * its event is recorded (a run's pid, a cancel asked of a running job). Notes are only taken in a state that is not
 * terminal. A run's end releases the jobs its account's running limits held, as far as its room now allows
 * (api/accounts/release-held-jobs.ts): they are marked not enqueued, for the caller or the reconciler to push. A start
 * or end settles the jobs that depend on the moved ones (api/jobs/dependencies/settle-dependents.ts), likewise.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { wordArray } from '../../shared/db/pg-array.js';
import { queryRows } from '../../shared/db/query-rows.js';
import type { JobRow } from '../../shared/db/schema.js';
import { isTerminal, isTransitionAllowed, JOB_STATES, type JobState } from '../../shared/job/job-state.js';
import { releaseHeldJobs } from '../accounts/release-held-jobs.js';
import { settleDependentsOf } from './dependencies/settle-dependents.js';
import { releaseArrayTasks } from './array-task-limit.js';
import { jobColumns, toJobRow } from './job-columns.js';
import type { JobSummaryRow } from './job-summary.js';

/** One job of a batch: where it goes, why (its event's reason), and its own values for the batch's statement. */
export interface TransitionInput {
  id: number;
  to: JobState;
  reason: string;
  /** Read by the batch's `set` and `where` as `input.<name>`; declared with their SQL types in `inputs`. */
  values?: Record<string, unknown>;
}

export interface TransitionBatch {
  jobs: TransitionInput[];
  /** The states the jobs may leave; every state the table allows by default. Notes need theirs named here. */
  from?: readonly JobState[];
  /** The SQL types of the jobs' own values: `{ pid: 'integer', cpu_ids: 'integer[]' }`. */
  inputs?: Record<string, string>;
  /** Columns written with the state, over `input.*` and `current.*` (the row as it was). */
  set?: SQL;
  /** The reason of a job moved to PENDING, over `input.*` and `current.*`; 'Priority' unless given (a retry's backoff). */
  pendingReason?: SQL;
  /** Conditions beyond the state and the table, over `input.*` and `current.*`. */
  where?: SQL;
  actor: string;
  /** Answer the rows whole (script and environment included), not their summaries. */
  whole?: boolean;
}

export interface TransitionResult<Row = JobSummaryRow> {
  /** This call moved (or noted) the job, and recorded its event. */
  applied: boolean;
  /** The job as it was when locked; null when there is no such job. */
  before: Row | null;
  /** The job as this call left it; null when not applied. */
  after: Row | null;
}

const TERMINAL_STATES = JOB_STATES.filter(isTerminal);
const CORE_INPUTS: Record<string, string> = { n: 'integer', id: 'bigint', to_state: 'text', reason: 'text' };

/**
 * Applies a batch as one statement; answers each job's result, in input order. Jobs are locked in id order (no
 * deadlock between concurrent batches), each checked against the state table in SQL (`job_transitions`), the
 * batch's `from` and `where`; a job named twice moves once. A retried or raced batch changes nothing the second
 * time: those jobs come back not applied, with the state they are in.
 */
export async function transitionJobs(
  db: Database,
  batch: TransitionBatch & { whole: true },
): Promise<TransitionResult<JobRow>[]>;
export async function transitionJobs(db: Database, batch: TransitionBatch): Promise<TransitionResult[]>;
export async function transitionJobs(db: Database, batch: TransitionBatch): Promise<TransitionResult<JobRow>[]> {
  if (batch.jobs.length === 0) return [];
  for (const job of batch.jobs) checkTarget(job.to, batch.from);
  const inputs = { ...CORE_INPUTS, ...batch.inputs };
  const input = batch.jobs.map((job, n) => ({ ...job.values, n, id: job.id, to_state: job.to, reason: job.reason }));
  const declared = sql.raw(
    Object.entries(inputs)
      .map(([name, type]) => `${quote(name)} ${type}`)
      .join(', '),
  );
  const from = batch.from ?? JOB_STATES;
  const columns = { full: batch.whole === true };
  const rows = await queryRows(
    db,
    sql`
    WITH input AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(input)}::jsonb) AS input(${declared})
    ), current AS (
      SELECT * FROM jobs WHERE id IN (SELECT id FROM input) ORDER BY id FOR UPDATE
    ), moved AS (
      UPDATE jobs SET
        state = input.to_state,
        reason = CASE WHEN input.to_state = current.state THEN current.reason
                      WHEN input.to_state = 'PENDING' THEN ${batch.pendingReason ?? sql`'Priority'`} END,
        end_time = CASE WHEN input.to_state = ANY(${wordArray(TERMINAL_STATES)}) THEN now()
                        ELSE current.end_time END
        ${batch.set ? sql`, ${batch.set}` : sql``}
      FROM input JOIN current ON current.id = input.id
      WHERE jobs.id = input.id
        AND current.state = ANY(${wordArray(from)})
        AND (EXISTS (SELECT 1 FROM job_transitions t WHERE t.from_state = current.state AND t.to_state = input.to_state)
             OR (input.to_state = current.state AND NOT current.state = ANY(${wordArray(TERMINAL_STATES)})))
        ${batch.where ? sql`AND (${batch.where})` : sql``}
        -- The mark the state guard (migration 0006) looks for: this statement's own, gone with it.
        AND (SELECT set_config('conductor.transition', statement_timestamp()::text, true)) IS NOT NULL
      RETURNING jobs.*, input.n AS input_n, input.reason AS event_reason, current.state AS from_state
    ), event AS (
      INSERT INTO job_events (job_id, attempt, from_state, to_state, actor, reason)
      SELECT id, attempt, from_state, state, ${batch.actor}, event_reason FROM moved
    )
    SELECT input.n, moved.input_n IS NOT NULL AS applied,
           ${jobColumns('current', { prefix: 'before_', ...columns })},
           ${jobColumns('moved', { prefix: 'after_', ...columns })}
    FROM input LEFT JOIN current ON current.id = input.id LEFT JOIN moved ON moved.input_n = input.n
    ORDER BY input.n
  `,
  );
  const results = rows.map((row) => ({
    applied: row.applied === true,
    before: toJobRow(row, { prefix: 'before_', ...columns }),
    after: toJobRow(row, { prefix: 'after_', ...columns }),
  })) as TransitionResult<JobRow>[];
  // Every way a run ends passes here (its node's report, node loss, a settled unlisted run): its account may have
  // room again for jobs its running limits hold.
  await releaseHeldJobs(db, accountsOfEndedRuns(results));
  // Every start and end passes here too: the jobs depending on these are decided now, not polled (dependencies/).
  await settleDependentsOf(db, results);
  // And a capped array's task that ended makes room for the next of its array (array-task-limit.ts).
  await releaseArrayTasks(db, arraysOfEndedTasks(results));
  return results;
}

/** The capped arrays of the tasks these results ended (RUNNING or PENDING before, a terminal state after). */
function arraysOfEndedTasks(results: TransitionResult<JobRow>[]): number[] {
  const ended = results.filter(
    ({ applied, before, after }) =>
      applied && after!.arrayTaskLimit !== null && isTerminal(after!.state) && !isTerminal(before!.state),
  );
  return [...new Set(ended.map(({ after }) => after!.arrayJobId!))];
}

/** The accounts of the runs these results ended (RUNNING before, another state after). */
function accountsOfEndedRuns(results: TransitionResult<JobRow>[]): string[] {
  const ended = results.filter(
    ({ applied, before, after }) => applied && before!.state === 'RUNNING' && after!.state !== 'RUNNING',
  );
  return [...new Set(ended.map(({ after }) => after!.account))];
}

/** A target the table cannot reach from any of the batch's states is a bug in the caller, not a race. */
function checkTarget(to: JobState, from: readonly JobState[] | undefined): void {
  const reachable = (from ?? JOB_STATES).some(
    (state) => isTransitionAllowed(state, to) || (state === to && !isTerminal(to)),
  );
  if (!reachable)
    throw new Error(`no transition of the state table leads to ${to} from ${(from ?? JOB_STATES).join(', ')}`);
}

function quote(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain column name: ${name}`);
  return name;
}
