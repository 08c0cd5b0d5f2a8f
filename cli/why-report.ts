/**
 * The why answer as `conductor why` prints it: scontrol-style Key=Value lines for the job (its reason, its place, its
 * expected start as squeue --start's START_TIME and SCHEDNODES, the account limit that holds it), then a table of the
 * jobs ahead and one of its partition's nodes, each with why the job cannot start there now.
 */
import type { components } from '../sdk/index.js';
import { table } from './output.js';

type Why = components['schemas']['WhyPending'];

export function whyReport(why: Why): string {
  const start = why.expected_start;
  const lines = [
    `JobId=${why.job_id} Partition=${why.partition} JobState=${why.state} Reason=${why.reason}`,
    `   ReasonDetail=${why.reason_detail}`,
    `   Position=${why.queue.position} JobsAhead=${why.queue.ahead}`,
    `   StartTime=${start.time ?? 'N/A'} SchedNodeList=${start.node ?? '(null)'}`,
  ];
  if (start.note) lines.push(`   StartNote=${start.note}`);
  if (why.account_limit) {
    const { reason, limit, in_use: inUse, unit } = why.account_limit;
    lines.push(`   AccountLimit=${reason} Limit=${limit ?? 'none'} InUse=${inUse} Unit=${unit}`);
  }
  const out = [`${lines.join('\n')}\n`];
  if (why.queue.jobs_ahead.length > 0) {
    const shown = why.queue.jobs_ahead.length < why.queue.ahead ? ` (first ${why.queue.jobs_ahead.length})` : '';
    out.push(`\nJobs ahead${shown}:\n`);
    out.push(
      `${table(
        ['JOBID', 'PRIORITY', 'CPUS', 'MEMORY', 'TIME_LIMIT', 'ACCOUNT', 'USER', 'NAME'],
        why.queue.jobs_ahead.map((job) => [
          job.id,
          job.priority,
          job.cpus,
          job.memory_per_node,
          job.time_limit,
          job.owner,
          job.user ?? '-',
          job.name ?? '-',
        ]),
      )}\n`,
    );
  }
  out.push(
    why.nodes.length === 0
      ? `\nNo node serves partition ${why.partition}.\n`
      : `\nNodes of partition ${why.partition}:\n${table(
          ['NODE', 'STATE', 'WHY NOT NOW', 'FREE_CPUS', 'FREE_MEM_MB', 'FREES_AT', 'DETAIL'],
          why.nodes.map((node) => [
            node.name,
            node.state,
            node.verdict,
            `${node.free_cpus}/${node.cpus}`,
            `${node.free_memory_mb}/${node.memory_mb}`,
            node.frees_at ?? '-',
            node.detail,
          ]),
        )}\n`,
  );
  return out.join('');
}
