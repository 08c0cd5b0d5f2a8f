/** `conductor tokens create|list|revoke`: the API's tokens (an admin's). A new token's secret is shown once. */
import type { Command } from 'commander';
import { answer } from '../api-answer.js';
import { UsageError } from '../cli-error.js';
import { runAction, clientFor, withCommonOptions, type CommonOptions } from '../command-context.js';
import { table } from '../output.js';
import { printJson } from '../print-json.js';

interface CreateOptions extends CommonOptions {
  kind: 'admin' | 'user' | 'node';
  account?: string;
  user?: string;
  node?: string;
  partitions?: string;
}

export function tokensCommand(program: Command): void {
  const tokens = program.command('tokens').description('make, list and revoke API tokens (admin)');
  withCommonOptions(
    tokens
      .command('create')
      .argument('<name>', 'what it is for ("alice laptop")')
      .description('make a token; its secret is printed once')
      .option('--kind <kind>', 'admin, user or node', 'user')
      .option('--account <account>', "a user token's account")
      .option('--user <user>', "a user token's Unix user")
      .option('--node <node>', "a node token's node")
      .option('--partitions <list>', "a node token's partitions, comma-separated"),
  ).action((name: string, options: CreateOptions) =>
    runAction(async () => {
      if (!['admin', 'user', 'node'].includes(options.kind))
        throw new UsageError(`--kind ${options.kind}: admin, user or node`);
      const body = {
        name,
        kind: options.kind,
        ...(options.account ? { account: options.account } : {}),
        ...(options.user ? { user: options.user } : {}),
        ...(options.node ? { node: options.node } : {}),
        ...(options.partitions ? { partitions: options.partitions.split(',') } : {}),
      };
      const created = await answer(clientFor(options).POST('/v1/tokens', { body }));
      if (options.json) return printJson(created);
      process.stdout.write(`${created.token}\n`);
      process.stderr.write(
        `token ${created.id} (${created.kind} "${created.name}"): keep it now, it is not shown again\n`,
      );
    }),
  );
  withCommonOptions(tokens.command('list').description('list tokens')).action((options: CommonOptions) =>
    runAction(async () => {
      const list = await answer(clientFor(options).GET('/v1/tokens'));
      if (options.json) return printJson(list.tokens);
      const rows = list.tokens.map((token) => [
        token.id,
        token.name,
        token.kind,
        token.account ?? '',
        token.user ?? '',
        token.node ?? '',
        token.created_at,
        token.revoked_at ?? '',
      ]);
      process.stdout.write(`${table(['ID', 'NAME', 'KIND', 'ACCOUNT', 'USER', 'NODE', 'CREATED', 'REVOKED'], rows)}\n`);
    }),
  );
  withCommonOptions(tokens.command('revoke').argument('<id>').description('revoke a token')).action(
    (id: string, options: CommonOptions) =>
      runAction(async () => {
        const result = await answer(clientFor(options).DELETE('/v1/tokens/{id}', { params: { path: { id } } }));
        if (options.json) return printJson(result);
        process.stdout.write(`token ${id}: revoked\n`);
      }),
  );
}
