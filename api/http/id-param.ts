import { z } from '@hono/zod-openapi';
import { ID_PATTERN } from '../../shared/names.js';

/** A path parameter holding a row id, e.g. `idParam('job_id', 'a job id')`. */
export function idParam<N extends string>(name: N, what: string) {
  return z.object({
    [name]: z
      .string()
      .regex(ID_PATTERN, `must be ${what} (a positive integer)`)
      .openapi({ param: { name, in: 'path' }, example: '42' }),
  } as Record<N, z.ZodString>);
}
