/**
 * `conductor seff ID`: Slurm's seff. How much of what the job asked for its latest run used: CPU time against wall
 * time × its cores, max RSS against its memory (GET /v1/jobs/{id}: usage and efficiency). `--json` prints those two
 * as the API answers them.
 */
import type { Command } from 'commander';
import { answer } from '../api-answer.js';
import { runAction, clientFor, withCommonOptions, type CommonOptions } from '../command-context.js';
import { printJson } from '../print-json.js';
import { seffReport } from '../seff-report.js';

export function seffCommand(program: Command): void {
  withCommonOptions(
    program.command('seff').argument('<id>', 'the job').description("a job's CPU and memory efficiency (seff)"),
  ).action((id: string, options: CommonOptions) =>
    runAction(async () => {
      const job = await answer(clientFor(options).GET('/v1/jobs/{id}', { params: { path: { id } } }));
      if (options.json) return printJson({ job_id: job.id, usage: job.usage, efficiency: job.efficiency });
      process.stdout.write(seffReport(job));
    }),
  );
}
