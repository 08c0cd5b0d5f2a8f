/**
 * Validation errors as the original SCNS-Conductor (FastAPI over pydantic v2) answered them on its paths: `detail`
 * is a list of `{type, loc, msg, input}`, so that its clients' error handling keeps working. The rest of the answer
 * stays problem+json; RFC 9457 (section 3.1) has a consumer ignore a member whose type is not the one it defines, so
 * a problem+json client loses nothing but that member, and finds the same errors in `errors`.
 */
import { z } from '@hono/zod-openapi';
import type { FieldError } from './errors.js';

export const OriginalValidationItem = z
  .object({
    type: z.enum(['missing', 'value_error']),
    loc: z.array(z.union([z.string(), z.number().int()])).openapi({ example: ['body', 'job', 'time_limit'] }),
    msg: z.string().openapi({ example: 'Value error, "1:-5" has a negative part' }),
    input: z.unknown().openapi({ description: 'The value sent; for a missing field, the object it is missing from.' }),
  })
  .openapi('OriginalValidationItem');

type Item = z.infer<typeof OriginalValidationItem>;

export function originalValidationDetail(errors: FieldError[]): Item[] {
  return errors.map((error) => {
    const loc = [
      error.in ?? 'body',
      ...(error.field === '' || error.field === '(body)' ? [] : error.field.split('.')).map((part) =>
        /^\d+$/.test(part) ? Number(part) : part,
      ),
    ];
    const input = error.input ?? null;
    if (error.missing) return { type: 'missing', loc, msg: 'Field required', input };
    return { type: 'value_error', loc, msg: `Value error, ${error.message}`, input };
  });
}
