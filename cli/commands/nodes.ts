/** `conductor nodes`: sinfo. One row per partition and node: its state and CPUs allocated/idle/other/total. */
import type { Command } from 'commander';
import { answer } from '../api-answer.js';
import { runAction, clientFor, withCommonOptions, type CommonOptions } from '../command-context.js';
import { coloured, printJson, table } from '../output.js';

export function nodesCommand(program: Command): void {
  withCommonOptions(program.command('nodes').description('list nodes by partition (sinfo)')).action(
    (options: CommonOptions) =>
      runAction(async () => {
        const { nodes } = await answer(clientFor(options).GET('/v1/nodes'));
        if (options.json) return printJson(nodes);
        const rows = nodes.flatMap((node) => {
          // sinfo's A/I/O/T: CPUs of a draining or down node that no job holds are "other", not idle.
          const allocated = node.state === 'DOWN' ? 0 : node.cpus_allocated;
          const idle = node.state === 'UP' ? node.cpus - node.cpus_allocated : 0;
          const cpus = `${allocated}/${idle}/${node.cpus - allocated - idle}/${node.cpus}`;
          const memory = `${node.memory_allocated_mb}/${node.memory_mb}`;
          return node.partitions.map((partition) => [partition, coloured(node.state), cpus, memory, node.name]);
        });
        rows.sort((a, b) => String(a[0]).localeCompare(String(b[0])));
        process.stdout.write(`${table(['PARTITION', 'STATE', 'CPUS(A/I/O/T)', 'MEMORY(A/T MB)', 'NODELIST'], rows)}\n`);
      }),
  );
}
