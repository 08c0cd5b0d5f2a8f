/**
 * A fault as the log shows it (issue 12, item 8): its type, message and stack, and its causes', without what a
 * request put in it. drizzle's DrizzleQueryError message is "Failed query: <statement>\nparams: <every parameter>",
 * and the parameters of an INSERT are a job's script and environment: they are cut, the statement kept (its values
 * are placeholders). The driver's own error keeps its SQLSTATE and message (cut to ECHO_MAX); its `detail`, which
 * quotes values (`Key (hash)=(…) already exists`), is left out.
 */
import { echo } from '../../shared/echo.js';

// A statement is long but says where the fault is; its parameters say nothing the code does not.
const MAX_STATEMENT = 2000;
const MAX_CAUSES = 5;

export function faultReport(error: unknown): string {
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < MAX_CAUSES && current !== undefined; depth++) {
    lines.push(`${depth === 0 ? '' : 'caused by: '}${describe(current)}`);
    current = current instanceof Error ? current.cause : undefined;
  }
  // The outermost stack's frames: its first lines repeat the message, parameters and all.
  const frames = error instanceof Error ? (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line)) : [];
  return [...lines, ...frames].join('\n');
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return `a thrown ${typeof error}`;
  const code = (error as { code?: unknown }).code;
  const named = `${error.name}${typeof code === 'string' ? ` [${code}]` : ''}`;
  if (error.message.startsWith('Failed query:')) {
    const statement = error.message.split('\nparams:')[0]!;
    return `${named}: ${echo(statement, MAX_STATEMENT)} (parameters not logged)`;
  }
  return `${named}: ${echo(error.message)}`;
}
