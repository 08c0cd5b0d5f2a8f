/**
 * Reading a submit's idempotency key and fingerprinting its request (issue 13, item 2). The key follows the IETF
 * draft "The Idempotency-Key HTTP Header Field" (draft-ietf-httpapi-idempotency-key-header): a client-chosen string,
 * sent as a Structured Field String (`Idempotency-Key: "8e03978e-…"`); the bare form most clients send
 * (`Idempotency-Key: 8e03978e-…`) is taken too, and names the same key as its quoted form.
 */
import type { Principal } from '../auth/principal.js';
import { ValidationFailed, type FieldError } from '../http/errors.js';

/** A key's bounds: 1 to 255 characters, each printable ASCII (0x20-0x7E), as a Structured Field String allows. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

/** Where a key was sent: the /v1 header, or the original body's field. */
export type KeySource = { field: 'Idempotency-Key'; in: 'header' } | { field: 'job.idempotency_key' };

export const KEY_HEADER: KeySource = { field: 'Idempotency-Key', in: 'header' };
export const KEY_FIELD: KeySource = { field: 'job.idempotency_key' };

/**
 * The key sent, or undefined when none was. Throws ValidationFailed (422) naming the field when it is not a string
 * of 1-255 printable ASCII characters.
 */
export function readIdempotencyKey(value: unknown, source: KeySource): string | undefined {
  if (value === undefined || value === null) return undefined;
  const refuse = (message: string): never => {
    const error: FieldError = { field: source.field, message, input: value };
    if ('in' in source) error.in = source.in;
    throw new ValidationFailed([error]);
  };
  if (typeof value !== 'string') return refuse('must be a string');
  const key = 'in' in source ? headerKey(value.trim(), refuse) : value;
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    return refuse(`must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
  }
  if (!PRINTABLE_ASCII.test(key)) return refuse('must be printable ASCII (0x20 to 0x7E) only');
  return key;
}

/**
 * The key in a header value: a Structured Field String's content (RFC 8941, 3.3.3), or a bare key. Refused: a
 * quoted string with parameters or anything after it, and a bare value with a comma, which is what several
 * Idempotency-Key headers become once joined (RFC 9110, 5.3): one of them would be taken for another key.
 */
function headerKey(value: string, refuse: (message: string) => never): string {
  const quoted = /^"((?:[^"\\]|\\["\\])*)"$/.exec(value);
  if (quoted) return quoted[1]!.replace(/\\(["\\])/g, '$1');
  if (value.startsWith('"')) return refuse('must be one Structured Field String, without parameters');
  if (value.includes(',')) return refuse('must be sent once (a bare key cannot hold a comma: quote it)');
  return value;
}

/**
 * SHA-256 (hex) of the path, the Unix user the job would run as (a user token's own, or none), and the request body
 * as canonical JSON: two bodies that differ only in the order of their keys or the spelling of their numbers are the
 * same request; the same body sent by another user of the account is not (its job would run as that user).
 * `body` is the parsed JSON as sent.
 */
export async function requestHash(path: string, user: string | null, body: unknown): Promise<string> {
  const bytes = new TextEncoder().encode(`${path}\n${user ?? ''}\n${canonicalJson(body)}`);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** The Unix user a principal's jobs run as, for requestHash: a user token's own; none for an admin (its jobs name theirs). */
export const tokenUser = (principal: Principal): string | null => (principal.kind === 'user' ? principal.user : null);

/**
 * JSON with every object's keys in order of their UTF-16 code units and numbers as ECMAScript writes them: the JSON
 * Canonicalization Scheme (RFC 8785) for any value JSON.parse made.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const members = Object.keys(record)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
