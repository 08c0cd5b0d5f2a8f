/**
 * What a submit will make of the form and its script, computed in the browser with the API's own code (shared/job/):
 * the body validated by the same schema (SubmitRequest), the script's `#SBATCH` / `#CONDUCTOR` lines read by the same
 * reader (readDirectives, as api/jobs/script-directives.ts does), and the defaults applied by the same toJobSpec. Its
 * rule for who wins is the API's: a field given in the body (here: filled in the form) wins over a directive, as
 * sbatch's command line wins over its script; a directive overridden so is listed among the warnings.
 */
import type { AppliedDirective } from '../../shared/job/applied-directive.js';
import { DirectivesRefused, formatDirectiveProblem } from '../../shared/job/directive-error.js';
import { readDirectives } from '../../shared/job/directive-options.js';
import { SubmitRequest, toJobSpec } from '../../shared/job/submit-request.js';
import { formatDuration } from '../../shared/job/time-limit.js';
import { parseTimeLimit } from '../../shared/job/time-limit.js';

type JobFields = SubmitRequest['job'];
type Field = keyof JobFields;

/** Where an effective value comes from. */
export type Source =
  | { kind: 'form' }
  | { kind: 'directive'; directives: AppliedDirective[] }
  | { kind: 'default' }
  | { kind: 'computed'; from: string };

export interface EffectiveField {
  /** The body field (`cpus_per_task`), or a value computed from several (`cpus`). */
  field: Field | 'cpus';
  value: string;
  source: Source;
}

export type Preview =
  | { ok: true; fields: EffectiveField[]; directives: AppliedDirective[]; warnings: string[] }
  /** The API would refuse the submit: each problem named by the field the API's 422 would name (`job.time_limit`). */
  | { ok: false; problems: { field: string; message: string }[] };

/** The reading of `request` as POST /v1/jobs would read it, for `account` (the session's, or null for an admin's). */
export function previewSubmit(
  request: { job: Record<string, unknown>; script: string },
  account: string | null,
): Preview {
  const parsed = SubmitRequest.safeParse(request);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) => ({ field: issue.path.join('.'), message: issue.message })),
    };
  }
  let reading: ReturnType<typeof readDirectives>;
  try {
    reading = readDirectives(parsed.data);
  } catch (error) {
    if (!(error instanceof DirectivesRefused)) throw error;
    return {
      ok: false,
      problems: error.problems.map((problem) => ({ field: 'script', message: formatDirectiveProblem(problem) })),
    };
  }
  const body = parsed.data.job;
  const spec = toJobSpec(reading.request, account ?? 'default', body.user ?? null, {
    timeLimit: parseTimeLimit,
    warnings: reading.warnings,
    directives: reading.directives,
  });
  const sourceOf = (field: Field): Source => {
    if (body[field] !== undefined) return { kind: 'form' };
    const directives = reading.setBy[field];
    return directives ? { kind: 'directive', directives } : { kind: 'default' };
  };
  const row = (field: Field, value: string | number | boolean | null): EffectiveField => ({
    field,
    value: value === null ? '—' : String(value),
    source: sourceOf(field),
  });
  const stderr = row('standard_error', spec.stderrPattern);
  if (stderr.source.kind === 'default') stderr.source = { kind: 'computed', from: 'standard_output' };
  return {
    ok: true,
    fields: [
      row('name', spec.name),
      row('account', spec.account),
      row('partition', spec.partition),
      ...(spec.user === null ? [] : [row('user', spec.user)]),
      row('ntasks_per_node', spec.ntasksPerNode),
      row('cpus_per_task', spec.cpusPerTask),
      {
        field: 'cpus',
        value: String(spec.cpus),
        source: { kind: 'computed', from: 'ntasks_per_node × cpus_per_task' },
      },
      row('memory_per_node', `${spec.memoryMb}M`),
      row('time_limit', spec.timeLimitSeconds === null ? 'UNLIMITED' : formatDuration(spec.timeLimitSeconds)),
      row('current_working_directory', spec.workDir ?? "the job's own directory on its node"),
      row('standard_output', spec.stdoutPattern),
      stderr,
      row('open_mode', spec.openMode),
      row('exclusive', spec.exclusive ? 'yes' : 'no'),
      row('requeue', spec.requeue ? 'yes' : 'no'),
      row('priority', spec.priority),
      row('signal', reading.request.job.signal ?? null),
    ],
    directives: reading.directives,
    warnings: reading.warnings,
  };
}

/** The body fields that `script`'s directives set on their own (none when they cannot be read). */
export function directiveFields(script: string): string[] {
  try {
    return Object.keys(readDirectives({ job: {}, script }).setBy);
  } catch {
    return [];
  }
}
