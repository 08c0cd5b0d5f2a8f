/**
 * `conductor drain NODE --reason TEXT` and `conductor resume NODE`: scontrol update NodeName=… State=DRAIN|RESUME.
 * A draining node takes no new job and its running ones go on. scontrol wants a reason for a drain, and so does this
 * command; the API keeps it, with who drained and when, until the node is resumed (GET /v1/nodes shows them).
 */
import type { Command } from 'commander';
import { answer } from '../api-answer.js';
import { runAction, clientFor, withCommonOptions, type CommonOptions } from '../command-context.js';
import { printJson } from '../output.js';

export function nodeStateCommands(program: Command): void {
  withCommonOptions(
    program
      .command('drain')
      .argument('<node>')
      .description('stop giving a node new jobs (scontrol update State=DRAIN)')
      .requiredOption('--reason <text>', 'why (as scontrol requires)'),
  ).action((node: string, options: CommonOptions & { reason: string }) =>
    runAction(async () => {
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
