/**
 * `conductor partitions`: the configured partitions, one row each (sinfo -s, scontrol show partition), the default
 * one marked with `*` as sinfo marks it. `conductor partitions apply FILE`: partitions-apply.ts.
 */
import type { Command } from 'commander';
import { answer } from '../api-answer.js';
import { clientFor, runAction, withCommonOptions, type CommonOptions } from '../command-context.js';
import { coloured, table } from '../output.js';
import { printJson } from '../print-json.js';
import type { ApplyOptions } from './partitions-apply.js';

export function partitionsCommand(program: Command): void {
  const partitions = withCommonOptions(
    program.command('partitions').description('list partitions (sinfo -s); apply a slurm.conf file of them (admin)'),
  ).action((options: CommonOptions) =>
    runAction(async () => {
      const list = (await answer(clientFor(options).GET('/v1/partitions'))).partitions;
      if (options.json) return printJson(list);
      const rows = list.map((partition) => [
        `${partition.name}${partition.default ? '*' : ''}`,
        coloured(partition.state),
        partition.max_time,
        partition.default_time ?? '-',
        partition.max_cpus_per_job ?? '-',
        partition.max_memory_per_job ?? '-',
        partition.allow_accounts?.join(',') ?? 'ALL',
        partition.priority_tier,
        `${partition.nodes_up}/${partition.nodes}`,
        partition.cpus,
      ]);
      const head = ['PARTITION', 'STATE', 'TIMELIMIT', 'DEFAULTTIME', 'MAXCPUS', 'MAXMEM', 'ACCOUNTS', 'TIER'];
      process.stdout.write(`${table([...head, 'NODES(UP/T)', 'CPUS'], rows)}\n`);
    }),
  );
  withCommonOptions(
    partitions
      .command('apply')
      .argument('<file>', 'slurm.conf, or a file of its PartitionName= lines')
      .description('create or replace each partition the file names, through the API')
      .option('--dry-run', 'print what would be sent, send nothing'),
  ).action((file: string, options: ApplyOptions) =>
    // Loaded only for apply: listing is the common call.
    runAction(async () => (await import('./partitions-apply.js')).applyPartitions(file, options)),
  );
}
