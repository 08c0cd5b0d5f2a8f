/** `conductor queue` (`ls`): squeue. Pending and running jobs by default, in squeue's columns. */
import type { Command } from 'commander';
import { runAction, clientFor, withCommonOptions, type CommonOptions } from '../command-context.js';
import { listJobs, type JobFilterOptions } from '../job-filters.js';
import { runSeconds, squeueTime, STATE_CODES } from '../../shared/job/squeue-display.js';
import { coloured, table } from '../output.js';
import { printJson } from '../print-json.js';
import { formatSqueue, parseSqueueFormat, SQUEUE_DEFAULT_FORMAT } from '../squeue-format.js';

export function queueCommand(program: Command): void {
  withCommonOptions(
    program
      .command('queue')
      .alias('ls')
      .description('list pending and running jobs (squeue)')
      .option('-u, --user <user>', "only this Unix user's jobs")
      .option('-A, --account <account>', "only this account's jobs")
      .option('-p, --partition <partition>', 'only jobs in this partition')
      .option('-t, --states <states>', 'these states (PD,R,CD,CA,F,TO,OOM,NF or full names; all)')
      .option('-n, --name <name>', 'only jobs of this name')
      .option('-r, --array', 'every task of a job array on its own line (squeue -r); else its PENDING ones as one')
      .option('-o, --format <format>', `squeue's output format, e.g. "${SQUEUE_DEFAULT_FORMAT}"`)
      // squeue's -h is --noheader: help is --help alone here, as there.
      .helpOption('--help', 'display help for command')
      .option('-h, --noheader', 'no header line (squeue -h)'),
  ).action((options: CommonOptions & JobFilterOptions & { format?: string; noheader?: boolean; array?: boolean }) =>
    runAction(async () => {
      // Checked before the API is asked: a bad format is the command line's fault.
      const spec = options.format ?? (options.noheader ? SQUEUE_DEFAULT_FORMAT : undefined);
      const format = spec === undefined ? undefined : parseSqueueFormat(spec);
      const jobs = await listJobs(clientFor(options), options, ['PENDING', 'RUNNING'], options.array === true);
      if (options.json) return printJson(jobs);
      if (format) {
        const lines = formatSqueue(format, jobs, !options.noheader);
        if (lines.length) process.stdout.write(`${lines.join('\n')}\n`);
        return;
      }
      const rows = jobs.map((job) => [
        job.display_id,
        job.partition,
        job.name,
        job.user ?? '-',
        coloured(job.state, STATE_CODES[job.state] ?? job.state),
        squeueTime(runSeconds(job)),
        1,
        job.state === 'PENDING' ? `(${job.reason ?? 'None'})` : (job.node ?? ''),
      ]);
      process.stdout.write(
        `${table(['JOBID', 'PARTITION', 'NAME', 'USER', 'ST', 'TIME', 'NODES', 'NODELIST(REASON)'], rows)}\n`,
      );
    }),
  );
}
