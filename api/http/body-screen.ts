/**
 * Looks at a JSON request body before any route parses it (issue 12, item 8): nesting deeper than MAX_JSON_DEPTH is
 * a 400 before the parse costs anything (one pass over the text); and a lone UTF-16 surrogate in any string or key
 * (a `\uD800` escape without its pair: not text, and refused by Postgres) is a 422 naming the field, where it used to
 * be a 500. Bodies that are not JSON are left to the routes (415, or the original's reading).
 */
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env.js';
import { echo } from '../../shared/echo.js';
import { MalformedBody, ValidationFailed } from './errors.js';

/** Deeper than any body this API takes (a submit is 3 levels); recursion in the parse and walks stays shallow. */
export const MAX_JSON_DEPTH = 64;

// Only an escape can carry a lone surrogate into a body: text decoded from UTF-8 cannot hold one.
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Refuses, before any route parses it, a JSON body nested deeper than MAX_JSON_DEPTH: 400. */
export const bodyScreen = createMiddleware<AppEnv>(async (c, next) => {
  const type = c.req.header('Content-Type');
  if (!['POST', 'PUT', 'PATCH'].includes(c.req.method) || (type !== undefined && !/\bjson\b/i.test(type))) {
    return next();
  }
  // Hono keeps the text: the route's own parse reads it from there.
  if (jsonDepth(await c.req.text(), MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw new MalformedBody(`The JSON body nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
  return next();
});

/**
 * Refuses a parsed JSON body with a lone surrogate in any string or key: 422 naming the field. Called by the
 * validation hook of every route, so that it comes after authentication and in the path's own error shape.
 */
export async function refuseLoneSurrogates(text: string, body: () => Promise<unknown>): Promise<void> {
  if (!SURROGATE_ESCAPE.test(text)) return;
  const at = loneSurrogateAt(await body(), []);
  if (!at) return;
  throw new ValidationFailed([
    {
      field: at.map((part) => echo(part)).join('.') || '(body)',
      message: 'must be text: it holds a lone UTF-16 surrogate (\\uD800-\\uDFFF without its pair)',
    },
  ]);
}

/** The deepest nesting of arrays and objects in JSON text, counted up to `stop` + 1 (strings skipped). */
export function jsonDepth(text: string, stop: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c)
        i++; // a backslash: the next character is escaped
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x7b || code === 0x5b) {
      if (++depth > deepest && (deepest = depth) > stop) return deepest;
    } else if (code === 0x7d || code === 0x5d) depth--;
  }
  return deepest;
}

/** The path of the first string or key holding a lone surrogate, or undefined. */
function loneSurrogateAt(value: unknown, path: string[]): string[] | undefined {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? path : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, member] of Object.entries(value)) {
    if (LONE_SURROGATE.test(key)) return [...path, key];
    const found = loneSurrogateAt(member, [...path, key]);
    if (found) return found;
  }
  return undefined;
}

/**
 * For a route whose JSON body is optional: a request that says JSON but sends nothing (a generic client's POST with
 * its usual Content-Type) is read as the empty object, as if it had sent no body, instead of a 400. Put it in the
 * route's middleware, which runs before its validation.
 */
export const emptyJsonBodyIsNone = createMiddleware<AppEnv>(async (c, next) => {
  const type = c.req.header('Content-Type');
  if (type !== undefined && /\bjson\b/i.test(type) && (await c.req.text()).trim() === '') {
    // Hono caches the body's reads as promises (its type says values): the validator's json() reads this one.
    (c.req.bodyCache as Record<string, unknown>).text = Promise.resolve('{}');
  }
  return next();
});
