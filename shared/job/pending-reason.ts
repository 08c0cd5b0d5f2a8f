/**
 * Why a PENDING job waits: Slurm's reason codes (squeue(1), JOB REASON CODES), the ones this scheduler gives. The
 * API decides a job's reason when it is read (api/jobs/pending-reasons.ts), from the truth as it is then, except
 * for the reasons stored on the job (OUT_OF_QUEUE_REASONS): an account limit, which the confirm that refused the job
 * stores until a run of its account ends, and the workflow's waits (issue 20), stored by what set them.
 */
export const PENDING_REASONS = [
  /** Jobs of higher priority are ahead of it in its partition. */
  'Priority',
  /** It is next in its partition and waits for cores or memory to free. */
  'Resources',
  /** Its partition is DOWN (slurm.conf State=DOWN): it accepts jobs and starts none. */
  'PartitionDown',
  /** Its partition is INACTIVE: it neither accepts nor starts jobs. */
  'PartitionInactive',
  /** Its partition exists, but no node serves it. */
  'PartitionNoNodes',
  /** Every node of its partition is DOWN. */
  'NodeDown',
  /** No node of its partition that is up may run it now: all drained, or none runs its owner. */
  'ReqNodeNotAvail',
  /** Its account runs as many CPUs as its limit allows (GrpTRES=cpu). */
  'AssocGrpCpuLimit',
  /** Its account runs as many jobs as its limit allows (GrpJobs). */
  'AssocMaxJobsLimit',
  /** Held by its user (sbatch --hold, scontrol hold): it starts only once released. */
  'JobHeldUser',
  /** Held by an admin: only an admin releases it. */
  'JobHeldAdmin',
  /** Its begin time (sbatch --begin), or a retry's backoff, has not come yet. */
  'BeginTime',
  /** It waits for jobs it depends on (sbatch --dependency). */
  'Dependency',
  /** A dependency of it can never be satisfied, and it was asked to wait anyway (kill_on_invalid_dep: false). */
  'DependencyNeverSatisfied',
  /** Its array runs as many tasks as its %N cap allows (sbatch --array=…%N). */
  'JobArrayTaskLimit',
] as const;
export type PendingReason = (typeof PENDING_REASONS)[number];

/** The reasons an account limit gives; the confirm stores them on the job it refused (api/accounts/running-limits.ts). */
export const ACCOUNT_LIMIT_REASONS = ['AssocGrpCpuLimit', 'AssocMaxJobsLimit'] as const satisfies PendingReason[];

/**
 * The waits a workflow stores on a job (issue 20): set by a hold, a begin time, a retry's backoff, a dependency or an
 * array's cap, and cleared (to `Priority`, the job marked not enqueued so that its ref is pushed) by whatever ends the
 * wait. A job with one of these never starts, whatever ref to it a node claims (the confirm checks).
 */
export const WORKFLOW_WAIT_REASONS = [
  'JobHeldUser',
  'JobHeldAdmin',
  'BeginTime',
  'Dependency',
  'DependencyNeverSatisfied',
  'JobArrayTaskLimit',
] as const satisfies PendingReason[];
export type WorkflowWaitReason = (typeof WORKFLOW_WAIT_REASONS)[number];

/** Whether a stored reason is a workflow's wait (a hold, a begin time, a dependency, an array's cap). */
export const isWorkflowWait = (reason: string | null): reason is WorkflowWaitReason =>
  (WORKFLOW_WAIT_REASONS as readonly (string | null)[]).includes(reason);

/**
 * Every stored reason that keeps a PENDING job out of the queue: no ref of it is pushed (the reconciler skips it), it
 * is not the head of its partition, and its reason is shown as stored rather than decided on read.
 */
export const OUT_OF_QUEUE_REASONS = [...ACCOUNT_LIMIT_REASONS, ...WORKFLOW_WAIT_REASONS] as const;
