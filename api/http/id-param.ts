import { z } from '@hono/zod-openapi';

/** Row ids travel as strings of digits; 15 digits stay below 2^53, where JavaScript numbers are still exact. */
export const ID_PATTERN = /^[1-9][0-9]{0,14}$/;

/** A path parameter holding a row id, e.g. `idParam('job_id', 'a job id')`. */
export function idParam<N extends string>(name: N, what: string) {
  return z.object({
    [name]: z
      .string()
      .regex(ID_PATTERN, `must be ${what} (a positive integer)`)
      .openapi({ param: { name, in: 'path' }, example: '42' }),
  } as Record<N, z.ZodString>);
}
