/**
 * `conductor up|api|node|migrate`: the programs `npm start`, `npm run node` and `npm run migrate` run, each in a child
 * process under tsx (as those scripts run them) with this terminal: they read their settings from the environment
 * (README "Configuration"), and a Ctrl-C reaches them directly, as it reaches the whole foreground group; this
 * process exits with their code. `up` is the embedded default, an API with a node daemon of its own; `api` is the
 * API alone (CONDUCTOR_LOCAL_NODE=off).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { runAction } from '../command-context.js';

const ENTRY_POINTS = [
  {
    name: 'up',
    program: 'api/hosts/node/main.ts',
    description: 'run the API with a node daemon on this machine (npm start)',
  },
  {
    name: 'api',
    program: 'api/hosts/node/main.ts',
    description: 'run the API alone, no node daemon in it',
    env: { CONDUCTOR_LOCAL_NODE: 'off' },
  },
  { name: 'node', program: 'worker-node/main.ts', description: 'run a node daemon (npm run node)' },
  {
    name: 'migrate',
    program: 'shared/db/migrate-cli.ts',
    description: 'apply the database migrations (npm run migrate)',
  },
] as const;

export function entryPointCommands(program: Command): void {
  for (const entry of ENTRY_POINTS) {
    program
      .command(entry.name)
      .description(entry.description)
      .action(() =>
        runAction(() => {
          const child = spawn(process.execPath, ['--import', 'tsx', join(packageRoot(), entry.program)], {
            stdio: 'inherit',
            env: { ...process.env, ...('env' in entry ? entry.env : {}) },
          });
          // The child stops itself on SIGINT/SIGTERM (gracefully; at once on a second one) and this process waits for
          // it. A Ctrl-C reaches the child already, as the whole foreground group gets it: passing it on would be the
          // second. A SIGTERM is sent to this process alone (kill PID, a service manager): passed on.
          process.on('SIGINT', () => undefined);
          process.on('SIGTERM', () => child.kill('SIGTERM'));
          return new Promise<number>((resolve) =>
            child.on('exit', (code, signal) => resolve(code ?? 128 + signalNumber(signal))),
          );
        }),
      );
  }
}

/** The checkout this command runs from (the directory with package.json above this module, or above its bundle). */
function packageRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error('no package.json above the conductor command');
  }
}

const signalNumber = (signal: NodeJS.Signals | null) => (signal === 'SIGINT' ? 2 : signal === 'SIGKILL' ? 9 : 15);
