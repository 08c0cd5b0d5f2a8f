/**
 * What a script's directives do to its job (issue 14, item 3): each option sbatch(1) would apply becomes the body
 * field it matches, validated by that field's own rules; options this system cannot honour are refused, harmless
 * ones become warnings (sbatch-options.ts says which is which and why). As in sbatch:
 * - a field given in the body wins over a directive, as sbatch's command line wins over its script (the directive
 *   is then listed in the warnings as overridden, not among the applied);
 * - an option given twice takes its last value, but every value given must be valid;
 * - `-n/--ntasks N` on the one node is N tasks on it; with `--ntasks-per-node M` too, N must be at most M (sbatch:
 *   --ntasks wins and --ntasks-per-node is a maximum);
 * - `--mem-per-cpu` is memory_per_node = that × ntasks_per_node × cpus_per_task, and together with `--mem` it is
 *   refused ("mutually exclusive");
 * - `-N/--nodes` is taken when it means one node (`1`, `1-1`), refused otherwise;
 * - `--export=ALL` (sbatch's default: the submitter's environment, here the body's `environment`) is taken as it
 *   is; any other export is refused: the job's variables are set in `environment`.
 */
import type { z } from '@hono/zod-openapi';
import type { AppliedDirective } from './applied-directive.js';
import { DirectivesRefused, formatDirectiveProblem, type DirectiveProblem } from './directive-error.js';
import { directiveOptions, type DirectiveOption } from './directive-getopt.js';
import { directiveWords } from './directive-words.js';
import { echo } from '../echo.js';
import { parseMemorySize } from './memory-size.js';
import { JobDescription, type SubmitRequest } from './submit-request.js';

type Job = z.infer<typeof JobDescription>;
type Field = keyof Job;

/** A body with its script's directives applied. */
export interface DirectiveReading {
  /** The body's fields, and under them those the directives set. */
  request: SubmitRequest;
  /** The directives applied, in script order. */
  directives: AppliedDirective[];
  /** Directives ignored (with why), or overridden by the body. */
  warnings: string[];
  /** The directives that gave each field its value, so that a refusal of the field can name them. */
  setBy: Partial<Record<Field, AppliedDirective[]>>;
}

/**
 * A value a directive gives: a field of the body, or one of the values the body's fields are computed from
 * (`ntasks`, `mem`, `mem-per-cpu`), or one that only has to be what this system does anyway (AS_IS).
 */
type Slot = Field | 'ntasks' | 'mem' | 'mem-per-cpu' | 'nodes' | 'export';

/** Honoured by what every job here is: on one node, with the body's environment. */
const AS_IS = new Set<Slot>(['nodes', 'export']);

interface Setting {
  option: DirectiveOption;
  slot: Slot;
  value: unknown;
  /** Its place among the options read. */
  order: number;
}

type Reading = { set: Slot; value: unknown } | { warn: string } | { problem: string };

const ONE_NODE = 'a job runs on one node here';

/** sbatch's adjustment for a bare --nice. */
const DEFAULT_NICE = 100;

/** At most this many warnings are kept, then a count of the rest; at most this many problems are answered. */
const MAX_LISTED = 20;

/**
 * Reads a script's directives onto its body. Throws DirectivesRefused with the problems found (the first 20): a
 * directive sbatch would refuse, one asking for what is not done here, a value the body's field would refuse.
 */
export function readDirectives(request: SubmitRequest): DirectiveReading {
  const { words, warnings, late } = directiveWords(request.script);
  const options = directiveOptions(words);
  const problems: DirectiveProblem[] = [];
  const latest = new Map<Slot, Setting>();
  let order = 0;
  const problem = (option: DirectiveOption, message: string) =>
    problems.push({ line: option.line, option: option.raw, message });

  for (const option of options) {
    const { effect } = option.option;
    if (effect.kind === 'refuse') {
      problem(option, `not supported: ${effect.why}`);
      continue;
    }
    if (effect.kind === 'warn') {
      warnings.push(
        formatDirectiveProblem({ line: option.line, option: option.raw, message: `ignored: ${effect.why}` }),
      );
      continue;
    }
    const reading = readOption(option);
    if ('problem' in reading) problem(option, reading.problem);
    else if ('warn' in reading) {
      warnings.push(
        formatDirectiveProblem({ line: option.line, option: option.raw, message: `ignored: ${reading.warn}` }),
      );
    } else {
      const invalid = fieldProblem(fieldOf(reading.set), reading.value);
      if (invalid) problem(option, invalid);
      else latest.set(reading.set, { option, slot: reading.set, value: reading.value, order: order++ });
    }
  }

  const mem = latest.get('mem');
  const memPerCpu = latest.get('mem-per-cpu');
  if (mem && memPerCpu) {
    const later = mem.order > memPerCpu.order ? mem : memPerCpu;
    problem(later.option, '--mem and --mem-per-cpu are mutually exclusive (as in sbatch): give one');
  }
  const ntasks = latest.get('ntasks');
  const perNode = latest.get('ntasks_per_node');
  if (ntasks && perNode && (ntasks.value as number) > (perNode.value as number)) {
    problem(
      ntasks.option,
      `${ntasks.value} tasks at most ${perNode.value} per node (${perNode.option.raw}) need more than one node: ${ONE_NODE}`,
    );
  }
  if (problems.length > 0) throw new DirectivesRefused(problems.slice(0, MAX_LISTED));

  const reading = merge(request, latest, warnings);
  reading.warnings.push(...late);
  const rest = reading.warnings.length - MAX_LISTED;
  if (rest <= 0) return reading;
  return {
    ...reading,
    warnings: [
      ...reading.warnings.slice(0, MAX_LISTED),
      `${rest} more ${rest === 1 ? 'directive' : 'directives'} ignored`,
    ],
  };
}

