/** The names users give things, and the rules they follow, shared by jobs, tokens and nodes. */
import { z } from '@hono/zod-openapi';

/** Row ids travel as strings of digits; 15 digits stay below 2^53, where JavaScript numbers are still exact. */
export const ID_PATTERN = /^[1-9][0-9]{0,14}$/;

const IDENTIFIER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
// Control characters would corrupt the columns and logs they are shown in; NUL cannot be stored in Postgres text.
// eslint-disable-next-line no-control-regex -- matching them is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** Account, partition and node names: safe in paths, logs and Redis keys. */
export const identifier = (what: string) =>
  z
    .string()
    .regex(
      IDENTIFIER_PATTERN,
      `${what} must be 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit`,
    );

/** Free text of at most `max` characters, on one line. */
export const label = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((value) => !CONTROL_CHARACTERS.test(value), 'must not contain control characters');

/**
 * A Unix login name, as useradd(8) takes it by default (its NAME_REGEX, `^[a-z_][a-z0-9_-]*[$]?$`, without the
 * trailing `$` of machine accounts) at most 32 characters, as Linux's utmp records hold. Also safe in the Redis
 * queue's refs (no `|`) and in paths.
 */
export const UNIX_USER_PATTERN = /^[a-z_][a-z0-9_-]{0,31}$/;

/** A job's owner: a Unix login name, never root (root's jobs are the ones naming no user, where a node allows them). */
export const unixUser = (what = 'user') =>
  z
    .string()
    .regex(
      UNIX_USER_PATTERN,
      `${what} must be a Unix login name: 1-32 of a-z, 0-9, '_' or '-', not starting with a digit or '-'`,
    )
    .refine((name) => name !== 'root', `${what} must not be root`);
