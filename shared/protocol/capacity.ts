/** What a node offers: its partitions, cores and memory, as its heartbeat and its claims say them. */
import { z } from '@hono/zod-openapi';
import { MAX_MEMORY_MB } from '../job/memory-size.js';
import { identifier } from '../names.js';

export const Cpus = z.number().int().min(0).max(1_000_000);
export const MemoryMb = z.number().int().min(0).max(MAX_MEMORY_MB);

export const Partitions = z
  .array(identifier('partition'))
  .min(1)
  .max(64)
  .refine((names) => new Set(names).size === names.length, 'must not name a partition twice');

export const Capacity = z.object({
  partitions: Partitions,
  cpus: Cpus.min(1).openapi({ description: 'The cores the node has.' }),
  memory_mb: MemoryMb.min(1),
});
export type Capacity = z.infer<typeof Capacity>;
