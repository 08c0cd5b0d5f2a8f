/**
 * A small cluster for the PENDING-reason and why tests: configured partitions, nodes that heartbeat, jobs submitted
 * and started through the API the way a daemon starts them (a claim on the queue, then the API's confirm), on each
 * queue test-app-queues.ts opens (claims differ, reasons must not).
 */
import { expect } from 'vitest';
import { partitions, type PartitionState } from '../../shared/db/schema.js';
import type { RunsAs } from '../../shared/protocol/runs-as.js';
import { validJob, type TestApp } from './test-app.js';

export const ROOT_ALLOWING: RunsAs = { any_user: true, users: [], unnamed: true };

export async function json(response: Promise<Response>, status: number) {
  const answer = await response;
  const body = await answer.json();
  expect(answer.status, JSON.stringify(body)).toBe(status);
  return body;
}

/** A 1-CPU, 1G job of this partition, with a time limit of an hour unless said. */
export const smallJob = (partition: string, extra: Record<string, unknown> = {}) =>
  validJob({ partition, cpus_per_task: 1, ntasks_per_node: 1, memory_per_node: '1G', time_limit: '1:00:00', ...extra });

/** Configures a partition in this state (as the admin API will; the table is the truth this code reads). */
export async function configurePartition(t: TestApp, name: string, state: PartitionState = 'UP') {
  await t.database.db
    .insert(partitions)
    .values({ name, state })
    .onConflictDoUpdate({ target: partitions.name, set: { state } });
}

/** Registers (or re-registers) a node: 8 CPUs, 64000 MB unless said. */
export async function beat(
  t: TestApp,
  node: string,
  partitionNames: string[],
  size: { cpus?: number; memory_mb?: number } = {},
  runsAs: RunsAs = ROOT_ALLOWING,
) {
  return json(
    t.call('POST', `/v1/nodes/${node}/heartbeat`, {
      body: { partitions: partitionNames, cpus: 8, memory_mb: 64_000, ...size, runs_as: runsAs },
    }),
    200,
  );
}

/**
 * Starts these jobs (the whole queue of the partition) on an empty node of this size as its daemon would: a claim on
 * the queue (first fit), then the API's confirm.
 */
export async function startOn(t: TestApp, node: string, partition: string, ids: string[], cpus = 8, memoryMb = 64_000) {
  const refs = await claimOn(t, node, partition, cpus, memoryMb);
  expect(refs.map((ref) => String(ref.id)).sort()).toEqual([...ids].sort());
  const confirmed = await json(t.call('POST', `/v1/nodes/${node}/confirm`, { body: { job_ids: ids } }), 200);
  expect(confirmed.jobs.map((job: { id: string }) => job.id).sort()).toEqual([...ids].sort());
}

/** Claims from the queue as an idle node of `partition` with `cpus` and `memoryMb` free would, running any owner. */
export function claimOn(t: TestApp, node: string, partition: string, cpus = 8, memoryMb = 64_000) {
  return t.queue.claim({
    node,
    partitions: [partition],
    cpus,
    memoryMb,
    freeCpus: cpus,
    freeMemoryMb: memoryMb,
    runsAs: ROOT_ALLOWING,
  });
}
