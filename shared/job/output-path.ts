/**
 * Output file names as sbatch(1) expands them ("filename pattern"): `%j` the job id, `%x` the job name, `%u` the user
 * the job runs as, `%N` its node's name, `%A` a job array's id (the job id for a job not in an array, as slurmstepd),
 * `%a` an array task's index (left as it is for a job not in an array), `%%` a literal percent sign. A number between
 * the `%` and the letter zero-pads a numeric value to that width (`%5j` → `00042`), at most 10 as slurmstepd's fname.c
 * caps it, and is ignored for a name (`%5x`). Any other `%` sequence is left as it is, as slurmstepd leaves one it
 * does not know. Patterns are stored as submitted and expanded when read,
 * since the id is known only once the row exists and the node only once the job runs.
 */

/** What a pattern may name. `user`/`node` null: not known (yet); their `%u`/`%N` are left as they are. */
export interface OutputNames {
  id: string;
  name: string;
  user: string | null;
  node: string | null;
  /** A job array's task: the array's id (%A) and the task's index (%a); absent or null for other jobs. */
  arrayJobId?: string | null;
  arrayTaskId?: string | null;
}

const NUMERIC = new Set(['j', 'A', 'a']);

// slurmstepd's MAX_WIDTH: a wider pad is cut to this.
const MAX_WIDTH = 10;

/** The path a pattern names for this job, e.g. ("%x-%5j.out", {id "42", name "relax"}) → "relax-00042.out". */
export function expandOutputPath(pattern: string, names: OutputNames): string {
  return pattern.replace(/%(%|(\d*)([A-Za-z]))/g, (whole: string, _: string, width: string, letter: string) => {
    if (whole === '%%') return '%';
    const value = valueOf(letter, names);
    if (value === null) return whole;
    if (!NUMERIC.has(letter) || width === '') return value;
    return value.padStart(Math.min(Number(width), MAX_WIDTH), '0');
  });
}

function valueOf(letter: string, names: OutputNames): string | null {
  switch (letter) {
    case 'j':
      return names.id;
    case 'x':
      return names.name;
    case 'u':
      return names.user;
    case 'N':
      return names.node;
    case 'A':
      return names.arrayJobId ?? names.id;
    case 'a':
      return names.arrayTaskId ?? null;
    default:
      return null;
  }
}

/**
 * Whether a job's stdout and stderr paths (expanded) name one file, as the API can tell without the node: the same
 * path once each is read from the working directory (`cwd`; null: the job's own directory on its node, where two
 * relative paths still compare). A link that makes two paths one file is seen only by the node.
 */
export function sameOutputPath(stdout: string, stderr: string, cwd: string | null): boolean {
  const full = (path: string) => normalize(path.startsWith('/') || cwd === null ? path : `${cwd}/${path}`);
  return full(stdout) === full(stderr);
}

/** `a//b/./c/../d` → `a/b/d`: as the kernel resolves a path's `.` and `..` (links aside). */
function normalize(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    // Above a relative path's start a `..` stays: where it leads depends on the directory.
    if (part === '..' && parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
    else if (part !== '..' || !path.startsWith('/')) parts.push(part);
  }
  return (path.startsWith('/') ? '/' : '') + parts.join('/');
}
