/**
 * `conductor nodes`: sinfo. One row per partition and node: its state and CPUs allocated/idle/other/total. `-R`
 * (sinfo -R, --list-reasons): the nodes that are not UP or carry a drain reason, with the reason, who gave it and
 * when (REASON USER TIMESTAMP NODELIST).
 */
import type { Command } from 'commander';
import type { components } from '../../sdk/index.js';
import { answer } from '../api-answer.js';
import { runAction, clientFor, withCommonOptions, type CommonOptions } from '../command-context.js';
import { coloured, table } from '../output.js';
import { printJson } from '../print-json.js';

export function nodesCommand(program: Command): void {
  withCommonOptions(
    program
      .command('nodes')
      .description('list nodes by partition (sinfo)')
      .option('-R, --list-reasons', 'why nodes are drained or down (sinfo -R)'),
  ).action((options: CommonOptions & { listReasons?: boolean }) =>
    runAction(async () => {
      const { nodes } = await answer(clientFor(options).GET('/v1/nodes'));
      if (options.json) return printJson(nodes);
      if (options.listReasons) {
        process.stdout.write(`${reasonsTable(nodes)}\n`);
        return;
      }
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

type Node = components['schemas']['Node'];

/** sinfo -R's table: REASON USER TIMESTAMP NODELIST; sinfo's "none" and "Unknown" where nothing was kept. */
export function reasonsTable(nodes: readonly Node[]): string {
  const rows = nodes
    .filter((node) => node.state !== 'UP' || node.reason)
    .map((node) => [
      node.reason || (node.state === 'DOWN' ? 'Not responding' : 'none'),
      node.reason_set_by ?? 'Unknown',
      node.reason_set_at ? sinfoTime(node.reason_set_at) : 'Unknown',
      node.name,
    ]);
  return table(['REASON', 'USER', 'TIMESTAMP', 'NODELIST'], rows);
}

/** sinfo's timestamp: local time as YYYY-MM-DDTHH:MM:SS. */
function sinfoTime(iso: string): string {
  const at = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
}
