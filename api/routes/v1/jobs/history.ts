import { createRoute, z } from '@hono/zod-openapi';
import type { App } from '../../../app-env.js';
import { requirePrincipal } from '../../../auth/require-principal.js';
import { historyHeader, historyLine } from '../../../jobs/history-csv.js';
import { jobFilter } from '../../../jobs/job-filter-query.js';
import { listJobs, type JobFilter } from '../../../jobs/list-jobs.js';
import { problemResponses } from '../../../http/problem.js';
import type { Database } from '../../../../shared/db/database.js';
import { JobFilterQuery } from './schema.js';

/** Jobs read per query while the export streams: a big export holds one page in memory, not all of it. */
export const HISTORY_PAGE_SIZE = 500;

const route = createRoute({
  method: 'get',
  path: '/v1/jobs/history.csv',
  tags: ['Jobs'],
  summary: 'Export jobs as CSV, sacct-like, newest first',
  description:
    "The filters of GET /v1/jobs (ended_after and ended_before for finished jobs in a date range); a user token exports its own account's jobs only. Columns: JobID, JobName, User, Account, Partition, State, Submit, Start, End (UTC, ISO 8601), Elapsed and Wait ([D-]HH:MM:SS), ExitCode (status:signal), NCPUS, ReqMem, NodeList. A cell starting with = + - @, a tab or a CR is prefixed with a single quote, so that no spreadsheet runs it as a formula.",
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  request: { query: JobFilterQuery },
  responses: {
    200: {
      description: 'The jobs, one CSV line each after a header line',
      content: { 'text/csv': { schema: z.string() } },
    },
    ...problemResponses(401, 403, 422),
  },
});

export function registerJobHistory(app: App): void {
  app.openapi(route, async (c) => {
    const filter = jobFilter(c.req.valid('query'), c.var.principal);
    const now = c.var.services.now();
    // The first page is read before answering: a database that does not answer is a 503, not a cut-off file.
    const first = filter === undefined ? { jobs: [], next: null } : await listJobs(c.var.db, filter, HISTORY_PAGE_SIZE);
    c.header('Content-Type', 'text/csv; charset=utf-8; header=present');
    c.header('Content-Disposition', 'attachment; filename="jobs-history.csv"');
    c.header('Cache-Control', 'no-store');
    return c.body(historyStream(c.var.db, filter, first, now), 200);
  });
}

/** The CSV of `first` and every page after it, each page read when the reader wants more. */
function historyStream(
  db: Database,
  filter: JobFilter | undefined,
  first: Awaited<ReturnType<typeof listJobs>>,
  now: Date,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let page: Awaited<ReturnType<typeof listJobs>> | null = first;
  let header = true;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (page === null) return controller.close();
      const text = (header ? historyHeader() : '') + page.jobs.map((job) => historyLine(job, now)).join('');
      header = false;
      controller.enqueue(encoder.encode(text));
      const next = page.next;
      page =
        next === null || next.order !== 'newest' || filter === undefined
          ? null
          : await listJobs(db, filter, HISTORY_PAGE_SIZE, next.beforeId);
    },
  });
}
