/**
 * sbatch's `--dependency=<dependency_list>` (sbatch(1)): `type:job_id[:job_id…]` items separated by `,` (every one
 * must be satisfied) or by `?` (any one), never both ("Only one separator may be used"). The types are Slurm's:
 * - `after`: the parent started, or was cancelled (a PENDING parent holds it);
 * - `afterany`: the parent ended, in any state;
 * - `afterok`: the parent COMPLETED (exit code zero); any other end can never satisfy it;
 * - `afternotok`: the parent ended in a failed state (FAILED, CANCELLED, TIMEOUT, OUT_OF_MEMORY, NODE_FAIL); a
 *   COMPLETED parent can never satisfy it;
 * - `aftercorr`: a task of this array after the parent array's task of the same index COMPLETED (as afterok);
 * - `singleton`: no other job of the same name and user is running.
 * A parent id that is an array's id (its first task's, Slurm's ArrayJobId) stands for every task of that array; one
 * task is named as squeue shows it, `123_7` (the API resolves it to that task's own job id at submit).
 * Slurm's `+time` delay (`after:12+5`: released that many minutes after the parent started) and `afterburstbuffer`
 * are refused: there is no delayed release or burst buffer here.
 *
 * What sbatch 22.05 itself accepts was checked against it: the types in any case (`AFTEROK:7`), several ids
 * (`afterok:7:8`); it refuses blanks anywhere (` afterok:7`, `afterok:7, afterany:8`), empty items (`afterok:7,`,
 * `afterok:7,,afterany:8`, `afterok:7::8`), a type without an id (`afterok`, `afterok:`), id 0, and ids on singleton
 * (`singleton:3`). Where sbatch accepts but misreads, this refuses: a list mixing `,` and `?` (sbatch makes it all
 * `?`, against its man page's "Only one separator may be used"), a negative id (`afterok:-1`, which sbatch drops
 * without a word), a signed id (`afterok:+5`, read as 5), and `+time` on the other types (`afterok:7+30`, kept but
 * never waited for).
 */
import { echo } from '../echo.js';

export class DependencyError extends Error {}

export const DEPENDENCY_KINDS = ['after', 'afterany', 'afterok', 'afternotok', 'aftercorr', 'singleton'] as const;
export type DependencyKind = (typeof DEPENDENCY_KINDS)[number];

/** One condition: on one parent (a job, or every task of an array), or `singleton` (no parent). */
export interface DependencyItem {
  kind: DependencyKind;
  /** The parent's job id (with `task`, the array's id); null for singleton. */
  parentId: number | null;
  /** Named as `123_7`: the index of the parent array's task meant, until it is resolved to the task's own job id. */
  task?: number;
}

export interface Dependency {
  /** `all` for `,` (every item must hold), `any` for `?` (one is enough). */
  combine: 'all' | 'any';
  items: DependencyItem[];
}

/** More items than this is a mistake, not a pipeline (a whole array is one id). */
export const MAX_DEPENDENCY_ITEMS = 1000;
const MAX_JOB_ID = Number.MAX_SAFE_INTEGER;

/**
 * Parses a dependency list. Throws DependencyError naming the bad part: a blank, an unknown type, a missing or bad job
 * id, a mixed separator, a `+time` delay, more than 1000 conditions. Repeated conditions are kept once.
 */
export function parseDependency(value: string): Dependency {
  if (value === '') throw new DependencyError('must not be empty: give type:job_id, such as afterok:12');
  if (/\s/.test(value)) {
    throw new DependencyError('must not contain blanks (as sbatch): join conditions with "," or "?" alone');
  }
  if (value.includes(',') && value.includes('?')) {
    throw new DependencyError('use "," (all must hold) or "?" (any one), not both (as sbatch: one separator only)');
  }
  const combine = value.includes('?') ? 'any' : 'all';
  const items: DependencyItem[] = [];
  const seen = new Set<string>();
  for (const part of value.split(combine === 'any' ? '?' : ',')) {
    for (const item of parseItem(part)) {
      const key = `${item.kind}:${item.parentId}${item.task === undefined ? '' : `_${item.task}`}`;
      if (seen.has(key)) continue;
      seen.add(key);
      items.push(item);
    }
  }
  if (items.length > MAX_DEPENDENCY_ITEMS) {
    throw new DependencyError(`at most ${MAX_DEPENDENCY_ITEMS} conditions (an array's id stands for all its tasks)`);
  }
  return { combine, items };
}

function parseItem(part: string): DependencyItem[] {
  if (part === '') throw new DependencyError('an empty condition between separators');
  const [kindText, ...ids] = part.split(':');
  const kind = kindText!.toLowerCase();
  if (kind === 'singleton') {
    if (ids.length > 0) throw new DependencyError('singleton takes no job ids');
    return [{ kind: 'singleton', parentId: null }];
  }
  if (kind === 'afterburstbuffer') throw new DependencyError('afterburstbuffer: there are no burst buffers here');
  if (!(DEPENDENCY_KINDS as readonly string[]).includes(kind)) {
    throw new DependencyError(
      `"${echo(kindText!)}" is not a dependency type (after, afterany, afterok, afternotok, aftercorr, singleton)`,
    );
  }
  if (ids.length === 0 || (ids.length === 1 && ids[0] === '')) {
    throw new DependencyError(`${kind} needs at least one job id (${kind}:12)`);
  }
  return ids.map((id) => ({ kind: kind as DependencyKind, ...parseParent(kind, id) }));
}

/** A parent: a job id, or an array's task as squeue shows it (`123_7`). */
function parseParent(kind: string, id: string): Pick<DependencyItem, 'parentId' | 'task'> {
  const task = /^(\d+)_(\d+)$/.exec(id);
  if (task === null) return { parentId: parseJobId(kind, id) };
  return { parentId: parseJobId(kind, task[1]!), task: Number(task[2]) };
}

function parseJobId(kind: string, id: string): number {
  if (/^\d+\+/.test(id)) {
    throw new DependencyError(
      kind === 'after'
        ? `${kind}:${echo(id)}: a delay after the parent's start (Slurm's after:job_id+minutes) is not supported here; depend with after:${id.split('+')[0]} and give the job a --begin, or sleep in its script`
        : `${kind}:${echo(id)}: a +time delay applies only to after in Slurm (which ignores it on ${kind}); give the job id alone`,
    );
  }
  if (!/^\d+$/.test(id) || Number(id) < 1 || Number(id) > MAX_JOB_ID) {
    throw new DependencyError(`${kind}: "${echo(id)}" is not a job id`);
  }
  return Number(id);
}

/** The list as sbatch writes it, each item with its parent: `afterok:12,afterany:14`. */
export function formatDependency(items: readonly DependencyItem[], combine: Dependency['combine']): string {
  return items
    .map((item) =>
      item.parentId === null
        ? item.kind
        : `${item.kind}:${item.parentId}${item.task === undefined ? '' : `_${item.task}`}`,
    )
    .join(combine === 'any' ? '?' : ',');
}
