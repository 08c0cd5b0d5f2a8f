import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { jobEvents, jobs, queueRefs } from '../../shared/db/schema.js';
import type { PrioritySettings } from '../../shared/config/priority-settings.js';
import type { JobSpec } from '../../shared/job/submit-request.js';
import type { WorkflowWaitReason } from '../../shared/job/pending-reason.js';
import { priorityExpression } from '../priority/priority-formula.js';
import { clusterCpus, fairShareOf, maxTier, tierOf } from '../priority/priority-inputs.js';
import { summaryColumns, type JobSummaryRow } from './job-summary.js';

/**
 * Inserts a PENDING job and its "submitted" event, in one statement, with its first priority: an admin's (the body's
 * priority, when above 0), else computed as the recompute computes it (api/priority/priority-formula.ts: age 0, its
 * account's last fair-share factor, its size and partition tier), so it waits in its place from the start. With
 * `withRef`, the statement also writes the job's ref to the Postgres queue, so that job and ref commit together.
 * This is the hottest statement of the API, so each form is prepared once per database (a pg connection then parses
 * and plans it once), and it answers the job without the script and environment the client has just sent.
 */
export async function insertJob(
  db: Database,
  spec: JobSpec,
  actor: string,
  options: {
    withRef: boolean;
    priority: PrioritySettings;
    /** A workflow wait it starts in (shared/job/pending-reason.ts): stored as its reason (after a hold or begin time), and it gets no ref. */
    wait?: WorkflowWaitReason;
  },
): Promise<JobSummaryRow> {
  const statements = preparedFor(db);
  const statement = options.withRef ? statements.withRef : statements.alone;
  const [row] = await statement.execute({
    ...spec,
    environment: JSON.stringify(spec.environment),
    warnings: JSON.stringify(spec.warnings),
    warnSignal: spec.warnSignal === null ? null : JSON.stringify(spec.warnSignal),
    directives: JSON.stringify(spec.directives),
    retryPolicy: spec.retryPolicy === null ? null : JSON.stringify(spec.retryPolicy),
    beginAt: spec.beginAt === null ? null : spec.beginAt.toISOString(),
    actor,
    wait: options.wait ?? null,
    ...weightParameters(options.priority),
  });
  return row!;
}

const prepared = new WeakMap<Database, ReturnType<typeof prepare>>();

function preparedFor(db: Database) {
  let statements = prepared.get(db);
  if (!statements) {
    statements = prepare(db);
    prepared.set(db, statements);
  }
  return statements;
}

/** The priority's weights as the statement's parameters: a host's settings do not change its prepared plan. */
function weightParameters({ weights, maxAgeMs }: PrioritySettings) {
  return {
    wAge: weights.age,
    wFairShare: weights.fairShare,
    wJobSize: weights.jobSize,
    wPartition: weights.partition,
    maxAgeSeconds: maxAgeMs / 1000,
  };
}

function prepare(db: Database) {
  const p = (name: keyof JobSpec | 'actor' | 'wait' | keyof ReturnType<typeof weightParameters>) =>
    sql.placeholder(name);
  const computed = priorityExpression(
    {
      age: p('wAge'),
      fairShare: p('wFairShare'),
      jobSize: p('wJobSize'),
      partition: p('wPartition'),
      maxAgeSeconds: p('maxAgeSeconds'),
    },
    {
      ageSeconds: sql`0`,
      fairShare: fairShareOf(p('account')),
      cpus: sql`${p('cpus')}::int`,
      clusterCpus,
      tier: tierOf(p('partition')),
      maxTier,
      nice: sql`${p('nice')}::int`,
    },
  );
  const insert = () =>
    db.insert(jobs).values({
      account: p('account'),
      user: p('user'),
      name: p('name'),
      partition: p('partition'),
      // Held (sbatch --hold), not begun (--begin in the future) or another workflow wait it starts in (a dependency):
      // out of the queue until released (issue 20). A hold or begin shows first: the confirm still checks a
      // dependency once they end (api/jobs/dependencies/dependency-starts.ts).
      reason: sql`CASE WHEN ${p('hold')}::boolean THEN 'JobHeldUser'
                       WHEN ${p('beginAt')}::timestamptz > now() THEN 'BeginTime'
                       ELSE coalesce(${p('wait')}::text, 'Priority') END`,
      // A held submit keeps the dependency it waits for under the hold (as a hold of a waiting job does), so that its
      // release gives it back (hold-jobs.ts), as scontrol release does: not the queue while its parents run. A begin
      // time still to come is the wait a release gives back instead; its end leaves the dependency to the confirm.
      reasonBeforeHold: sql`CASE WHEN ${p('hold')}::boolean AND NOT coalesce(${p('beginAt')}::timestamptz > now(), false)
                                 THEN ${p('wait')}::text END`,
      // A begin already past counts from now: the job's age (its priority's factor) starts when it is submitted.
      eligibleTime: sql`greatest(${p('beginAt')}::timestamptz, now())`,
      // 0 asks for none: the computed one.
      priority: sql`coalesce(nullif(${p('priority')}::int, 0), ${computed})`,
      adminPriority: sql`nullif(${p('priority')}::int, 0)`,
      nice: p('nice'),
      requeue: p('requeue'),
      retryPolicy: sql`${p('retryPolicy')}::jsonb`,
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
      warnings: sql`${p('warnings')}::jsonb`,
      openMode: p('openMode'),
      warnSignal: sql`${p('warnSignal')}::jsonb`,
      directives: sql`${p('directives')}::jsonb`,
    });

  const inserted = db.$with('inserted').as(insert().returning(summaryColumns));
  // Its first event, written with the row: no job exists without it.
  const submitted = db.$with('submitted').as(
    db
      .insert(jobEvents)
      .select(
        db
          .select({
            id: sql<number>`nextval(pg_get_serial_sequence('job_events', 'id'))`.as('id'),
            jobId: inserted.id,
            attempt: inserted.attempt,
            fromState: sql<null>`NULL`.as('from_state'),
            toState: inserted.state,
            at: sql<Date>`now()`.as('at'),
            actor: sql<string>`${p('actor')}`.as('actor'),
            reason: sql<string>`'submitted'`.as('reason'),
            kind: sql<'transition'>`'transition'`.as('kind'),
            changes: sql<null>`NULL`.as('changes'),
          })
          .from(inserted),
      )
      .returning({ id: jobEvents.id }),
  );
  const queued = db.$with('queued').as(
    db
      .insert(queueRefs)
      .select(
        db
          .select({
            jobId: inserted.id,
            partition: inserted.partition,
            cpus: inserted.cpus,
            memoryMb: inserted.memoryMb,
            priority: inserted.priority,
            exclusive: inserted.exclusive,
            user: inserted.user,
            timeLimitSeconds: inserted.timeLimitSeconds,
            claimedBy: sql<null>`NULL`.as('claimed_by'),
            claimedAt: sql<null>`NULL`.as('claimed_at'),
          })
          .from(inserted)
          // A job inserted in a wait (held, not begun) gets its ref when the wait ends.
          .where(sql`${inserted.reason} = 'Priority'`),
      )
      .returning({ jobId: queueRefs.jobId }),
  );
  const selection = Object.fromEntries(
    Object.keys(summaryColumns).map((key) => [key, inserted[key as keyof typeof summaryColumns]]),
  ) as { [K in keyof typeof summaryColumns]: (typeof inserted)[K] };

  return {
    alone: db.with(inserted, submitted).select(selection).from(inserted).prepare('insert_job'),
    withRef: db.with(inserted, submitted, queued).select(selection).from(inserted).prepare('insert_job_with_ref'),
  };
}
