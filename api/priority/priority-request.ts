/**
 * Who may ask what of a job's priority (Slurm's rules, sbatch(1) --priority and --nice): the priority is computed, so
 * only an admin may set one (absolute, as `scontrol update Priority=`), and only an admin may give a negative nice,
 * which raises it; a user may lower its own job's priority with a positive nice.
 */
import type { JobSpec } from '../../shared/job/submit-request.js';
import type { Principal } from '../auth/principal.js';
import type { FieldError } from '../http/errors.js';

/** What a principal may not ask of `spec`'s priority: a field error for each (422), none for an admin. */
export function priorityRefusals(principal: Principal, spec: Pick<JobSpec, 'priority' | 'nice'>): FieldError[] {
  if (principal.kind === 'admin') return [];
  const refusals: FieldError[] = [];
  if (spec.priority > 0) {
    refusals.push({
      field: 'job.priority',
      message:
        "must be 0 (the default) from a user token: priorities are computed (age, fair share, size, partition); to lower your job's, give job.nice (sbatch --nice)",
    });
  }
  if (spec.nice < 0) {
    refusals.push({
      field: 'job.nice',
      message: "must be 0 or more from a user token: a nice lowers your job's priority; only an admin may raise it",
    });
  }
  return refusals;
}
