/**
 * Whether any node registered in a partition could ever run a job of this size: how a submit that would wait forever
 * is refused at once, with the field to change. A configured partition no node has registered in yet accepts anything
 * (nodes may join later; its jobs wait with the reason PartitionNoNodes): a partition that is not configured is refused
 * before this (api/partitions/partition-admission.ts). The nodes' capacities are cached per partition for a few seconds, so a submit usually costs no
 * query; but a refusal is always decided on a fresh read, so a node that just grew is never refused against.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { queryRows } from '../../shared/db/query-rows.js';
import type { FieldError } from '../http/errors.js';

interface Capacity {
  cpus: number;
  memoryMb: number;
}

export interface JobSize {
  partition: string;
  cpus: number;
  memoryMb: number;
}

const CACHE_MS = 5000;

export class PartitionCapacities {
  readonly #cache = new Map<string, { nodes: Capacity[]; readAt: number }>();

  constructor(private readonly now: () => number) {}

  /** Undefined when some node could run the job; else why none can, field by field. */
  async refusal(db: Database, job: JobSize): Promise<FieldError[] | undefined> {
    const cached = this.#cache.get(job.partition);
    if (cached && this.now() - cached.readAt < CACHE_MS && !whyNone(cached.nodes, job)) return undefined;
    const nodes = await this.#read(db, job.partition);
    return whyNone(nodes, job);
  }

  async #read(db: Database, partition: string): Promise<Capacity[]> {
    const rows = await queryRows(db, sql`SELECT cpus, memory_mb FROM nodes WHERE ${partition} = ANY(partitions)`);
    const nodes = rows.map((row) => ({ cpus: Number(row.cpus), memoryMb: Number(row.memory_mb) }));
    this.#cache.set(partition, { nodes, readAt: this.now() });
    return nodes;
  }
}

function whyNone(nodes: Capacity[], job: JobSize): FieldError[] | undefined {
  if (nodes.length === 0 || nodes.some((node) => node.cpus >= job.cpus && node.memoryMb >= job.memoryMb)) {
    return undefined;
  }
  const mostCpus = Math.max(...nodes.map((node) => node.cpus));
  const mostMemory = Math.max(...nodes.map((node) => node.memoryMb));
  const where = `partition "${job.partition}"`;
  const errors: FieldError[] = [];
  if (mostCpus < job.cpus) {
    errors.push({
      field: 'job.cpus_per_task',
      message: `the job asks for ${job.cpus} CPUs (ntasks_per_node × cpus_per_task); the largest node in ${where} has ${mostCpus}`,
    });
  }
  if (mostMemory < job.memoryMb) {
    errors.push({
      field: 'job.memory_per_node',
      message: `the job asks for ${job.memoryMb} MB; the largest node in ${where} has ${mostMemory} MB`,
    });
  }
  if (errors.length === 0) {
    errors.push({
      field: 'job',
      message: `no node in ${where} has both ${job.cpus} CPUs and ${job.memoryMb} MB`,
    });
  }
  return errors;
}
