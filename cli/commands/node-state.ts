/**
 * `conductor drain NODE --reason TEXT` and `conductor resume NODE`: scontrol update NodeName=… State=DRAIN|RESUME.
 * A draining node takes no new job and its running ones go on. scontrol refuses a drain without a reason, and so does
 * this command (exit 2); the reason goes in the drain's body, `{ "reason": TEXT }` (at most 256 characters, checked
 * by the API), which the API keeps on the node as `reason`, `reason_set_by` and `reason_set_at` (`conductor nodes
 * -R`).
 */
import type { Command } from 'commander';
import { answer } from '../api-answer.js';
import { UsageError } from '../cli-error.js';
import { runAction, clientFor, withCommonOptions, type CommonOptions } from '../command-context.js';
import { printJson } from '../print-json.js';

export function nodeStateCommands(program: Command): void {
  withCommonOptions(
    program
      .command('drain')
      .argument('<node>')
      .description('stop giving a node new jobs (scontrol update State=DRAIN)')
      .requiredOption('--reason <text>', 'why (as scontrol requires)'),
  ).action((node: string, options: CommonOptions & { reason: string }) =>
    runAction(async () => {
      if (options.reason.trim() === '') throw new UsageError('drain: --reason must say why (as scontrol requires)');
      const result = await answer(
        clientFor(options).POST('/v1/nodes/{node}/drain', {
          params: { path: { node } },
          body: { reason: options.reason },
        }),
      );
      if (options.json) return printJson(result);
      process.stdout.write(`node ${node}: draining (${options.reason})\n`);
    }),
  );
  withCommonOptions(
    program
      .command('resume')
      .argument('<node>')
      .description('give a drained node jobs again (scontrol update State=RESUME)'),
  ).action((node: string, options: CommonOptions) =>
    runAction(async () => {
      const result = await answer(clientFor(options).POST('/v1/nodes/{node}/resume', { params: { path: { node } } }));
      if (options.json) return printJson(result);
      process.stdout.write(`node ${node}: resumed\n`);
    }),
  );
}
