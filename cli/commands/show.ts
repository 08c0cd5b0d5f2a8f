/** `conductor show ID`: scontrol show job. The job's fields as `Key=Value` lines, then its events. */
import type { Command } from 'commander';
import { answer } from '../api-answer.js';
import { runAction, clientFor, withCommonOptions, type CommonOptions } from '../command-context.js';
import { runSeconds, squeueTime } from '../../shared/job/squeue-display.js';
import { coloured, table } from '../output.js';
import { printJson } from '../print-json.js';

export function showCommand(program: Command): void {
  withCommonOptions(
    program.command('show').argument('<id>', 'the job').description('show a job and its events (scontrol show job)'),
  ).action((id: string, options: CommonOptions) =>
    runAction(async () => {
      const client = clientFor(options);
      const params = { params: { path: { id } } };
      const [job, events] = await Promise.all([
        answer(client.GET('/v1/jobs/{id}', params)),
        answer(client.GET('/v1/jobs/{id}/events', params)),
      ]);
      if (options.json) return printJson({ job, events: events.events });
      const exit = job.exit_code ? `${job.exit_code.status ?? 0}:${job.exit_code.signal ?? 0}` : '';
      const lines = [
        [
          ['JobId', job.id],
          // As scontrol shows an array's task.
          ...(job.array_job_id === null
            ? []
            : [
                ['ArrayJobId', job.array_job_id],
                ['ArrayTaskId', job.array_task_id],
              ]),
          ['JobName', job.name],
        ],
        [
          ['UserId', job.user ?? '-'],
          ['Account', job.account],
          ['SubmittedBy', job.submitted_by],
        ],
        [
          ['Priority', job.priority],
          ['Partition', job.partition],
          ['Requeue', job.requeue ? 1 : 0],
          // As SLURM_RESTART_COUNT: the starts after the first; a retried job waiting to start again counts its retry.
          ['Restarts', job.state === 'PENDING' ? job.attempt : Math.max(0, job.attempt - 1)],
        ],
        [
          ['JobState', coloured(job.state)],
          ['Reason', job.reason ?? 'None'],
          // As scontrol's: the conditions that remain (squeue's %E), (null) when none.
          ['Dependency', job.dependency ?? '(null)'],
          ['ExitCode', exit],
        ],
        [
          ['RunTime', squeueTime(runSeconds(job))],
          ['TimeLimit', job.time_limit],
        ],
        [
          ['SubmitTime', job.submit_time],
          ['EligibleTime', job.eligible_time],
        ],
        [
          ['StartTime', job.start_time ?? 'Unknown'],
          ['EndTime', job.end_time ?? 'Unknown'],
        ],
        [
          ['NodeList', job.node ?? '(null)'],
          ['NumCPUs', job.cpus],
          ['NumTasks', job.ntasks_per_node],
          ['CPUs/Task', job.cpus_per_task],
          ['CPU_IDs', job.cpu_ids?.join(',') ?? ''],
        ],
        [
          ['MinMemoryNode', job.memory_per_node],
          ['Exclusive', job.exclusive ? 1 : 0],
          ['OpenMode', job.open_mode],
          ['Signal', job.signal ?? ''],
        ],
        [['WorkDir', job.current_working_directory ?? "(the job's own directory)"]],
        [['StdOut', job.standard_output]],
        [['StdErr', job.standard_error]],
      ];
      const out = lines.map((pairs) => `   ${pairs.map(([key, value]) => `${key}=${value}`).join(' ')}`);
      if (job.reason_detail) out.push(`   ReasonDetail=${job.reason_detail}`);
      if (job.error_msg) out.push(`   Error=${job.error_msg}`);
      for (const warning of job.warnings) out.push(`   Warning=${warning}`);
      process.stdout.write(`${out.join('\n').trimStart()}\n\n`);
      const rows = events.events.map((event) => [
        event.at,
        event.attempt,
        coloured(event.to_state),
        event.actor,
        // A hold, release or update says what it changed.
        [
          event.reason ?? '',
          ...Object.entries(event.changes ?? {}).map(
            ([field, { from, to }]) => `${field} ${String(from)} -> ${String(to)}`,
          ),
        ]
          .filter((part) => part !== '')
          .join('; '),
      ]);
      process.stdout.write(`${table(['TIME', 'ATTEMPT', 'STATE', 'BY', 'REASON'], rows)}\n`);
    }),
  );
}
