/**
 * `conductor update ID --time-limit … --nice … --partition … --name … --begin … --dependency …`: scontrol update of a
 * PENDING job (PATCH /v1/jobs/{id}). Prints what changed, one `field: from -> to` line each, values as the other
 * commands show them (a time limit as `show`'s TimeLimit, a begin time as squeue's times); for a job array's own id,
 * how many of its PENDING tasks changed. A refusal (a value not allowed, a job no longer PENDING) exits 1 with the
 * API's reason.
 */
import type { Command } from 'commander';
import { answer } from '../api-answer.js';
import { UsageError } from '../cli-error.js';
import { runAction, clientFor, withCommonOptions, type CommonOptions } from '../command-context.js';
import { printJson } from '../print-json.js';
import { slurmTime } from '../squeue-format.js';
import { formatTimeLimit } from '../../shared/job/time-limit.js';

interface UpdateOptions extends CommonOptions {
  timeLimit?: string;
  nice?: string;
  partition?: string;
  name?: string;
  begin?: string;
  dependency?: string;
}

/** How a change's values are shown, by the API's field name: the label and the value as other commands print it. */
const CHANGE_DISPLAY: Record<string, [string, (value: unknown) => string]> = {
  // Seconds in the API's changes (null: UNLIMITED); D-HH:MM:SS as the job's time_limit and `show` print it.
  time_limit: ['time_limit', (value) => formatTimeLimit(value as number | null)],
  // What --begin set: the instant the job becomes eligible, as squeue prints its times.
  eligible_time: ['begin', (value) => slurmTime(value as string)],
  // As `show` prints a job without one.
  dependency: ['dependency', (value) => (value === null ? '(null)' : String(value))],
};

export function updateCommand(program: Command): void {
  withCommonOptions(
    program
      .command('update')
      .argument('<id>', "the job (a job array's id: its PENDING tasks)")
      .description('change a PENDING job (scontrol update): users may only lower its time limit and raise its nice')
      .option('-t, --time-limit <time>', 'a Slurm time: M, H:M:S, D-H:M:S, UNLIMITED')
      .option('--nice <n>', 'its nice (users: only higher)')
      .option('-p, --partition <partition>', 'move it to this partition')
      .option('-J, --name <name>', 'rename it')
      .option('-b, --begin <time>', "sbatch --begin's formats (now+1hour, 16:00, tomorrow, YYYY-MM-DDTHH:MM; UTC)")
      .option('-d, --dependency <list>', 'replace its dependency (sbatch --dependency\'s list; "" clears it)'),
  ).action((id: string, options: UpdateOptions) =>
    runAction(async () => {
      const body: {
        time_limit?: string;
        nice?: number;
        partition?: string;
        name?: string;
        begin?: string;
        dependency?: string;
      } = {};
      if (options.timeLimit !== undefined) body.time_limit = options.timeLimit;
      if (options.nice !== undefined) {
        if (!/^[+-]?\d+$/.test(options.nice)) throw new UsageError(`--nice ${options.nice}: not a whole number`);
        body.nice = Number(options.nice);
      }
      if (options.partition !== undefined) body.partition = options.partition;
      if (options.name !== undefined) body.name = options.name;
      if (options.begin !== undefined) body.begin = options.begin;
      if (options.dependency !== undefined) body.dependency = options.dependency;
      if (Object.keys(body).length === 0) {
        throw new UsageError('give at least one of --time-limit, --nice, --partition, --name, --begin, --dependency');
      }
      const client = clientFor(options);
      const result = await answer(client.PATCH('/v1/jobs/{id}', { params: { path: { id } }, body }));
      if (options.json) printJson(result);
      else if ('array_tasks' in result) {
        const { changed, unchanged } = result.array_tasks;
        process.stdout.write(`job ${id}: array: ${changed} PENDING task(s) updated, ${unchanged} unchanged\n`);
      } else {
        const lines = Object.entries(result.changes).map(([field, { from, to }]) => {
          const [label, shown] = CHANGE_DISPLAY[field] ?? [field, String];
          return `job ${id}: ${label}: ${shown(from)} -> ${shown(to)}\n`;
        });
        process.stdout.write(lines.length > 0 ? lines.join('') : `job ${id}: unchanged\n`);
      }
    }),
  );
}
