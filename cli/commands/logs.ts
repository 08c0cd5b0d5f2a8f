/**
 * `conductor logs ID [--stderr] [-f] [--tail N]`: a job's output as its node stored it, byte for byte. `-f` follows
 * it live until the job ends (resuming after a disconnect: sdk followLogs); `--tail N` starts at its last N lines.
 */
import type { Command } from 'commander';
import { apiErrorOf } from '../../sdk/api-error.js';
import { followLogs, type ConductorClient } from '../../sdk/index.js';
import { UsageError } from '../cli-error.js';
import { runAction, clientFor, withCommonOptions, type CommonOptions } from '../command-context.js';

interface LogsOptions extends CommonOptions {
  stderr?: boolean;
  follow?: boolean;
  tail?: string;
}

export function logsCommand(program: Command): void {
  withCommonOptions(
    program
      .command('logs')
      .argument('<id>', 'the job')
      .description("print a job's output")
      .option('--stderr', 'its standard error (when it has a file of its own)')
      .option('-f, --follow', 'keep printing it as it comes, until the job ends')
      .option('--tail <lines>', 'start at its last N lines'),
  ).action((id: string, options: LogsOptions) =>
    runAction(async () => {
      if (options.json) throw new UsageError('logs prints the output as it is: --json does not apply');
      const tail = options.tail === undefined ? undefined : Number(options.tail);
      if (tail !== undefined && !(Number.isInteger(tail) && tail >= 0)) {
        throw new UsageError(`--tail ${options.tail}: not a number of lines`);
      }
      const client = clientFor(options);
      const stream = options.stderr ? 'stderr' : 'stdout';
      const read = await readStored(client, id, stream, tail);
      if (!options.follow || read.complete) return;
      for await (const bytes of followLogs(client, id, { stream, offset: read.next, attempt: read.attempt })) {
        process.stdout.write(bytes);
      }
    }),
  );
}

/** What is stored now, page by page; where it ended, of which attempt, and whether that is all there will be. */
async function readStored(
  client: ConductorClient,
  id: string,
  stream: 'stdout' | 'stderr',
  tail: number | undefined,
): Promise<{ next: number; attempt: number | undefined; complete: boolean }> {
  let query: Record<string, string> = tail === undefined ? { offset: '0' } : { tail_lines: String(tail) };
  let attempt: number | undefined;
  for (;;) {
    const { data, error, response } = await client.GET('/v1/jobs/{id}/logs/{stream}', {
      params: { path: { id, stream }, query: { ...query, ...(attempt ? { attempt: String(attempt) } : {}) } },
      parseAs: 'arrayBuffer',
    });
    if (!response.ok) throw apiErrorOf(response, error);
    // openapi-fetch answers no data for an empty body (Content-Length: 0): nothing stored yet from there on.
    const bytes = data === undefined ? new Uint8Array() : new Uint8Array(data as ArrayBuffer);
    if (bytes.byteLength > 0) process.stdout.write(bytes);
    attempt ??= Number(response.headers.get('Conductor-Attempt')) || undefined;
    const next = Number(response.headers.get('Conductor-Next-Offset'));
    const complete = response.headers.get('Conductor-Log-Complete') === 'true';
    if (complete || bytes.byteLength === 0) return { next, attempt, complete };
    query = { offset: String(next) };
  }
}
