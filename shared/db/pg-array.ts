/**
 * Arrays as statement parameters: each goes over as one text literal (`{1,2,3}`) with a cast, which every driver
 * (pg, PGlite, Neon) passes through unchanged, whatever the array's length: one parameter, one statement plan.
 */
import { sql, type SQL } from 'drizzle-orm';

export const bigintArray = (values: readonly number[]): SQL => sql`${literal(values.map(whole))}::bigint[]`;

export const intArray = (values: readonly number[]): SQL => sql`${literal(values.map(whole))}::integer[]`;

/** Whole numbers or nulls (a time limit, or UNLIMITED). */
export const nullableIntArray = (values: readonly (number | null)[]): SQL =>
  sql`${literal(values.map((value) => (value === null ? 'NULL' : whole(value))))}::integer[]`;

/** Words that need no quoting in an array literal: states, partition and node names (letters, digits, _ . -). */
export const wordArray = (values: readonly string[]): SQL => sql`${literal(values.map(word))}::text[]`;

/** Any strings (job names: spaces, quotes, commas, braces): each double-quoted, its quotes and backslashes escaped. */
export const textArray = (values: readonly string[]): SQL => sql`${literal(values.map(quoted))}::text[]`;

function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, (char) => `\\${char}`)}"`;
}

function literal(items: string[]): string {
  return `{${items.join(',')}}`;
}

function whole(value: number): string {
  if (!Number.isSafeInteger(value)) throw new Error(`not a whole number for an array literal: ${value}`);
  return String(value);
}

function word(value: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(value))
    throw new Error(`not a plain word for an array literal: ${JSON.stringify(value)}`);
  return value;
}

/**
 * Words or nulls (a job's owner, or none). Each word is double-quoted: unquoted, a user named "null" would be read as
 * NULL (an array literal's NULL is case-insensitive).
 */
export const nullableWordArray = (values: readonly (string | null)[]): SQL =>
  sql`${literal(values.map((value) => (value === null ? 'NULL' : `"${word(value)}"`)))}::text[]`;
