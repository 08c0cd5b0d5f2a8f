/**
 * The script a submit sends: the file named, standard input (no file, or `-`), or `--wrap`'s command in a shell
 * script as sbatch writes it. Arguments after the script become its positional parameters: the API has no field for
 * them, so a `set --` line is put after the script's directives and comments (directives are read only up to the
 * first command, so they still are); only a shell script can take them.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from './cli-error.js';

export function readScript(operands: readonly string[], wrap: string | null, stdin: () => string): string {
  if (wrap !== null) {
    if (operands.length > 0) throw new UsageError(`--wrap takes no script: "${operands[0]}" was given too`);
    return `#!/bin/sh\n# This script was created by conductor submit --wrap.\n\n${wrap}\n`;
  }
  const [path, ...args] = operands;
  let script: string;
  if (path === undefined || path === '-') {
    if (process.stdin.isTTY) throw new UsageError('no script: name a file, pipe one in, or give --wrap "command"');
    script = stdin();
  } else {
    try {
      script = readFileSync(path, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  // `script.sh -- a b`: the `--` only marks where the script's arguments start.
  return withArguments(script, args[0] === '--' ? args.slice(1) : args);
}

const SHELLS = /^#!\s*(?:\/usr)?\/bin\/(?:env\s+)?(?:ba|da|k|z)?sh(?:\s|$)/;

function withArguments(script: string, args: readonly string[]): string {
  if (args.length === 0) return script;
  if (!SHELLS.test(script)) {
    throw new UsageError('arguments can be given to a shell script only (#!/bin/bash, #!/bin/sh, …)');
  }
  const lines = script.split('\n');
  const first = lines.findIndex((line, index) => index > 0 && line.trim() !== '' && !line.trimStart().startsWith('#'));
  const at = first === -1 ? lines.length : first;
  lines.splice(at, 0, `set -- ${args.map(quote).join(' ')}`);
  return lines.join('\n');
}

const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;
