/**
 * What every command shares: the options naming the API (`--url`, `--token`, `--cluster`/`-M`), `--json`, and the
 * run of its action, whose errors become one line on stderr and an exit code (cli-error.ts), in one place.
 */
import type { Command } from 'commander';
import { createConductorClient, type ConductorClient } from '../sdk/index.js';
import { describeError } from './cli-error.js';
import { resolveClientConfig, type ClientFlags } from './client-config.js';

export interface CommonOptions extends ClientFlags {
  json?: boolean;
}

/** Adds the common options to a command. */
export function withCommonOptions(command: Command): Command {
  return command
    .option('--url <url>', 'the API (else CONDUCTOR_URL, the config file, http://127.0.0.1:8080)')
    .option('--token <token>', 'the token (else CONDUCTOR_TOKEN, the config file, ./.conductor/admin-token)')
    .option('-M, --cluster <name>', 'a cluster from the config file (conductor login)')
    .option('--json', 'print JSON for scripts');
}

/** The SDK's client for the options given. */
export function clientFor(options: ClientFlags): ConductorClient {
  const config = resolveClientConfig(options, process.env);
  return createConductorClient({ url: config.url, token: config.token });
}

/** Runs a command's action: its result is the exit code (0 when none); an error is one line and its code. */
export async function runAction(action: () => Promise<number | void>): Promise<void> {
  try {
    process.exitCode = (await action()) ?? 0;
  } catch (error) {
    const { message, exitCode } = describeError(error);
    process.stderr.write(`conductor: ${message}\n`);
    process.exitCode = exitCode;
  }
}
