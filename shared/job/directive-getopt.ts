/**
 * The options in a script's directive words, read as sbatch reads them: with glibc's getopt_long(3) over its option
 * table (sbatch-options.ts), options first (`+`: the first word that is not an option ends them, and sbatch then
 * refuses it: "Invalid directive found in batch script"). So, as in sbatch:
 * - `--name=value` and `--name value` for an option that needs a value (the next word is taken whatever it is);
 *   an optional value only as `--name=value`; `--name=` gives the empty value;
 * - any unambiguous prefix of a long name (`--cpus-per=2`); an exact name wins over longer ones (`--mem`);
 * - `-c2` and `-c 2`; letters that take no value may be run together (`-vQ`, `-Hc2`); an optional value is attached;
 * - `--` ends the options.
 */
import { DirectivesRefused, type DirectiveProblem } from './directive-error.js';
import type { DirectiveWord } from './directive-words.js';
import { SBATCH_OPTIONS, type SbatchOption } from './sbatch-options.js';

export interface DirectiveOption {
  /** 1-based line of the script where the option is written. */
  line: number;
  option: SbatchOption;
  /** Its value; null when it has none (an option without a value, or an optional one not given). */
  value: string | null;
  /** The option as written: "--time=10", "--time 10", "-t10", "-t 10". */
  raw: string;
}

const BY_LONG = new Map(SBATCH_OPTIONS.map((option) => [option.long, option]));
const BY_SHORT = new Map(SBATCH_OPTIONS.filter((option) => option.short).map((option) => [option.short!, option]));

/** Reads the options; throws DirectivesRefused at the first word sbatch would refuse, naming it and its line. */
export function directiveOptions(words: readonly DirectiveWord[]): DirectiveOption[] {
  const options: DirectiveOption[] = [];
  let at = 0;
  const refuse = (word: DirectiveWord, message: string, option = word.word): never => {
    throw new DirectivesRefused([{ line: word.line, option, message } satisfies DirectiveProblem]);
  };
  const nextValue = (word: DirectiveWord, message: string): DirectiveWord => {
    const next = words[at + 1];
    if (next === undefined) return refuse(word, message);
    at++;
    return next;
  };

  for (; at < words.length; at++) {
    const word = words[at]!;
    const text = word.word;
    if (text === '--') {
      at++;
      break;
    }
    if (!text.startsWith('-') || text === '-') break;

    if (text.startsWith('--')) {
      const equals = text.indexOf('=');
      const name = equals === -1 ? text.slice(2) : text.slice(2, equals);
      const option = longOption(name, word, refuse);
      let value: string | null = equals === -1 ? null : text.slice(equals + 1);
      let raw = text;
      if (option.arg === 'none' && value !== null) refuse(word, `option --${option.long} takes no value`);
      if (option.arg === 'required' && value === null) {
        value = nextValue(word, `option --${option.long} needs a value`).word;
        raw = `${text} ${value}`;
      }
      options.push({ line: word.line, option, value, raw });
      continue;
    }

    // A cluster of letters: each takes no value, until one that takes the rest of the word (or the next word).
    for (let letter = 1; letter < text.length; letter++) {
      const char = text[letter]!;
      const option = BY_SHORT.get(char);
      if (option === undefined) refuse(word, `-${char} is not an sbatch option`, `-${char}`);
      const rest = text.slice(letter + 1);
      if (option!.arg === 'none') {
        options.push({ line: word.line, option: option!, value: null, raw: `-${char}` });
        continue;
      }
      if (rest !== '' || option!.arg === 'optional') {
        options.push({ line: word.line, option: option!, value: rest === '' ? null : rest, raw: `-${char}${rest}` });
        break;
      }
      const value = nextValue(word, `option -${char} needs a value`).word;
      options.push({ line: word.line, option: option!, value, raw: `-${char} ${value}` });
      break;
    }
  }

  const stray = words[at];
  if (stray !== undefined) {
    refuse(
      stray,
      'not an option (sbatch: "Invalid directive found in batch script"); a value with blanks must be quoted',
    );
  }
  return options;
}

/** glibc's rule: the exact name, else the one name it is a prefix of; several is ambiguous. */
function longOption(
  name: string,
  word: DirectiveWord,
  refuse: (word: DirectiveWord, message: string, option?: string) => never,
): SbatchOption {
  const exact = BY_LONG.get(name);
  if (exact) return exact;
  const candidates = name === '' ? [] : SBATCH_OPTIONS.filter((option) => option.long.startsWith(name));
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length === 0) return refuse(word, `--${name} is not an sbatch option`, `--${name}`);
  return refuse(
    word,
    `--${name} is ambiguous: it could be ${candidates.map((option) => `--${option.long}`).join(', ')}`,
    `--${name}`,
  );
}
