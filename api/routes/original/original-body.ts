/**
 * What the original path takes from a body beyond its schema. The original ignored fields it did not know
 * (pydantic's default), so a client that sends one keeps working: they are ignored here too, and named in the job's
 * warnings so a misspelt field does not go unseen. The fields added since (priority, requeue) were unknown to it as
 * well: one that is valid is taken; one that is not is ignored and named, as the original would have ignored it.
 */
import type { JobDescription } from '../../../shared/job/submit-request.js';
import type { z } from '@hono/zod-openapi';
import { AddedFields, OriginalJobDescription, type OriginalSubmitRequest } from './schema.js';

// Enough to see a mistake; a body of thousands of unknown keys must not become thousands of warnings.
const MAX_NAMED = 20;
const MAX_NAME_LENGTH = 100;

const KNOWN_TOP = new Set(['job', 'script']);
const KNOWN_JOB = new Set(Object.keys(OriginalJobDescription.shape));

/**
 * The request to submit and its warnings, from the body as sent (`raw`: its keys, "__proto__" included, which
 * building an object drops) and as validated (`body`).
 */
export function readOriginalBody(
  raw: unknown,
  body: OriginalSubmitRequest,
): {
  request: { job: z.infer<typeof JobDescription>; script: string };
  warnings: string[];
  /** `job.idempotency_key` as sent, unchecked (api/jobs/idempotency-key.ts reads it). */
  idempotencyKey: unknown;
} {
  // `user` is /v1's: the original had no owner, so its path ignores one (named in the warnings) as it ignored any
  // field it did not know; its jobs are their token's user's, or name none.
  const { priority, requeue, user: _user, idempotency_key: idempotencyKey, ...fields } = body.job;
  // Only the original's own fields: the body is read loosely, so it also holds every field it does not know, and /v1's
  // fields among them (`signal`, `open_mode`) must not be taken as /v1 takes them.
  const job = Object.fromEntries(Object.entries(fields).filter(([name]) => KNOWN_JOB.has(name)));
  const warnings = unknownFieldWarnings(raw);
  const taken: Partial<{ priority: number; requeue: boolean }> = {};
  for (const [name, value] of Object.entries({ priority, requeue })) {
    if (value === undefined) continue;
    const parsed = AddedFields[name as keyof typeof AddedFields].safeParse(value);
    if (parsed.success) Object.assign(taken, { [name]: parsed.data });
    else warnings.push(`field "job.${name}" ignored: ${parsed.error.issues[0]?.message ?? 'not valid'}`);
  }
  // The original's jobs ended NODE_FAIL with their node: without `requeue`, no retry (on /v1, the default policy).
  taken.requeue ??= false;
  return { request: { job: { ...job, ...taken }, script: body.script }, warnings, idempotencyKey };
}

/** One warning per unknown field, at most 20 of them then a count of the rest. */
function unknownFieldWarnings(raw: unknown): string[] {
  const keys = (value: unknown) => (value !== null && typeof value === 'object' ? Object.keys(value) : []);
  const top = raw as { job?: unknown };
  const unknown = [
    ...keys(top).filter((key) => !KNOWN_TOP.has(key)),
    ...keys(top.job)
      .filter((key) => !KNOWN_JOB.has(key))
      .map((key) => `job.${key}`),
  ];
  const warnings = unknown
    .slice(0, MAX_NAMED)
    // JSON-quoted: a name with control characters (or NUL, which Postgres cannot store) is shown escaped.
    .map((field) => `unknown field ${JSON.stringify(shorten(field))} ignored`);
  const rest = unknown.length - MAX_NAMED;
  if (rest > 0) warnings.push(`${rest} more unknown ${rest === 1 ? 'field' : 'fields'} ignored`);
  return warnings;
}

function shorten(name: string): string {
  const characters = Array.from(name);
  return characters.length > MAX_NAME_LENGTH ? `${characters.slice(0, MAX_NAME_LENGTH).join('')}…` : name;
}
