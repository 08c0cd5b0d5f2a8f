import { createRoute, z } from '@hono/zod-openapi';
import { isTerminal } from '../../../../shared/job/job-state.js';
import { readRange } from '../../../../shared/logs/log-reader.js';
import { LOG_STREAMS, MAX_CHUNK_BYTES } from '../../../../shared/logs/log-store.js';
import type { App } from '../../../app-env.js';
import { accountScope } from '../../../auth/principal.js';
import { requirePrincipal } from '../../../auth/require-principal.js';
import { ApiStopping, LogsNotConfigured, OutputExpired, ValidationFailed } from '../../../http/errors.js';
import { problemResponses } from '../../../http/problem.js';
import { findJob } from '../../../jobs/find-job.js';
import { followStream } from '../../../jobs/follow-output.js';
import { guardFollow } from '../../../follows/follow-guard.js';
import { mergedIntoStdout, streamOf, tailStart } from '../../../jobs/job-output.js';
import { JobIdParam } from './schema.js';

const DEFAULT_LIMIT = 2 ** 20;
const MAX_TAIL_LINES = 100_000;

/** A whole number from min to max, in digits: an empty or signed value is refused, not read as 0. */
const whole = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,16}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const LogParams = JobIdParam.extend({
  stream: z.enum(LOG_STREAMS, 'must be stdout or stderr').openapi({ param: { name: 'stream', in: 'path' } }),
});

const LogQuery = z.object({
  offset: whole(0, Number.MAX_SAFE_INTEGER)
    .optional()
    .openapi({ description: 'The byte to start at (0 by default): the next offset of an earlier read resumes it.' }),
  limit: whole(1, MAX_CHUNK_BYTES)
    .optional()
    .openapi({
      description: `At most this many bytes (1 MiB by default, at most ${MAX_CHUNK_BYTES}); not with follow.`,
    }),
  tail_lines: whole(1, MAX_TAIL_LINES)
    .optional()
    .openapi({ description: 'Start at the last N lines instead of an offset (looking back at most 64 MiB).' }),
  tail_bytes: whole(1, MAX_CHUNK_BYTES)
    .optional()
    .openapi({ description: 'Start at the last N bytes instead of an offset.' }),
  follow: z
    .enum(['true', 'false', '1', '0'], 'must be true or false')
    .optional()
    .openapi({ description: 'Keep the answer open and send output as it is stored, until the attempt ends.' }),
  attempt: whole(1, 1_000_000).optional().openapi({ description: "Which attempt's output (the latest by default)." }),
});

const HEADERS = {
  'Conductor-Log-Offset': { schema: { type: 'integer' as const }, description: 'Where in the stream the body starts.' },
  'Conductor-Next-Offset': {
    schema: { type: 'integer' as const },
    description: 'Where the next read starts (not sent with follow: there it is the start plus the bytes received).',
  },
  'Conductor-Log-Complete': {
    schema: { type: 'boolean' as const },
    description: 'true once the attempt has ended and the body reaches the end of its output: nothing more will come.',
  },
  'Conductor-Attempt': { schema: { type: 'integer' as const }, description: 'The attempt whose output this is.' },
  'Conductor-Log-Merged': {
    schema: { type: 'string' as const, enum: ['stdout'] },
    description:
      "Only on stderr, with an empty body: the job's stdout and stderr name one file (sbatch's default, slurm-%j.out), stored once, as stdout: read it there.",
  },
};

const route = createRoute({
  method: 'get',
  path: '/v1/jobs/{id}/logs/{stream}',
  tags: ['Jobs'],
  summary: "A job's stdout or stderr: a byte range, a tail, or followed live",
  description:
    "Raw bytes, exactly as the job wrote them, from the log store its node ships them to. A range read answers the next offset; with follow the answer stays open and streams the output as it arrives until the attempt ends. After a disconnect, follow again from the offset you had reached. A token holds at most CONDUCTOR_MAX_FOLLOWS open follows across the deployment (429 with Retry-After past that); an open follow ends, broken, once its token is revoked. Output still on its node (shipped every fraction of a second) is not there yet; a job's whole output is stored before its end is reported. When stdout and stderr name one file (sbatch's default), its output is stored once, as stdout: stderr answers 200 with an empty body and `Conductor-Log-Merged: stdout`, followed or not. A finished job's output is kept CONDUCTOR_OUTPUT_RETENTION_DAYS after its end, then deleted: 410 `output_expired` since.",
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  request: { params: LogParams, query: LogQuery },
  responses: {
    200: {
      description: 'The output',
      headers: HEADERS,
      content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } },
    },
    ...problemResponses(401, 403, 404, 410, 422, 429, 503),
  },
});

