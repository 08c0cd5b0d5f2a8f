/**
 * `conductor partitions apply FILE`: slurm.conf's PartitionName lines (slurm-partition-lines.ts) PUT through the API
 * one by one, so that the API stays the one truth and checks each; `--dry-run` prints what it would send. A file with
 * any line it cannot read applies nothing; a partition the API refuses is named with its line and keys, and the others
 * are still applied (exit 1).
 */
import { readFileSync } from 'node:fs';
import { ConductorApiError } from '../../sdk/index.js';
import { UsageError } from '../cli-error.js';
import { clientFor, type CommonOptions } from '../command-context.js';
import { EXIT_REFUSED } from '../exit-codes.js';
import { readPartitionLines, slurmKeyOf, type PartitionLine } from '../slurm-partition-lines.js';

export interface ApplyOptions extends CommonOptions {
  dryRun?: boolean;
}

export async function applyPartitions(file: string, options: ApplyOptions): Promise<number> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${file}: ${(error as Error).message}`);
  }
  const read = readPartitionLines(text);
  for (const warning of read.warnings) process.stderr.write(`conductor: ${file}: ${warning}\n`);
  if (read.errors.length > 0) throw new UsageError(`${file}: nothing applied: ${read.errors.join('; ')}`);
  if (read.partitions.length === 0) throw new UsageError(`${file}: no PartitionName= lines`);
  if (options.dryRun) {
    for (const { name, body } of read.partitions) {
      process.stdout.write(`PUT /v1/partitions/${name} ${JSON.stringify(body)}\n`);
    }
    return 0;
  }
  const client = clientFor(options);
  let refused = 0;
  for (const partition of read.partitions) {
    const outcome = await put(client, partition);
    if (outcome.startsWith('refused')) refused += 1;
    process.stdout.write(`${partition.name}: ${outcome}\n`);
  }
  return refused > 0 ? EXIT_REFUSED : 0;
}

/** PUTs one partition: "created", "replaced", or why it was refused, naming the file's line and keys. */
async function put(client: ReturnType<typeof clientFor>, { line, name, body }: PartitionLine): Promise<string> {
  const { data, error, response } = await client.PUT('/v1/partitions/{name}', { params: { path: { name } }, body });
  if (data) return response.status === 201 ? 'created' : 'replaced';
  const refusal = new ConductorApiError(response.status, error as never);
  // Anything but a refusal of this partition's settings (unreachable, not an admin) stops the apply.
  if (refusal.status !== 422) throw refusal;
  const why = refusal.errors.map((field) => `${slurmKeyOf(field.field)}: ${field.message}`).join('; ');
  return `refused (line ${line}): ${why || refusal.message}`;
}
