/**
 * Memory sizes as sbatch takes them: a number with a K, M, G or T suffix (binary units), or a bare number of
 * megabytes. Kept in whole megabytes, rounded up, so that a request is never shrunk.
 */
import { echo } from '../echo.js';

/** The largest request a Postgres integer column of megabytes holds (2 PiB). */
export const MAX_MEMORY_MB = 2 ** 31 - 1;

export class MemorySizeError extends Error {}

const MB_PER_UNIT: Record<string, number> = { K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024 };

export function parseMemorySize(input: string | number): number {
  const text = String(input).trim();
  const match = /^(\d+(?:\.\d+)?)([KMGT])?B?$/i.exec(text);
  if (!match)
    throw new MemorySizeError(`"${echo(text)}" is not a memory size: use e.g. 512K, 1024M, 16G, 1T or a number of MB`);
  const unit = (match[2] ?? 'M').toUpperCase();
  const megabytes = Math.ceil(Number(match[1]) * MB_PER_UNIT[unit]!);
  if (megabytes <= 0) throw new MemorySizeError('must be more than 0');
  if (megabytes > MAX_MEMORY_MB) throw new MemorySizeError(`must be at most ${MAX_MEMORY_MB}M`);
  return megabytes;
}

export function formatMemorySize(megabytes: number): string {
  if (megabytes % (1024 * 1024) === 0) return `${megabytes / (1024 * 1024)}T`;
  if (megabytes % 1024 === 0) return `${megabytes / 1024}G`;
  return `${megabytes}M`;
}
