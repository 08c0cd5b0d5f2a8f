import { createRoute, z } from '@hono/zod-openapi';
import { SubmitRequest } from '../../../../shared/job/submit-request.js';
import type { App } from '../../../app-env.js';
import { requirePrincipal } from '../../../auth/require-principal.js';
import { jobView } from './job-view.js';
import { submitJob } from '../../../jobs/submit-job.js';
import { submitJobOnce } from '../../../jobs/idempotent-submit.js';
import { withDirectives } from '../../../jobs/script-directives.js';
import { KEY_HEADER, readIdempotencyKey, requestHash, tokenUser } from '../../../jobs/idempotency-key.js';
import { sendKeptAnswer } from '../../../http/kept-answer.js';
import { problemResponses } from '../../../http/problem.js';
import { Job } from './schema.js';

const route = createRoute({
  method: 'post',
  path: '/v1/jobs',
  tags: ['Jobs'],
  summary: 'Submit a job',
  description:
    "The body is the original SCNS-Conductor submit body. The script's `#SBATCH` (and `#CONDUCTOR`) lines before its first command are read as sbatch reads them (`-J`, `-A`, `-p`, `-c`, `-n`, `--ntasks-per-node`, `-N 1`, `--mem`, `--mem-per-cpu`, `-t`, `-o`, `-e`, `-D`, `--exclusive`, `--open-mode`, `--requeue`/`--no-requeue`, `--signal`, `--priority`, `-H`/`--hold`, `-b`/`--begin`, in any sbatch spelling); a field given in the body wins over its directive. A directive with a bad value, or an sbatch option that would change what the job gets and is not done here (`-N 2`, `--gres`, `--constraint`, …), is refused (422 naming `script`, the line and the option); one that changes nothing here (`--mail-user`, `--comment`, `--qos`, …) is kept in the job's `warnings`. The job shows the `directives` it applied. The job is PENDING when this answers. With an `Idempotency-Key`, a submit is made at most once: every retry with the key and the same body (compared as canonical JSON) within 24 h is answered as the first submit was (same status and body, with `Idempotent-Replayed: true`), and the same key with another body is refused (422). Every 5xx of this path is safe to retry with the same key.",
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  request: {
    headers: z.object({
      'idempotency-key': z.string().optional().openapi({
        description:
          'Chosen by the client, unique per job it means to submit (a UUID): 1 to 255 printable ASCII characters, bare or as a Structured Field String (IETF draft "The Idempotency-Key HTTP Header Field"). Keys are kept 24 h, per account (every admin token shares one scope).',
        example: '8e03978e-40d5-43e8-bc93-6894a57f9324',
      }),
    }),
    body: { required: true, content: { 'application/json': { schema: SubmitRequest } } },
  },
  responses: {
    201: {
      description:
        'The job as stored, without the script and environment just sent (GET the job for those); for a retry with its key, the first answer again',
      content: { 'application/json': { schema: Job } },
    },
    ...problemResponses(400, 401, 403, 413, 422, 503),
  },
});

export function registerSubmitJob(app: App): void {
  app.openapi(route, async (c) => {
    const key = readIdempotencyKey(c.req.header('Idempotency-Key'), KEY_HEADER);
    const directives = withDirectives(c.req.valid('json'));
    // A relative begin (now+1hour, 16:00) is read against the API's clock.
    const { request } = directives;
    const reading = { ...directives.reading, now: c.var.services.now() };
    if (key === undefined) {
      const job = await submitJob(c.var.db, c.var.services, c.var.principal, request, reading);
      return c.json(jobView(job, c.var.services.now()), 201, { Location: `/v1/jobs/${job.id}` });
    }
    // Hono keeps the parsed body: this is the JSON the validator read, as sent.
    const once = {
      key,
      field: KEY_HEADER.field,
      requestHash: await requestHash('POST /v1/jobs', tokenUser(c.var.principal), await c.req.json()),
      render: (job: Parameters<typeof jobView>[0]) => JSON.stringify(jobView(job, c.var.services.now())),
    };
    const answer = await submitJobOnce(c.var.db, c.var.services, c.var.principal, request, once, reading);
    return sendKeptAnswer<z.infer<typeof Job>>(c, answer, { Location: `/v1/jobs/${answer.jobId}` });
  });
}
