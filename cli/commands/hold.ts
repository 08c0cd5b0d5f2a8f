/**
 * `conductor hold [--user] ID…` and `conductor release ID…`: scontrol hold (uhold with --user) / release. Each job's
 * outcome is a line (held, released, or none when it already was; for a job array's own id, how many of its PENDING
 * tasks changed); a job the API refused (not PENDING, an admin's hold a user token may not
 * release) is named on stderr and the exit code is then 1, after the others were still asked.
 */
import type { Command } from 'commander';
import { answer } from '../api-answer.js';
import { runAction, clientFor, withCommonOptions, type CommonOptions } from '../command-context.js';
import { eachJob } from '../each-job.js';

interface HoldOptions extends CommonOptions {
  user?: boolean;
}

export function holdCommands(program: Command): void {
  for (const [name, description] of [
    ['hold', 'hold PENDING jobs: they start only once released (scontrol hold; an admin token holds as an admin)'],
    ['release', "release held jobs (scontrol release; a user token cannot release an admin's hold)"],
  ] as const) {
    const command = program
      .command(name)
      .argument('<ids...>', "the jobs (a job array's id: its PENDING tasks)")
      .description(description);
    if (name === 'hold') {
      command.option('--user', "hold as the job's user (scontrol uhold: JobHeldUser, which its user may release)");
    }
    withCommonOptions(command).action((ids: string[], options: HoldOptions) =>
      runAction(async () => {
        const client = clientFor(options);
        return eachJob(ids, options.json, async (id) => {
          const result = await answer(
            client.POST(`/v1/jobs/{id}/${name}`, {
              params: { path: { id } },
              ...(options.user ? { body: { user_hold: true } } : {}),
            }),
          );
          if ('array_tasks' in result) {
            const { changed, unchanged } = result.array_tasks;
            return {
              record: { effect: result.effect, array_tasks: result.array_tasks },
              line: `array: ${changed} PENDING task(s) ${name === 'hold' ? 'held' : 'released'}, ${unchanged} already so`,
            };
          }
          const what = result.effect === 'none' ? `already ${name === 'hold' ? 'held' : 'not held'}` : result.effect;
          return {
            record: { effect: result.effect, reason: result.job.reason },
            line: `${what} (${result.job.reason})`,
          };
        });
      }),
    );
  }
}
