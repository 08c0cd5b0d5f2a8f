/** `conductor queue` (`ls`): squeue. Pending and running jobs by default, in squeue's columns. */
import type { Command } from 'commander';
import { runAction, clientFor, withCommonOptions, type CommonOptions } from '../command-context.js';
import { listJobs, type JobFilterOptions } from '../job-filters.js';
import { coloured, elapsed, printJson, runSeconds, STATE_CODES, table } from '../output.js';

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
      .option('-n, --name <name>', 'only jobs of this name'),
  ).action((options: CommonOptions & JobFilterOptions) =>
    runAction(async () => {
      const jobs = await listJobs(clientFor(options), options, ['PENDING', 'RUNNING']);
      if (options.json) return printJson(jobs);
      const rows = jobs.map((job) => [
        job.id,
        job.partition,
        job.name,
        job.user ?? '-',
        coloured(job.state, STATE_CODES[job.state] ?? job.state),
        elapsed(runSeconds(job)),
        1,
        job.state === 'PENDING' ? `(${job.reason ?? 'None'})` : (job.node ?? ''),
      ]);
      process.stdout.write(
        `${table(['JOBID', 'PARTITION', 'NAME', 'USER', 'ST', 'TIME', 'NODES', 'NODELIST(REASON)'], rows)}\n`,
      );
    }),
  );
}
