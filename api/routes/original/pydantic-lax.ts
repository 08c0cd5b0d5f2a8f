/**
 * Values as the original read them: pydantic v2 in lax mode (its documentation's "Conversion Table"), so that a
 * client that sent `"cpus_per_task": "4"` or `"exclusive": "yes"` keeps working on the original path.
 */

// An integer as pydantic reads it from text: spaces around, a sign, "_" between digits, a fraction of zeros.
export const PYDANTIC_INT_TEXT = /^\s*[+-]?\d+(?:_\d+)*(?:\.0*)?\s*$/;

const TRUE_TEXT = new Set(['1', 'on', 't', 'true', 'y', 'yes']);
const FALSE_TEXT = new Set(['0', 'off', 'f', 'false', 'n', 'no']);

/** The integer pydantic read from `value` (a bool, a whole number, such text); anything else as it came. */
export function pydanticInt(value: unknown): unknown {
  if (typeof value === 'boolean') return Number(value);
  if (typeof value === 'string' && PYDANTIC_INT_TEXT.test(value)) return Number(value.replaceAll('_', '').trim());
  return value;
}

/** The boolean pydantic read from `value` (0 or 1, "yes", "off", ...); anything else as it came. */
export function pydanticBool(value: unknown): unknown {
  if (value === 0 || value === 1) return value === 1;
  if (typeof value !== 'string') return value;
  const text = value.trim().toLowerCase();
  if (TRUE_TEXT.has(text)) return true;
  if (FALSE_TEXT.has(text)) return false;
  return value;
}