export function registerJobLogs(app: App): void {
  app.openapi(route, async (c) => {
    const { db } = c.var;
    const { logs: store, logPollMs, closing } = c.var.services;
    const params = c.req.valid('param');
    const query = c.req.valid('query');
    const follow = query.follow === 'true' || query.follow === '1';
    const conflicts = [
      query.tail_lines !== undefined && query.tail_bytes !== undefined && 'tail_bytes',
      (query.tail_lines !== undefined || query.tail_bytes !== undefined) && query.offset !== undefined && 'offset',
      follow && query.limit !== undefined && 'limit',
    ].filter((field): field is string => field !== false);
    if (conflicts.length) {
      throw new ValidationFailed(
        conflicts.map((field) => ({
          field,
          message:
            field === 'limit'
              ? 'cannot be given with follow, which sends everything'
              : 'give one of offset, tail_lines and tail_bytes',
        })),
      );
    }
    const scope = accountScope(c.var.principal);
    const job = await findJob(db, params.id, scope);
    if (job.outputPurgedAt) throw new OutputExpired(job.id, job.outputPurgedAt);
    if (!store) throw new LogsNotConfigured();
    // A PENDING job's next attempt can be followed before it starts; what has run can be read.
    const latest = follow && job.state === 'PENDING' ? job.attempt + 1 : job.attempt;
    const attempt = query.attempt ?? latest;
    if (attempt > latest) {
      throw new ValidationFailed([
        {
          field: 'attempt',
          message: `job ${job.id} has had ${job.attempt} attempt(s)${follow && job.state === 'PENDING' ? ', and its next can be followed' : ''}`,
        },
      ]);
    }
    const id = await streamOf(store, job, params.stream, await c.var.services.clusterId(db), attempt);
    if (params.stream === 'stderr' && (await mergedIntoStdout(store, job, id))) {
      // Nothing is or will be stored here, followed or not: the whole file is stdout's.
      const offset = query.offset ?? 0;
      outputHeaders(c, attempt, offset);
      c.header('Conductor-Log-Merged', 'stdout');
      c.header('Conductor-Next-Offset', String(offset));
      c.header('Conductor-Log-Complete', 'true');
      return c.body(new Uint8Array(0), 200);
    }
    const offset =
      query.tail_lines !== undefined
        ? await tailStart(store, id, { lines: query.tail_lines })
        : query.tail_bytes !== undefined
          ? await tailStart(store, id, { bytes: query.tail_bytes })
          : (query.offset ?? 0);
    if (follow && closing?.aborted) throw new ApiStopping();
    const limit = query.limit ?? DEFAULT_LIMIT;
    const body = follow
      ? followStream({
          store,
          id,
          offset,
          reload: () => findJob(db, job.id, scope),
          pollMs: logPollMs,
          chunkBytes: DEFAULT_LIMIT,
          closing,
          // Last before the answer, so that nothing after it can fail and leave the slot taken.
          ...(await guardFollow(c)),
        })
      : await readRange(store, id, offset, limit);
    // Set only now: an error answer carries none of them.
    outputHeaders(c, attempt, offset);
    if (body instanceof ReadableStream) {
      // Chunked from the first byte: the Node server would otherwise read the stream to measure it, and an error in
      // that while would reach the client as a short, clean answer.
      c.header('Transfer-Encoding', 'chunked');
      return c.body(body, 200);
    }
    const { bytes, next } = body;
    // Complete: the attempt is over (so all its output is stored) and this read stopped short of its limit, at the end.
    const complete = (isTerminal(job.state) || job.attempt > attempt) && bytes.length < limit;
    c.header('Conductor-Next-Offset', String(next));
    c.header('Conductor-Log-Complete', String(complete));
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200);
  });
}

/** What every output answer says: whose output, from where, and that it is raw bytes never to be cached. */
function outputHeaders(c: { header(name: string, value: string): void }, attempt: number, offset: number): void {
  c.header('Conductor-Attempt', String(attempt));
  c.header('Conductor-Log-Offset', String(offset));
  c.header('Content-Type', 'application/octet-stream');
  // No proxy may hold the bytes back, nor a cache keep a running job's output.
  c.header('Cache-Control', 'no-store');
  c.header('X-Content-Type-Options', 'nosniff');
}
