import { createRoute, type z } from '@hono/zod-openapi';
import type { JobRow } from '../../../shared/db/schema.js';
import { formatExitCode } from '../../../shared/job/exit-code.js';
import { LogStoreUnavailable, type LogStore } from '../../../shared/logs/log-store.js';
import { formatDuration, formatTimeLimit } from '../../../shared/job/time-limit.js';
import type { App } from '../../app-env.js';
import { accountScope } from '../../auth/principal.js';
import { requirePrincipal } from '../../auth/require-principal.js';
import { findJob } from '../../jobs/find-job.js';
import { originalJobLog } from '../../jobs/original-job-log.js';
import { problemResponses } from '../../http/problem.js';
import { OriginalJobIdParam, QueryResponse } from './schema.js';

const route = createRoute({
  method: 'get',
  path: '/jobs/query/{job_id}',
  tags: ['Original'],
  summary: 'Query a job (original path and shape)',
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  request: { params: OriginalJobIdParam },
  responses: {
    200: { description: 'The job', content: { 'application/json': { schema: QueryResponse } } },
    ...problemResponses(401, 403, 404, 422),
  },
});

export function registerOriginalQuery(app: App): void {
  app.openapi(route, async (c) => {
    const { db } = c.var;
    const { now, logs } = c.var.services;
    const job = await findJob(db, Number(c.req.valid('param').job_id), accountScope(c.var.principal));
    return c.json(queryView(job, await jobLog(logs, job), now()), 200);
  });
}

/** The output when it can be read: a store that is away (or none at all) costs the query its log, not its answer. */
async function jobLog(logs: LogStore | undefined, job: JobRow): Promise<z.infer<typeof QueryResponse>['job_log']> {
  const none = { stdout: null, stderr: null };
  if (!logs) return none;
  return originalJobLog(logs, job).catch((error: Error) => {
    if (error instanceof LogStoreUnavailable) return none;
    throw error;
  });
}

function queryView(
  job: JobRow,
  jobLog: z.infer<typeof QueryResponse>['job_log'],
  now: Date,
): z.infer<typeof QueryResponse> {
  const running = job.startTime !== null && job.state === 'RUNNING';
  const elapsedMs = job.startTime === null ? 0 : (job.endTime ?? now).getTime() - job.startTime.getTime();
  const holdsNode = job.nodeName !== null && (running || job.endTime !== null);
  return {
    job_id: String(job.id),
    state: job.state,
    error_msg: job.errorMsg,
    time: {
      submit_time: job.submitTime.toISOString(),
      eligible_time: job.eligibleTime.toISOString(),
      start_time: job.startTime?.toISOString() ?? null,
      end_time: job.endTime?.toISOString() ?? null,
      elapsed_time: formatDuration(elapsedMs / 1000),
      limit_time: formatTimeLimit(job.timeLimitSeconds),
    },
    job_log: jobLog,
    detail: {
      job_name: job.name,
      user: job.submittedBy,
      partition: job.partition,
      allocated_cpus: holdsNode ? job.cpus : 0,
      allocated_nodes: holdsNode ? 1 : 0,
      node_list: job.nodeName ?? '',
      exit_code: formatExitCode(job.exitStatus, job.exitSignal) ?? '0:0',
      work_dir: job.workDir ?? '',
      data_source: 'database',
      account: job.account,
    },
  };
}
