/**
 * Validation errors as the original SCNS-Conductor (FastAPI over pydantic v2) answered them on its paths: `detail`
 * is a list of `{type, loc, msg, input, url}`, in pydantic's words, so that its clients' error handling keeps
 * working. As FastAPI did, `input` echoes the value sent, to the client that sent it. The rest of the answer stays
 * problem+json; RFC 9457 (section 3.1) has a consumer ignore a member whose type is not the one it defines, so a
 * problem+json client loses nothing but that member, and finds the same errors in `errors`.
 */
import { z } from '@hono/zod-openapi';
import { echoValue } from '../../shared/echo.js';
import type { FieldError, FieldErrorType } from './errors.js';

export const OriginalValidationItem = z
  .object({
    type: z.string().openapi({ example: 'value_error' }),
    loc: z.array(z.union([z.string(), z.number().int()])).openapi({ example: ['body', 'job', 'time_limit'] }),
    msg: z.string().openapi({ example: 'Value error, "1--5" has a negative part' }),
    input: z.unknown().openapi({ description: 'The value sent; for a missing field, the object it is missing from.' }),
    url: z.string().openapi({ description: "pydantic's page on this type of error, as the original linked it." }),
  })
  .openapi('OriginalValidationItem');

type Item = z.infer<typeof OriginalValidationItem>;

// pydantic's messages for what is not a rule of the field's own (those are "Value error, <why>").
const MESSAGES: Record<FieldErrorType, string> = {
  missing: 'Field required',
  json_invalid: 'JSON decode error',
  string_type: 'Input should be a valid string',
  int_type: 'Input should be a valid integer',
  bool_type: 'Input should be a valid boolean',
  dict_type: 'Input should be a valid dictionary',
  list_type: 'Input should be a valid list',
};

// The pydantic the original pinned links its errors to this version's pages.
const PYDANTIC_ERRORS = 'https://errors.pydantic.dev/2.5/v/';

export function originalValidationDetail(errors: FieldError[]): Item[] {
  return errors.map((error) => {
    const loc = [
      error.in ?? 'body',
      ...(error.field === '' || error.field === '(body)' ? [] : error.field.split('.')).map((part) =>
        /^\d+$/.test(part) ? Number(part) : part,
      ),
    ];
    const type = error.type ?? 'value_error';
    const msg = error.type ? MESSAGES[error.type] : `Value error, ${error.message}`;
    // Echoed as FastAPI did, but never more than ECHO_MAX characters of any string in it.
    return { type, loc, msg, input: echoValue(error.input ?? null), url: `${PYDANTIC_ERRORS}${type}` };
  });
}
