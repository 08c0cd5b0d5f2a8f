/**
 * `conductor submit [options] [script [args…]]`: sbatch. Options are sbatch's (submit-argv.ts); those that set the
 * job become body fields (sbatch-flags.ts), which win over the script's `#SBATCH` lines, read by the API. Prints
 * "Submitted batch job N" (sbatch's words), only N with `--parsable`, the job with `--json`. `--wait` waits for the
 * job's end showing its progress, `--follow` streams its output meanwhile; both then exit with the job's code
 * (exit-codes.ts).
 */
import { readFileSync } from 'node:fs';
import { followLogs, submitJob, type ConductorClient } from '../../sdk/index.js';
import { UsageError } from '../cli-error.js';
import { clientFor } from '../command-context.js';
import { jobExitCode } from '../exit-codes.js';
import { exportedEnvironment } from '../export-environment.js';
import { printJson } from '../print-json.js';
import { readScript } from '../script-source.js';
import { isClientOption, readSubmitArgv, type ArgvOption } from '../submit-argv.js';

export const SUBMIT_USAGE = `usage: conductor submit [sbatch options] [script [args...]]   (the script from stdin when none)

  sbatch's options, spelt as sbatch spells them: -J/--job-name -c/--cpus-per-task -n/--ntasks -N 1 -t/--time
  -p/--partition -A/--account -o/--output -e/--error -D/--chdir --mem --mem-per-cpu --exclusive --requeue
  --no-requeue --open-mode --signal --priority --nice[=N] --export=ALL|NONE|[ALL,]NAME[=value],...  --wrap "command"
  -H/--hold (held until conductor release)  -b/--begin TIME (now+1hour, 16:00, tomorrow, 2026-12-24T08:00; UTC)
  They win over the script's #SBATCH lines. Options asking for what is not done here are refused, naming why.

  --parsable       print only the job's id        --json       print the job as the API answers it
  -W, --wait       wait for the job's end, showing its progress, and exit with its exit code
  --follow         stream the job's output while it runs, then exit with its exit code
  --url, --token, -M/--cluster NAME   which API (see conductor --help)`;

export async function submit(argv: readonly string[]): Promise<number> {
  const { options, operands } = readSubmitArgv(argv);
  const client = new Map<string, string | null>();
  const jobFlags: ArgvOption[] = [];
  let exportSpec: string | null = null;
  for (const flag of options) {
    const { option } = flag;
    if (isClientOption(option)) client.set(option.long, flag.value);
    else if (option.long === 'export') exportSpec = flag.value;
    else if (option.effect.kind === 'refuse') throw new UsageError(`${flag.raw}: not supported: ${option.effect.why}`);
    else if (option.effect.kind === 'warn')
      process.stderr.write(`conductor: ${flag.raw} ignored: ${option.effect.why}\n`);
    else jobFlags.push(flag);
  }
  if (client.has('help')) {
    process.stdout.write(`${SUBMIT_USAGE}\n`);
    return 0;
  }
  // The directive reader (and zod under it) is loaded only when there are flags for it: most of a bare submit's time is
  // loading modules.
  const fields = jobFlags.length ? (await import('../sbatch-flags.js')).jobFieldsOf(jobFlags) : {};
  const wrap = client.get('wrap') ?? null;
  const job = {
    // sbatch names a --wrap job "wrap".
    ...(wrap !== null ? { name: 'wrap' } : {}),
    ...fields,
    environment: exportedEnvironment(exportSpec, process.env),
  };
  const script = readScript(operands, wrap, () => readFileSync(0, 'utf8'));
  const api = clientFor({
    url: client.get('url') ?? undefined,
    token: client.get('token') ?? undefined,
    cluster: client.get('cluster') ?? client.get('clusters') ?? undefined,
  });

  const submitted = await submitJob(api, { job, script });
  const json = client.has('json');
  const parsable = client.has('parsable');
  const waiting = client.has('wait') || client.has('follow');
  // With --json and a wait, the one document printed is the job as it ended.
  if (json && !waiting) printJson(submitted);
  else if (json) process.stderr.write(`Submitted batch job ${submitted.id}\n`);
  else if (parsable) process.stdout.write(`${submitted.id}\n`);
  else process.stdout.write(`Submitted batch job ${submitted.id}\n`);
  for (const warning of submitted.warnings) {
    if (!overriddenByFlag(warning, fields)) process.stderr.write(`conductor: warning: ${warning}\n`);
  }

  if (client.has('follow')) await streamOutput(api, submitted.id);
  if (!waiting) return 0;
  // The progress display (and its spinner library) is loaded only by a submit that waits.
  const { waitForEnd } = await import('../job-progress.js');
  const ended = await waitForEnd(api, submitted.id, json || parsable || client.has('follow'));
  if (json) printJson(ended);
  return jobExitCode(ended);
}

/**
 * Whether a warning only says that a flag won over a directive ("line 2: -J x: overridden by job.name in the body",
 * shared/job/directive-options.ts): sbatch says nothing when its command line overrides the script, and neither
 * does this command.
 */
function overriddenByFlag(warning: string, fields: object): boolean {
  const field = / overridden by job\.(\w+) in the body$/.exec(warning)?.[1];
  return field !== undefined && field in fields;
}

async function streamOutput(api: ConductorClient, id: string): Promise<void> {
  for await (const bytes of followLogs(api, id)) process.stdout.write(bytes);
}
