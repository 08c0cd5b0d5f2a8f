import { createRoute, type z } from '@hono/zod-openapi';
import type { JobRow, RunUsageRow } from '../../../shared/db/schema.js';
import { formatExitCode } from '../../../shared/job/exit-code.js';
import { formatOriginalTimeLimit } from '../../../shared/job/original-time-limit.js';
import { formatDuration } from '../../../shared/job/time-limit.js';
import { LogStoreUnavailable, type LogStore } from '../../../shared/logs/log-store.js';
import type { App } from '../../app-env.js';
import { accountScope } from '../../auth/principal.js';
import { requirePrincipal } from '../../auth/require-principal.js';
import { findJob } from '../../jobs/find-job.js';
import { latestRunUsage } from '../../jobs/run-usage.js';
import { accountingView } from '../v1/jobs/job-view.js';
import { originalJobLog } from '../../jobs/original-job-log.js';
import { originalValidationResponse, problemResponses } from '../../http/problem.js';
import { originalState, originalTimestamp } from './original-format.js';
import { originalJobId, OriginalJobIdParam, originalPath } from './original-path.js';
import { QueryResponse } from './schema.js';

const route = createRoute({
  method: 'get',
  path: '/jobs/query/{job_id}',
  tags: ['Original'],
  summary: 'Query a job (original path and shape)',
  security: [{ bearer: [] }],
  middleware: [originalPath, requirePrincipal('admin', 'user')] as const,
  request: { params: OriginalJobIdParam },
  responses: {
    200: { description: 'The job', content: { 'application/json': { schema: QueryResponse } } },
    ...problemResponses(401, 403, 404),
    ...originalValidationResponse,
  },
});

type QueryAnswer = z.infer<typeof QueryResponse>;

// What the original wrote as the exit code of a job it cancelled (api/services/job_service.py): here, of one
// cancelled before it ran, which has none of its own.
const CANCELLED_EXIT = '-1:15';

export function registerOriginalQuery(app: App): void {
  app.openapi(route, async (c) => {
    const { db } = c.var;
    const { now, logs, clusterId } = c.var.services;
    const id = originalJobId(c.req.valid('param').job_id);
    const job = await findJob(db, id, accountScope(c.var.principal));
    const usage = (await latestRunUsage(db, [job.id])).get(job.id);
    return c.json(queryView(job, await jobLog(logs, job, await clusterId(db)), now(), usage), 200);
  });
}

/**
 * The output as the original's log reader gave it: text, or, when it cannot be read, the original's bracketed error
 * line in its place; a store that is away costs the query its log, not its answer.
 */
async function jobLog(logs: LogStore | undefined, job: JobRow, cluster: string): Promise<QueryAnswer['job_log']> {
  const unreadable = (why: string) => ({ stdout: `[读取日志文件出错: ${why}]`, stderr: `[读取日志文件出错: ${why}]` });
  if (job.outputPurgedAt) return unreadable('the output was deleted past its retention');
  if (!logs) return unreadable('this API has no log store configured');
  return originalJobLog(logs, job, cluster).catch((error: Error) => {
    if (error instanceof LogStoreUnavailable) return unreadable('the log store did not answer');
    throw error;
  });
}

function queryView(
  job: JobRow,
  jobLog: QueryAnswer['job_log'],
  now: Date,
  usage: RunUsageRow | undefined,
): QueryAnswer {
  const elapsedMs = job.startTime === null ? 0 : (job.endTime ?? now).getTime() - job.startTime.getTime();
  const state = originalState(job.state);
  return {
    job_id: String(job.id),
    state,
    slurm_state: job.state,
    error_msg: state === job.state ? job.errorMsg : `${job.state}: ${job.errorMsg ?? 'the job did not complete'}`,
    time: {
      submit_time: originalTimestamp(job.submitTime),
      eligible_time: originalTimestamp(job.eligibleTime),
      start_time: job.startTime && originalTimestamp(job.startTime),
      end_time: job.endTime && originalTimestamp(job.endTime),
      elapsed_time: formatDuration(elapsedMs / 1000),
      limit_time: formatOriginalTimeLimit(job.timeLimitSeconds),
    },
    job_log: jobLog,
    detail: {
      job_name: job.name,
      user: job.account,
      partition: job.partition,
      allocated_cpus: job.cpus,
      allocated_nodes: 1,
      node_list: job.nodeName ?? '',
      exit_code: formatExitCode(job.exitStatus, job.exitSignal) ?? (job.state === 'CANCELLED' ? CANCELLED_EXIT : ':'),
      work_dir: job.workDir ?? '',
      data_source: 'API',
      account: job.account,
      // Added, where the original's detail allows unknown fields: as GET /v1/jobs/{id} shows them.
      ...accountingView(job, usage),
    },
  };
}
