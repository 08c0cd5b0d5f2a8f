/**
 * `conductor login URL [--token T] [--name NAME]`: checks the token against the API, then keeps it in the config
 * file (config-file.ts, 0600) as cluster NAME (the URL's host by default), made the current one. The token comes
 * from --token, else CONDUCTOR_TOKEN, else the first line of standard input (so that it need not be in the shell's
 * history: `conductor login URL < token-file`).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { createConductorClient } from '../../sdk/index.js';
import { answer } from '../api-answer.js';
import { UsageError } from '../cli-error.js';
import { runAction } from '../command-context.js';
import { configPath, readConfigFile, writeConfigFile } from '../config-file.js';
import { printJson } from '../print-json.js';

export function loginCommand(program: Command): void {
  program
    .command('login')
    .argument('<url>', "the API's URL")
    .description('check a token and keep it in the config file for this URL')
    .option('--token <token>', 'the token (else CONDUCTOR_TOKEN, else a line of stdin)')
    .option('--name <name>', "the cluster's name in the config file (the URL's host by default)")
    .option('--json', 'print JSON for scripts')
    .action((url: string, options: { token?: string; name?: string; json?: boolean }) =>
      runAction(async () => {
        let host: string;
        try {
          host = new URL(url).hostname;
        } catch {
          throw new UsageError(`${url} is not a URL`);
        }
        const token = options.token ?? process.env.CONDUCTOR_TOKEN ?? readTokenFromStdin();
        const name = options.name ?? host;
        // Any token may list jobs (a user token its own): a token the API does not take is refused here, not stored.
        await answer(createConductorClient({ url, token }).GET('/v1/jobs', { params: { query: { limit: 1 } } }));
        const path = configPath(process.env);
        const file = readConfigFile(path);
        writeConfigFile(path, { current: name, clusters: { ...file.clusters, [name]: { url, token } } });
        if (options.json) return printJson({ cluster: name, url, config: path });
        process.stdout.write(`logged in to ${url} as cluster "${name}" (${path})\n`);
      }),
    );
}

function readTokenFromStdin(): string {
  if (process.stdin.isTTY) throw new UsageError('give the token: --token T, CONDUCTOR_TOKEN, or on standard input');
  const token = readFileSync(0, 'utf8').split('\n')[0]!.trim();
  if (!token) throw new UsageError('no token on standard input');
  return token;
}
