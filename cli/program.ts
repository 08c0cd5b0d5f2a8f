/**
 * The command table (commander): every command's name, arguments, options and help, and its action. `submit` is in
 * it for `conductor help` and `completion`; main.ts runs `conductor submit …` without loading this table.
 */
import { Command, CommanderError } from 'commander';
import { runAction } from './command-context.js';
import { accountsCommand } from './commands/accounts.js';
import { cancelCommand } from './commands/cancel.js';
import { completionCommand } from './commands/completion.js';
import { entryPointCommands } from './commands/entry-points.js';
import { historyCommand } from './commands/history.js';
import { seffCommand } from './commands/seff.js';
import { holdCommands } from './commands/hold.js';
import { loginCommand } from './commands/login.js';
import { logsCommand } from './commands/logs.js';
import { nodeStateCommands } from './commands/node-state.js';
import { nodesCommand } from './commands/nodes.js';
import { partitionsCommand } from './commands/partitions.js';
import { queueCommand } from './commands/queue.js';
import { showCommand } from './commands/show.js';
import { tokensCommand } from './commands/tokens.js';
import { updateCommand } from './commands/update.js';
import { whyCommand } from './commands/why.js';
import { EXIT_USAGE } from './exit-codes.js';

export async function runProgram(): Promise<void> {
  const program = new Command('conductor')
    .description('SCNS-Conductor from the command line: submit, watch and manage batch jobs')
    .addHelpText(
      'after',
      `
Which API: --url/--token, else CONDUCTOR_URL/CONDUCTOR_TOKEN, else the config file's cluster (conductor login;
-M/--cluster NAME), else the local instance (http://127.0.0.1:8080, ./.conductor/admin-token).
Exit codes: 0 ok, 1 the API refused, 2 usage, 3 the API unreachable; submit --wait: the job's (see the README).`,
    )
    // Usage errors exit 2 (commander's default is 1, which here means "the API refused").
    .exitOverride();

  program
    .command('submit')
    .description('submit a batch script (sbatch); conductor submit --help for its options')
    .argument('[script-and-args...]')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    // Reached only as `conductor help submit`'s way in: main.ts runs `conductor submit …` itself.
    .action(() =>
      runAction(async () =>
        (await import('./commands/submit.js')).submit(process.argv.slice(process.argv.indexOf('submit') + 1)),
      ),
    );
  queueCommand(program);
  showCommand(program);
  whyCommand(program);
  cancelCommand(program);
  holdCommands(program);
  updateCommand(program);
  logsCommand(program);
  historyCommand(program);
  seffCommand(program);
  nodesCommand(program);
  nodeStateCommands(program);
  partitionsCommand(program);
  tokensCommand(program);
  accountsCommand(program);
  loginCommand(program);
  entryPointCommands(program);
  completionCommand(program);

  try {
    await program.parseAsync();
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    process.exitCode = error.exitCode === 0 ? 0 : EXIT_USAGE;
  }
}
