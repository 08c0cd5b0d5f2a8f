/** What was wrong with a script's directives: each problem names its line and the option as written. */
import { echo } from '../echo.js';

export interface DirectiveProblem {
  /** 1-based line of the script. */
  line: number;
  /** The option as written ("--time=abc", "-t abc"), or the line's text when no option could be read from it. */
  option: string;
  message: string;
}

/** Thrown by the directive reader with every problem it found; the API answers it as a 422 naming `script`. */
export class DirectivesRefused extends Error {
  constructor(readonly problems: DirectiveProblem[]) {
    super(problems.map(formatDirectiveProblem).join('; '));
  }
}

/** "line 3: --time=abc: …", the form a 422 and a warning show, with a long option cut (echo.ts). */
export function formatDirectiveProblem({ line, option, message }: DirectiveProblem): string {
  return `line ${line}: ${echo(option)}: ${message}`;
}
