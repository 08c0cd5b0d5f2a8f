/**
 * `conductor up|api|node|migrate`: the programs `npm start`, `npm run node` and `npm run migrate` run, started in
 * this process (each reads its settings from the environment; README "Configuration"). `up` is the embedded default,
 * an API with a node daemon of its own; `api` is the API alone (CONDUCTOR_LOCAL_NODE=off).
 */
import type { Command } from 'commander';

const ENTRY_POINTS = [
  {
    name: 'up',
    module: '../../api/hosts/node/main.ts',
    description: 'run the API with a node daemon on this machine (npm start)',
  },
  {
    name: 'api',
    module: '../../api/hosts/node/main.ts',
    description: 'run the API alone, no node daemon in it',
    env: { CONDUCTOR_LOCAL_NODE: 'off' },
  },
  { name: 'node', module: '../../worker-node/main.ts', description: 'run a node daemon (npm run node)' },
  {
    name: 'migrate',
    module: '../../shared/db/migrate-cli.ts',
    description: 'apply the database migrations (npm run migrate)',
  },
] as const;

export function entryPointCommands(program: Command): void {
  for (const entry of ENTRY_POINTS) {
    program
      .command(entry.name)
      .description(entry.description)
      .action(async () => {
        if ('env' in entry) Object.assign(process.env, entry.env);
        await import(entry.module);
      });
  }
}