/** The body's fields over the directives' ones, checked as one job; what was applied and what overridden. */
function merge(request: SubmitRequest, settings: Map<Slot, Setting>, warnings: string[]): DirectiveReading {
  const body = request.job;
  const directiveJob: Partial<Record<Field, unknown>> = {};
  const applied: Array<{ setting: Setting; field: Field | null }> = [];
  const take = (field: Field, value: unknown, ...from: Setting[]) => {
    if (body[field] !== undefined) {
      for (const setting of from) {
        warnings.push(
          formatDirectiveProblem({ ...problemAt(setting), message: `overridden by job.${field} in the body` }),
        );
      }
      return;
    }
    directiveJob[field] = value;
    for (const setting of from) applied.push({ setting, field });
  };

  for (const setting of settings.values()) {
    if (AS_IS.has(setting.slot)) applied.push({ setting, field: null });
    else if (!COMPUTED.has(setting.slot)) take(setting.slot as Field, setting.value, setting);
  }
  // sbatch: --ntasks wins, --ntasks-per-node is then a maximum (checked by the caller).
  const tasks = [settings.get('ntasks'), settings.get('ntasks_per_node')].filter((setting) => setting !== undefined);
  if (tasks.length > 0) take('ntasks_per_node', tasks[0]!.value, ...tasks);
  const mem = settings.get('mem');
  if (mem) take('memory_per_node', mem.value, mem);
  const memPerCpu = settings.get('mem-per-cpu');
  if (memPerCpu) {
    const count = (field: 'ntasks_per_node' | 'cpus_per_task') => (body[field] ?? directiveJob[field] ?? 1) as number;
    const cpus = count('ntasks_per_node') * count('cpus_per_task');
    take('memory_per_node', `${parseMemorySize(memPerCpu.value as string) * cpus}M`, memPerCpu);
  }

  const merged = JobDescription.safeParse({ ...directiveJob, ...body });
  if (!merged.success) {
    // Each value was valid alone: what fails is what they make together (the CPUs in all, the memory for them).
    throw new DirectivesRefused(
      merged.error.issues.map((issue) => {
        const field = String(issue.path[0]);
        const culprit =
          applied.find((entry) => entry.field === field) ??
          applied.find((entry) => entry.field === 'ntasks_per_node' || entry.field === 'cpus_per_task')!;
        return { ...problemAt(culprit.setting), message: issue.message };
      }),
    );
  }

  const shown = ({ option }: Setting): AppliedDirective => ({ line: option.line, option: option.raw });
  const directives = applied
    .map(({ setting }) => setting)
    .sort((a, b) => a.order - b.order)
    .map(shown);
  const setBy: DirectiveReading['setBy'] = {};
  for (const { setting, field } of applied) if (field !== null) (setBy[field] ??= []).push(shown(setting));
  return { request: { ...request, job: merged.data }, directives, warnings, setBy };
}

const COMPUTED = new Set<Slot>(['ntasks', 'ntasks_per_node', 'mem', 'mem-per-cpu']);

function problemAt({ option }: Setting): Omit<DirectiveProblem, 'message'> {
  return { line: option.line, option: option.raw };
}

/** The body field whose rules check a slot's value. */
function fieldOf(slot: Slot): Field | null {
  if (slot === 'ntasks') return 'ntasks_per_node';
  if (slot === 'mem' || slot === 'mem-per-cpu') return 'memory_per_node';
  if (AS_IS.has(slot)) return null;
  return slot as Field;
}

/** What the body's field would say of the value, or null when it takes it. */
function fieldProblem(field: Field | null, value: unknown): string | null {
  if (field === null) return null;
  const result = JobDescription.shape[field].safeParse(value);
  return result.success ? null : result.error.issues.map((issue) => issue.message).join('; ');
}

