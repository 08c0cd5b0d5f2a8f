/**
 * `conductor why ID`: why a PENDING job waits (GET /v1/jobs/{id}/why), as scontrol show job's Reason and
 * `squeue --start`'s START_TIME and SCHEDNODES say it, then the jobs ahead of it and each node of its partition with
 * why the job cannot start there now. `--json` prints the API's answer. A job that is not PENDING is the API's 409,
 * printed on stderr with exit code 1. The report's formatting is loaded only when this command runs.
 */
import type { Command } from 'commander';
import { answer } from '../api-answer.js';
import { runAction, clientFor, withCommonOptions, type CommonOptions } from '../command-context.js';
import { printJson } from '../print-json.js';

export function whyCommand(program: Command): void {
  withCommonOptions(
    program
      .command('why')
      .argument('<id>', 'the job')
      .description(
        'why a pending job waits: its reason, the jobs ahead, each node, its expected start (squeue --start)',
      ),
  ).action((id: string, options: CommonOptions) =>
    runAction(async () => {
      const why = await answer(clientFor(options).GET('/v1/jobs/{id}/why', { params: { path: { id } } }));
      if (options.json) return printJson(why);
      process.stdout.write((await import('../why-report.js')).whyReport(why));
    }),
  );
}
