/**
 * `conductor cancel [ID…]`: scancel. The jobs named, and/or every pending or running job the filters select (`-n`,
 * `-u`, `-A`, `-p`, `-t`; a filter alone is enough, as in scancel). Each job's outcome is a line; a job the API
 * refused is named on stderr and the exit code is then 1, after the others were still asked.
 */
import type { Command } from 'commander';
import { answer } from '../api-answer.js';
import { UsageError } from '../cli-error.js';
import { runAction, clientFor, withCommonOptions, type CommonOptions } from '../command-context.js';
import { eachJob } from '../each-job.js';
import { listJobs, type JobFilterOptions } from '../job-filters.js';

export function cancelCommand(program: Command): void {
  withCommonOptions(
    program
      .command('cancel')
      .argument('[ids...]', 'the jobs')
      .description('cancel jobs by id or by filters (scancel)')
      .option('-n, --name <name>', 'jobs of this name')
      .option('-u, --user <user>', "this Unix user's jobs")
      .option('-A, --account <account>', "this account's jobs")
      .option('-p, --partition <partition>', 'jobs in this partition')
      .option('-t, --state <states>', 'jobs in these states (PENDING, RUNNING; PD, R)'),
  ).action((ids: string[], options: CommonOptions & JobFilterOptions & { state?: string }) =>
    runAction(async () => {
      const client = clientFor(options);
      const filters = { ...options, states: options.state };
      const filtered = [filters.name, filters.user, filters.account, filters.partition, filters.states].some(
        (value) => value !== undefined,
      );
      if (ids.length === 0 && !filtered)
        throw new UsageError('name the jobs to cancel, or select them with -n/-u/-A/-p/-t');
      let targets = ids;
      if (filtered) {
        const selected = await listJobs(client, filters, ['PENDING', 'RUNNING']);
        // With ids and filters both, scancel cancels the named jobs that also match the filters.
        targets = selected
          .map((job) => job.id)
          .filter((id) => ids.length === 0 || ids.includes(id))
          .sort((a, b) => Number(a) - Number(b));
      }
      return eachJob(targets, options.json, async (id) => {
        const result = await answer(client.POST('/v1/jobs/{id}/cancel', { params: { path: { id } } }));
        return { record: { effect: result.effect, state: result.job.state }, line: result.effect.replace('_', ' ') };
      });
    }),
  );
}
