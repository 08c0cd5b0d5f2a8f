/**
 * Why a PENDING job waits: Slurm's reason codes (squeue(1), JOB REASON CODES), the ones this scheduler gives. The
 * API decides a job's reason when it is read (api/jobs/pending-reasons.ts), from the truth as it is then, except
 * for the account limits, which the confirm that refused the job stores on it until a run of its account ends.
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
] as const;
export type PendingReason = (typeof PENDING_REASONS)[number];

/** The reasons an account limit gives; the confirm stores them on the job it refused (api/accounts/running-limits.ts). */
export const ACCOUNT_LIMIT_REASONS = ['AssocGrpCpuLimit', 'AssocMaxJobsLimit'] as const satisfies PendingReason[];
