/**
 * `conductor accounts`: accounts' limits and what they count now (sacctmgr show associations, with usage), and
 * `conductor accounts set NAME --max-running-cpus N …` (sacctmgr modify account … set GrpTRES=cpu=N): an admin's.
 * `set` changes only the limits it names, keeping the others (the API's PUT replaces them all, so it reads first);
 * `none` or -1 clears one, as sacctmgr's -1 does. `delete NAME` removes them all.
 */
import type { Command } from 'commander';
import type { components } from '../../sdk/index.js';
import { answer } from '../api-answer.js';
import { UsageError } from '../cli-error.js';
import { clientFor, runAction, withCommonOptions, type CommonOptions } from '../command-context.js';
import { table } from '../output.js';
import { printJson } from '../print-json.js';

type Account = components['schemas']['Account'];
type Limits = components['schemas']['AccountLimitsRequest'];

/** Each `set` flag, the limit it sets, and how its value is read. */
const LIMIT_FLAGS = [
  ['--max-running-cpus <n>', 'max_running_cpus', 'CPUs its running jobs may hold (GrpTRES=cpu)'],
  ['--max-running-jobs <n>', 'max_running_jobs', 'jobs it may run at once (GrpJobs)'],
  ['--max-pending-jobs <n>', 'max_pending_jobs', 'pending jobs it may have'],
  ['--max-submits-per-minute <n>', 'max_submits_per_minute', 'submits it may make in any minute'],
  [
    '--max-stored-output <bytes>',
    'max_stored_output_bytes',
    'job output it may keep stored: bytes, or 10K, 5M, 2G, 1T',
  ],
  ['--fairshare <shares>', 'fairshare_shares', 'its fair-share shares (Fairshare=)'],
] as const;

const BYTE_UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

export function accountsCommand(program: Command): void {
  const accounts = program.command('accounts').description("accounts' limits and usage (sacctmgr)");
  withCommonOptions(
    accounts.command('list', { isDefault: true }).description('list accounts with their limits and usage'),
  ).action((options: CommonOptions) =>
    runAction(async () => {
      const list = await answer(clientFor(options).GET('/v1/accounts'));
      if (options.json) return printJson(list.accounts);
      process.stdout.write(`${accountsTable(list.accounts)}\n`);
    }),
  );
  const set = accounts
    .command('set')
    .argument('<name>', 'the account')
    .description("set an account's limits (admin); the ones not named keep their values");
  for (const [flag, , help] of LIMIT_FLAGS) set.option(flag, `${help}; none: no limit`);
  withCommonOptions(set).action((name: string, options: CommonOptions & Record<string, string | undefined>) =>
    runAction(async () => {
      const client = clientFor(options);
      const given = changedLimits(options);
      if (Object.keys(given).length === 0) throw new UsageError('accounts set: name at least one limit to set');
      const current = await client.GET('/v1/accounts/{name}', { params: { path: { name } } });
      // An account nothing knows yet has no limits to keep.
      const kept = current.data ? limitsOf(current.data) : {};
      const body = { ...kept, ...given };
      const account = await answer(client.PUT('/v1/accounts/{name}', { params: { path: { name } }, body }));
      if (options.json) return printJson(account);
      process.stdout.write(`${accountsTable([account])}\n`);
    }),
  );
  withCommonOptions(
    accounts
      .command('delete')
      .argument('<name>', 'the account')
      .description("remove all of an account's limits (admin)"),
  ).action((name: string, options: CommonOptions) =>
    runAction(async () => {
      const account = await answer(clientFor(options).DELETE('/v1/accounts/{name}', { params: { path: { name } } }));
      if (options.json) return printJson(account);
      process.stdout.write(`account ${name}: limits removed\n`);
    }),
  );
}

/** The limits named on the command line, by their API names; `none` or -1 is null (no limit). */
function changedLimits(options: Record<string, string | undefined>): Limits {
  const limits: Record<string, number | null> = {};
  for (const [flag, field] of LIMIT_FLAGS) {
    const key = camel(flag.split(' ')[0]!.slice(2));
    const value = options[key];
    if (value === undefined) continue;
    limits[field] = readLimit(flag.split(' ')[0]!, value, field === 'max_stored_output_bytes');
  }
  return limits as Limits;
}

function readLimit(flag: string, value: string, bytes: boolean): number | null {
  if (value === 'none' || value === '-1') return null;
  const match = /^([0-9]+)([KMGT]?)$/i.exec(value.trim());
  if (!match || (!bytes && match[2] !== '')) {
    throw new UsageError(`${flag} ${value}: a whole number${bytes ? ' of bytes (or with K, M, G, T)' : ''}, or none`);
  }
  return Number(match[1]) * BYTE_UNITS[match[2]!.toUpperCase()]!;
}

function limitsOf(account: Account): Limits {
  return {
    max_running_cpus: account.max_running_cpus,
    max_running_jobs: account.max_running_jobs,
    max_pending_jobs: account.max_pending_jobs,
    max_submits_per_minute: account.max_submits_per_minute,
    max_stored_output_bytes: account.max_stored_output_bytes,
    fairshare_shares: account.fairshare_shares,
  };
}

/** One row per account: each limit as used/limit (`-` for none), as sshare and sacctmgr put them side by side. */
export function accountsTable(accounts: Account[]): string {
  const of = (used: number, limit: number | null) => `${used}/${limit ?? '-'}`;
  const rows = accounts.map((account) => [
    account.name,
    of(account.usage.running_cpus, account.max_running_cpus),
    of(account.usage.running_jobs, account.max_running_jobs),
    of(account.usage.pending_jobs, account.max_pending_jobs),
    account.usage.held_jobs,
    of(account.usage.submits_last_minute, account.max_submits_per_minute),
    of(account.usage.stored_output_bytes, account.max_stored_output_bytes),
    account.fairshare_shares,
  ]);
  return table(['ACCOUNT', 'RUN CPUS', 'RUN JOBS', 'PENDING', 'HELD', 'SUBMITS/MIN', 'STORED BYTES', 'SHARES'], rows);
}

const camel = (words: string) => words.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
