/**
 * `conductor history`: sacct. Ended jobs with their state, exit code ("status:signal"), time run, and what their latest
 * run used (TotalCPU, MaxRSS, and seff's CPU and memory efficiency), oldest first as sacct lists them.
 */
import type { Command } from 'commander';
import { runAction, clientFor, withCommonOptions, type CommonOptions } from '../command-context.js';
import { ENDED_STATES, listJobs, type JobFilterOptions } from '../job-filters.js';
import { runSeconds } from '../../shared/job/squeue-display.js';
import { formatElapsed } from '../../shared/job/time-limit.js';
import { coloured, table } from '../output.js';
import { printJson } from '../print-json.js';
import { cpuSeconds, seffMemory } from '../seff-report.js';

const percent = (value: number | null | undefined) => (value == null ? '' : `${value.toFixed(1)}%`);

export function historyCommand(program: Command): void {
  withCommonOptions(
    program
      .command('history')
      .description('list ended jobs (sacct)')
      .option('-u, --user <user>', "only this Unix user's jobs")
      .option('-A, --account <account>', "only this account's jobs")
      .option('-p, --partition <partition>', 'only jobs in this partition')
      .option('-s, --states <states>', 'these states (CD,CA,F,TO,OOM,NF or full names)')
      .option('-n, --name <name>', 'only jobs of this name'),
  ).action((options: CommonOptions & JobFilterOptions) =>
    runAction(async () => {
      const jobs = await listJobs(clientFor(options), options, ENDED_STATES);
      if (options.json) return printJson(jobs);
      // Elapsed as sacct prints it ([D-]HH:MM:SS). sacct lists the oldest first, so that the latest end up at the bottom (`conductor history | tail`); the API
      // answers the latest first.
      const rows = [...jobs]
        .sort((a, b) => Number(a.id) - Number(b.id))
        .map((job) => [
          // sacct's JobID: an array task's 123_7.
          job.display_id,
          job.name,
          job.partition,
          job.account,
          coloured(job.state),
          job.exit_code ? `${job.exit_code.status ?? 0}:${job.exit_code.signal ?? 0}` : '',
          formatElapsed(runSeconds(job)),
          job.cpus,
          // sacct's TotalCPU and MaxRSS, and seff's efficiencies, of its latest run: blank until one reported them.
          job.usage ? formatElapsed(cpuSeconds(job.usage)) : '',
          job.usage?.max_rss_bytes == null ? '' : seffMemory(job.usage.max_rss_bytes),
          percent(job.efficiency?.cpu_percent),
          percent(job.efficiency?.memory_percent),
          job.node ?? '',
        ]);
      const head = ['JobID', 'JobName', 'Partition', 'Account', 'State', 'ExitCode', 'Elapsed', 'AllocCPUS'];
      process.stdout.write(`${table([...head, 'TotalCPU', 'MaxRSS', 'CPUEff', 'MemEff', 'NodeList'], rows)}\n`);
    }),
  );
}
