/**
 * The words of a script's `#SBATCH` lines, split as sbatch(1) splits them (src/sbatch/opt.c, `_opt_batch_script` and
 * `get_argument`), so that a script means here what it means under Slurm:
 * - A directive line starts, at its first column, with `#SBATCH`, `#CONDUCTOR` (this system's own, same syntax) or
 *   `#SLURM` (Slurm's old spelling, still read by sbatch, with a warning). Case matters; `  #SBATCH` is a comment.
 * - Reading stops at the first line that is neither blank nor a comment (its first non-blank character is not `#`):
 *   directives after the first command are not read (each is named in a warning, which sbatch does not give).
 *   The `#!` line is a comment.
 * - Words are separated by blanks; '…' and "…" group (the quotes are dropped); a backslash takes the next character
 *   literally; an unquoted, unescaped `#` starts a comment that ends the line, even within a word.
 * - The words of every line make one command line, so a value may even be on the next directive line, as in sbatch.
 * - As in sbatch, an empty word (`""`) ends its line's words, a word starting with `:` and an unmatched quote are
 *   errors, and a `hetjob`/`packjob` separator (a heterogeneous job) is refused here: there are none.
 */
import { DirectivesRefused } from './directive-error.js';

export interface DirectiveWord {
  /** 1-based line of the script. */
  line: number;
  word: string;
}

export interface DirectiveWords {
  words: DirectiveWord[];
  /** What sbatch would have warned about (the `#SLURM` spelling). */
  warnings: string[];
  /** A warning for each directive line after the first command, which sbatch ignores without a word. */
  late: string[];
}

const MAGIC_WORDS = ['#SBATCH', '#CONDUCTOR', '#SLURM'] as const;
// C's isspace(): what sbatch skips between words.
const BLANK = /[ \t\n\v\f\r]/;

/** Splits a script's directive lines into words; throws DirectivesRefused naming the line of an unreadable one. */
export function directiveWords(script: string): DirectiveWords {
  const words: DirectiveWord[] = [];
  const warnings: string[] = [];
  let late: string[] = [];
  const lines = script.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const text = lines[index]!;
    const line = index + 1;
    const magic = MAGIC_WORDS.find((word) => text.startsWith(word));
    if (magic === undefined) {
      if (isCommand(text)) {
        late = lateDirectives(lines, index);
        break;
      }
      continue;
    }
    if (magic === '#SLURM' && !warnings.some((warning) => warning.includes('#SLURM'))) {
      warnings.push(`line ${line}: #SLURM: read as #SBATCH, as sbatch does; change it to #SBATCH`);
    }
    const rest = text.slice(magic.length);
    if (/^[ \t\n\v\f\r]*(?:hetjob|packjob)(?:[ \t\n\v\f\r]|$)/i.test(rest)) {
      throw new DirectivesRefused([
        {
          line,
          option: text.trim(),
          message: 'heterogeneous jobs (hetjob) are not supported here: submit each component as its own job',
        },
      ]);
    }
    for (const word of lineWords(rest, line, text)) words.push({ line, word });
  }
  return { words, warnings, late };
}

/** A warning for each directive line after the first command (at `first`). */
function lateDirectives(lines: string[], first: number): string[] {
  const late: string[] = [];
  for (let index = first + 1; index < lines.length; index++) {
    const magic = MAGIC_WORDS.find((word) => lines[index]!.startsWith(word));
    if (magic !== undefined) {
      late.push(
        `line ${index + 1}: ${magic}: not read: it comes after the first command (line ${first + 1}), as sbatch reads`,
      );
    }
  }
  return late;
}

/** A line that ends the directives: its first non-blank character is not `#`. */
function isCommand(text: string): boolean {
  const first = /[^ \t\n\v\f\r]/.exec(text);
  return first !== null && first[0] !== '#';
}

function lineWords(rest: string, line: number, text: string): string[] {
  const refuse = (message: string) => new DirectivesRefused([{ line, option: text.trim(), message }]);
  const words: string[] = [];
  let at = 0;
  for (;;) {
    while (at < rest.length && BLANK.test(rest[at]!)) at++;
    if (at >= rest.length) return words;
    if (rest[at] === ':') throw refuse('unexpected ":" (a heterogeneous job separator): not supported here');
    let word: string | null = null;
    let quote: string | null = null;
    let comment = false;
    while (at < rest.length && (quote !== null || !BLANK.test(rest[at]!))) {
      const char = rest[at]!;
      if (char === '\\') {
        // The backslash is dropped and the next character taken as it is (sbatch: a blank too).
        at++;
        if (at < rest.length) word = (word ?? '') + rest[at++];
        continue;
      }
      if (quote !== null) {
        if (char === quote) quote = null;
        else word = (word ?? '') + char;
        at++;
        continue;
      }
      if (char === '"' || char === "'") {
        quote = char;
        at++;
        continue;
      }
      if (char === '#') {
        comment = true;
        break;
      }
      word = (word ?? '') + char;
      at++;
    }
    if (quote !== null) throw refuse(`unmatched ${quote}`);
    // sbatch stops reading the line at a word with nothing in it (`""`), and at a comment.
    if (word === null) return words;
    words.push(word);
    if (comment) return words;
  }
}
