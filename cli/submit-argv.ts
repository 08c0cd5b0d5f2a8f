/**
 * `conductor submit`'s command line, read as sbatch reads its own: glibc getopt_long(3) rules over sbatch's option
 * table (shared/job/sbatch-options.ts), so that every sbatch option keeps its spelling, its short form and its
 * abbreviations (`--cpus-per=2`), and an unknown or ambiguous one is refused as sbatch refuses it. The rules are
 * shared/job/directive-getopt.ts's; they are applied here to argv because that reader refuses the first word that
 * is not an option, where a command line has its script. Options end at the first other word (the script; then its
 * arguments) or at `--`.
 *
 * The table adds the command's own options and gives some of sbatch's their client meaning: `--wait`/`-W`,
 * `--parsable`, `--wrap`, `--export`, `--cluster`/`-M`, `--help`/`-h` act here rather than being refused or ignored.
 */
import { SBATCH_OPTIONS, type SbatchOption } from '../shared/job/sbatch-options.js';
import { UsageError } from './cli-error.js';

export interface ArgvOption {
  option: SbatchOption;
  value: string | null;
  /** As written: "--time=10", "--time 10", "-t10", "-t 10". */
  raw: string;
}

const client = (long: string, arg: SbatchOption['arg'], short?: string): SbatchOption => ({
  long,
  arg,
  effect: { kind: 'apply' },
  ...(short ? { short } : {}),
});

/** sbatch options that the command carries out itself, and its own. */
export const CLIENT_OPTIONS: readonly SbatchOption[] = [
  client('wait', 'none', 'W'),
  client('parsable', 'none'),
  client('wrap', 'required'),
  client('cluster', 'required', 'M'),
  client('clusters', 'required'),
  client('help', 'none', 'h'),
  client('follow', 'none'),
  client('json', 'none'),
  client('url', 'required'),
  client('token', 'required'),
];
const CLIENT_NAMES = new Set(CLIENT_OPTIONS.map((option) => option.long));

const TABLE = [...SBATCH_OPTIONS.filter((option) => !CLIENT_NAMES.has(option.long)), ...CLIENT_OPTIONS];
const BY_LONG = new Map(TABLE.map((option) => [option.long, option]));
const BY_SHORT = new Map(TABLE.filter((option) => option.short).map((option) => [option.short!, option]));

/** Whether the option is one the command acts on itself (not a job field). */
export const isClientOption = (option: SbatchOption) => CLIENT_OPTIONS.includes(option);

/** The options, then the operands (the script and its arguments). Throws UsageError as sbatch would refuse. */
export function readSubmitArgv(argv: readonly string[]): { options: ArgvOption[]; operands: string[] } {
  const options: ArgvOption[] = [];
  let at = 0;
  const nextValue = (message: string): string => {
    if (at + 1 >= argv.length) throw new UsageError(message);
    return argv[++at]!;
  };
  for (; at < argv.length; at++) {
    const text = argv[at]!;
    if (text === '--') return { options, operands: argv.slice(at + 1) };
    if (!text.startsWith('-') || text === '-') break;
    if (text.startsWith('--')) {
      const equals = text.indexOf('=');
      const option = longOption(equals === -1 ? text.slice(2) : text.slice(2, equals));
      let value: string | null = equals === -1 ? null : text.slice(equals + 1);
      let raw = text;
      if (option.arg === 'none' && value !== null) throw new UsageError(`option --${option.long} takes no value`);
      if (option.arg === 'required' && value === null) {
        value = nextValue(`option --${option.long} needs a value`);
        raw = `${text} ${value}`;
      }
      options.push({ option, value, raw });
      continue;
    }
    for (let letter = 1; letter < text.length; letter++) {
      const char = text[letter]!;
      const option = BY_SHORT.get(char);
      if (option === undefined) throw new UsageError(`invalid option -- '${char}' (not an sbatch option)`);
      const rest = text.slice(letter + 1);
      if (option.arg === 'none') {
        options.push({ option, value: null, raw: `-${char}` });
        continue;
      }
      if (rest !== '' || option.arg === 'optional') {
        options.push({ option, value: rest === '' ? null : rest, raw: `-${char}${rest}` });
        break;
      }
      const value = nextValue(`option -${char} needs a value`);
      options.push({ option, value, raw: `-${char} ${value}` });
      break;
    }
  }
  return { options, operands: argv.slice(at) };
}

function longOption(name: string): SbatchOption {
  const exact = BY_LONG.get(name);
  if (exact) return exact;
  const candidates = name === '' ? [] : TABLE.filter((option) => option.long.startsWith(name));
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length === 0) throw new UsageError(`unrecognized option '--${name}' (not an sbatch option)`);
  throw new UsageError(
    `option '--${name}' is ambiguous; possibilities: ${candidates.map((option) => `'--${option.long}'`).join(' ')}`,
  );
}