const string =
  (set: Slot) =>
  (value: string | null): Reading => ({ set, value });

/** Each applied option's reading of its value (sbatch's, src/common/slurm_opt.c). */
const READERS: Record<string, (value: string | null) => Reading> = {
  account: string('account'),
  dependency: string('dependency'),
  // sbatch(1): --kill-on-invalid-dep=<yes|no>.
  'kill-on-invalid-dep': (value) => {
    const answer = value!.trim().toLowerCase();
    if (answer === 'yes') return { set: 'kill_on_invalid_dep', value: true };
    if (answer === 'no') return { set: 'kill_on_invalid_dep', value: false };
    return { problem: `"${echo(value!)}" is not yes or no` };
  },
  array: string('array'),
  'job-name': string('name'),
  error: string('standard_error'),
  output: string('standard_output'),
  signal: string('signal'),
  begin: string('begin'),
  hold: () => ({ set: 'hold', value: true }),
  time: string('time_limit'),
  partition: (value) =>
    value!.includes(',') ? { problem: 'a list of partitions is not supported: name one' } : { set: 'partition', value },
  chdir: (value) =>
    value!.startsWith('/')
      ? { set: 'current_working_directory', value }
      : {
          problem: `"${echo(value!)}" is relative: sbatch reads it from the directory it was run in, and there is none here; give an absolute path`,
        },
  'cpus-per-task': whole('cpus_per_task'),
  ntasks: whole('ntasks'),
  'ntasks-per-node': whole('ntasks_per_node'),
  'tasks-per-node': whole('ntasks_per_node'),
  priority: whole('priority'),
  // sbatch(1): "--nice[=adjustment] ... If no adjustment value is specified, the default value is 100"; a negative one
  // is an admin's (the submit refuses it from a user token, naming this line).
  nice: (value) => {
    if (value === null || value === '') return { set: 'nice', value: DEFAULT_NICE };
    return /^\s*[+-]?\d+$/.test(value)
      ? { set: 'nice', value: Number(value) }
      : { problem: `"${echo(value)}" is not a whole number` };
  },
  mem: (value) =>
    /^\s*0+(?:\.0*)?[KMGT]?B?\s*$/i.test(value!)
      ? { problem: "0 (all of a node's memory) is not supported: give a size, such as 4G" }
      : { set: 'mem', value },
  'mem-per-cpu': (value) => ({ set: 'mem-per-cpu', value }),
  nodes: (value) => {
    const counts = value!.split('-');
    if (counts.length > 2 || !counts.every((count) => /^\s*\+?\d+$/.test(count))) {
      return { problem: `"${echo(value!)}" is not a node count (N or MIN-MAX)` };
    }
    return counts.every((count) => Number(count) === 1)
      ? { set: 'nodes', value: 1 }
      : { problem: `not supported: ${ONE_NODE}; ask for CPUs with --ntasks and --cpus-per-task` };
  },
  export: (value) =>
    value!.toUpperCase() === 'ALL'
      ? { set: 'export', value: 'ALL' }
      : {
          problem:
            'not supported: the job\'s environment is the body\'s "environment" (what --export=ALL exports): set its variables there',
        },
  exclusive: (value) => {
    const mode = (value ?? 'exclusive').toLowerCase();
    if (mode === 'exclusive' || mode === 'allocation') return { set: 'exclusive', value: true };
    if (mode === 'oversubscribe') return { warn: 'jobs never share cores here' };
    if (['user', 'mcs', 'topo'].includes(mode)) {
      return { problem: 'not supported: a job here shares its node with any other, or with none (--exclusive)' };
    }
    return { problem: `"${echo(value!)}" is not an --exclusive mode (user, mcs, topo, oversubscribe)` };
  },
  requeue: (value) => {
    if (value === null || value === '') return { set: 'requeue', value: true };
    if (value.toLowerCase() === 'expedite') return { problem: 'not supported: there is no expedited requeue here' };
    return { problem: `"${echo(value)}" is not a --requeue mode (expedite)` };
  },
  'no-requeue': () => ({ set: 'requeue', value: false }),
  // sbatch reads only the first letter.
  'open-mode': (value) => {
    const first = value!.charAt(0).toLowerCase();
    if (first === 'a') return { set: 'open_mode', value: 'append' };
    if (first === 't') return { set: 'open_mode', value: 'truncate' };
    return { problem: `"${echo(value!)}" is not an open mode: append or truncate` };
  },
};

/** sbatch's parse_int: a whole number, else refused. */
function whole(set: Slot) {
  return (value: string | null): Reading =>
    /^\s*\+?\d+$/.test(value!) ? { set, value: Number(value) } : { problem: `"${echo(value!)}" is not a whole number` };
}

function readOption(option: DirectiveOption): Reading {
  return READERS[option.option.long]!(option.value);
}
