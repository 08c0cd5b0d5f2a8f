/**
 * The original path ignores fields it does not know, as the original did (pydantic's default), so a client that
 * sends one keeps working; each is named in the job's warnings, so a misspelt field does not go unseen.
 */
import { OriginalJobDescription, type OriginalSubmitRequest } from './schema.js';

// Enough to see a mistake; a body of thousands of unknown keys must not become thousands of warnings.
const MAX_NAMED = 20;
const MAX_NAME_LENGTH = 100;

const KNOWN_TOP = new Set(['job', 'script']);
const KNOWN_JOB = new Set(Object.keys(OriginalJobDescription.shape));

/** One warning per unknown field of the body, at most 20 of them then a count of the rest. */
export function ignoredFieldWarnings(body: OriginalSubmitRequest): string[] {
  const unknown = [
    ...Object.keys(body).filter((key) => !KNOWN_TOP.has(key)),
    ...Object.keys(body.job)
      .filter((key) => !KNOWN_JOB.has(key))
      .map((key) => `job.${key}`),
  ];
  const warnings = unknown
    .slice(0, MAX_NAMED)
    // JSON-quoted: a name with control characters (or NUL, which Postgres cannot store) is shown escaped.
    .map((field) => `unknown field ${JSON.stringify(shorten(field))} ignored`);
  if (unknown.length > MAX_NAMED) warnings.push(`${unknown.length - MAX_NAMED} more unknown fields ignored`);
  return warnings;
}

function shorten(name: string): string {
  const characters = Array.from(name);
  return characters.length > MAX_NAME_LENGTH ? `${characters.slice(0, MAX_NAME_LENGTH).join('')}…` : name;
}
