/**
 * A job array's index specification, as sbatch(1) reads `--array=<indexes>`: ranges `0-15`, steps `1-7:2`, lists
 * `1,3,5-9` (each element a number, a range or a stepped range), and an optional `%N` after them capping how many of
 * the array's tasks run at once (`0-999%50`). Each index becomes one task: a job of its own (api/jobs/insert-array.ts).
 * Indexes are a set, as slurmctld keeps them in a bitmap: a list naming one twice makes one task, and tasks are in
 * index order whatever order the list gave.
 *
 * The largest index is MAX_ARRAY_INDEX (Slurm's MaxArraySize − 1; slurm.conf's default MaxArraySize is 1001, chosen
 * larger here so that a 10,000-task array fits), so no array has more than MAX_ARRAY_INDEX + 1 tasks.
 */

/** Slurm's MaxArraySize: every index is below it. */
export const MAX_ARRAY_SIZE = 10_001;
export const MAX_ARRAY_INDEX = MAX_ARRAY_SIZE - 1;

/** A parsed `--array` value. */
export interface ArraySpec {
  /** The task indexes, ascending, each once. */
  indexes: number[];
  /** The `%N` cap: at most this many tasks RUNNING at once; null: no cap. */
  limit: number | null;
}

/** A value sbatch would refuse, with what is wrong in words a user can act on. */
export class ArraySpecError extends Error {
  override name = 'ArraySpecError';
}

const NUMBER = /^\d+$/;

/**
 * Parses `0-999%50`, `1-7:2`, `1,3,5-9` → ArraySpec. Throws ArraySpecError for an empty or malformed element, a
 * range whose end is below its start, a step or cap below 1, or an index above MAX_ARRAY_INDEX.
 */
export function parseArraySpec(value: string): ArraySpec {
  const text = value.trim();
  const percent = text.indexOf('%');
  const list = percent === -1 ? text : text.slice(0, percent);
  const limit = percent === -1 ? null : parseCount(text.slice(percent + 1), 'the %N task limit');
  if (list === '') throw new ArraySpecError('must name at least one index, e.g. "0-9" or "1,3,5"');
  const indexes = new Set<number>();
  for (const element of list.split(',')) {
    for (const index of elementIndexes(element)) indexes.add(index);
  }
  return { indexes: [...indexes].sort((a, b) => a - b), limit };
}

/** The indexes one element names: `7`, `1-9` or `1-9:2`. */
function elementIndexes(element: string): number[] {
  const [range, stepText, extra] = element.split(':');
  if (extra !== undefined) throw new ArraySpecError(`"${element}": at most one ":step" per range`);
  const [startText, endText, more] = range!.split('-');
  if (more !== undefined) throw new ArraySpecError(`"${element}": a range is start-end, e.g. 0-9`);
  const start = parseIndex(startText!, element);
  const end = endText === undefined ? start : parseIndex(endText, element);
  if (end < start) throw new ArraySpecError(`"${element}": the range ends before it starts`);
  if (stepText !== undefined && endText === undefined)
    throw new ArraySpecError(`"${element}": a step needs a range, e.g. 1-7:2`);
  const step = stepText === undefined ? 1 : parseCount(stepText, `the step of "${element}"`);
  const indexes: number[] = [];
  for (let index = start; index <= end; index += step) indexes.push(index);
  return indexes;
}

function parseIndex(text: string, element: string): number {
  if (!NUMBER.test(text)) throw new ArraySpecError(`"${element}": indexes are whole numbers from 0`);
  const index = Number(text);
  if (index > MAX_ARRAY_INDEX)
    throw new ArraySpecError(`"${element}": the largest index is ${MAX_ARRAY_INDEX} (MaxArraySize ${MAX_ARRAY_SIZE})`);
  return index;
}

function parseCount(text: string, what: string): number {
  if (!NUMBER.test(text) || Number(text) < 1) throw new ArraySpecError(`${what} must be a whole number from 1`);
  return Number(text);
}

/**
 * Indexes as squeue shows an array's pending remainder: consecutive runs as ranges, the rest as a list, with the cap
 * after them: ([8, 9, 10, 12], 50) → "8-10,12%50".
 */
export function formatIndexes(indexes: readonly number[], limit: number | null = null): string {
  const parts: string[] = [];
  for (let i = 0; i < indexes.length;) {
    let j = i;
    while (j + 1 < indexes.length && indexes[j + 1] === indexes[j]! + 1) j++;
    parts.push(j === i ? String(indexes[i]) : `${indexes[i]}-${indexes[j]}`);
    i = j + 1;
  }
  return parts.join(',') + (limit === null ? '' : `%${limit}`);
}

/**
 * The array's shape as slurmd gives it to each task (sbatch(1), SLURM_ARRAY_TASK_COUNT/MIN/MAX/STEP): how many
 * indexes, the lowest and highest, and their step: the one distance between neighbours when every pair has the same
 * (`1-7:2` → 2), else 1, as for a single index.
 */
export function arrayShape(indexes: readonly number[]): { count: number; min: number; max: number; step: number } {
  const min = indexes[0]!;
  const max = indexes[indexes.length - 1]!;
  const step = indexes.length > 1 ? indexes[1]! - min : 1;
  const uniform = indexes.every((index, i) => i === 0 || index - indexes[i - 1]! === step);
  return { count: indexes.length, min, max, step: uniform ? step : 1 };
}
