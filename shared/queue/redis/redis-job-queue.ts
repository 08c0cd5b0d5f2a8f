/**
 * The Redis queue. Keys, under a prefix:
 * - `refs`: hash, job id → "partition|cpus|memoryMb|priority|exclusive|user|timeLimitSeconds|score", for every ref
 *   queued or claimed (user: the job's owner, empty for none; timeLimitSeconds empty for UNLIMITED). Refs pushed before
 *   time limits have no such field (UNLIMITED: they never backfill); those pushed before owners have no user either.
 * - `q:<partition>`: sorted set of job ids, by score = submit order − priority × 2^33 (priority first, then age)
 * - `claimed:<node>`: hash, job id → claim time, refs a node took and has not settled
 * - `claims`: sorted set of "node|id" by claim time, to find claims nobody settled
 * - `head:<partition>`: hash, the partition's current head and since when (anti-starvation)
 * - `partitions`: set of partitions ever used; `wake`: channel told of new work per partition
 * - `paused`: set of partitions whose refs no claim takes (DOWN or INACTIVE)
 * Every operation is one script, one round trip.
 */
import {
  DEFAULT_CLAIM_MAX,
  DEFAULT_QUEUE_TUNING,
  type ClaimOptions,
  type JobQueue,
  type JobRef,
  type NodeCapacity,
  type QueueTuning,
  type RunningJob,
  UNLIMITED,
} from '../job-queue.js';
import type { RedisClientPort } from './redis-client-port.js';
import { ScriptRunner } from './script-runner.js';
import {
  claimScript,
  enqueueScript,
  inspectScript,
  pauseScript,
  releaseScript,
  releaseStaleScript,
  removeScript,
  settleScript,
} from './queue-scripts.js';
import { reprioritiseScript } from './reprioritise-script.js';

// Priority above submit order in one exact double: ids below 2^33, priorities up to 10^6 stay under 2^53.
const PRIORITY_WEIGHT = 2n ** 33n;
// Bounds one release-stale call; the reconciler's next run takes the rest.
const STALE_CLAIMS_PER_CALL = 1000;

export class RedisJobQueue implements JobQueue {
  readonly storesRefsWithJobs = false;
  readonly #scripts: ScriptRunner;
  readonly #refs: string;

  constructor(
    private readonly client: RedisClientPort,
    private readonly prefix = 'conductor:',
    private readonly tuning: QueueTuning = DEFAULT_QUEUE_TUNING,
  ) {
    this.#scripts = new ScriptRunner(client);
    this.#refs = `${prefix}refs`;
  }

  /** The channel `enqueue` publishes partitions with new work on. */
  get wakeChannel(): string {
    return `${this.prefix}wake`;
  }

  async enqueue(refs: JobRef[]): Promise<void> {
    if (refs.length === 0) return;
    const args = refs.flatMap((ref) => [ref.id, encodeRef(ref), ref.partition]);
    await this.#scripts.run(enqueueScript, [this.#refs], [this.prefix, ...args]);
  }

  async claim(capacity: NodeCapacity, options: ClaimOptions = {}): Promise<JobRef[]> {
    if (capacity.partitions.length === 0) return [];
    const reply = (await this.#scripts.run(
      claimScript,
      [this.#refs, this.#claimed(capacity.node)],
      [
        this.prefix,
        capacity.freeCpus,
        capacity.freeMemoryMb,
        capacity.cpus,
        capacity.memoryMb,
        this.tuning.window,
        options.max ?? DEFAULT_CLAIM_MAX,
        this.tuning.starvationMs,
        capacity.runsAs.any_user ? 1 : 0,
        capacity.runsAs.unnamed ? 1 : 0,
        capacity.runsAs.users.join(','),
        this.tuning.backfill ? 1 : 0,
        encodeRunning(capacity.running),
        ...capacity.partitions,
      ],
    )) as unknown[];
    const refs: JobRef[] = [];
    for (let i = 0; i < reply.length; i += 2) refs.push(decodeRef(String(reply[i]), String(reply[i + 1])));
    return refs;
  }

  async settle(node: string, ids: number[]): Promise<number[]> {
    if (ids.length === 0) return [];
    const reply = (await this.#scripts.run(
      settleScript,
      [this.#refs, this.#claimed(node)],
      [this.prefix, node, ...ids],
    )) as unknown[];
    return reply.map(Number);
  }

  async release(node: string, ids: number[]): Promise<number> {
    if (ids.length === 0) return 0;
    return Number(
      await this.#scripts.run(releaseScript, [this.#refs, this.#claimed(node)], [this.prefix, node, ...ids]),
    );
  }

  async requeueNode(node: string): Promise<number> {
    return Number(await this.#scripts.run(releaseScript, [this.#refs, this.#claimed(node)], [this.prefix, node]));
  }

  async releaseStale(olderThanMs: number): Promise<number> {
    return Number(
      await this.#scripts.run(releaseStaleScript, [this.#refs], [this.prefix, olderThanMs, STALE_CLAIMS_PER_CALL]),
    );
  }

  async remove(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.#scripts.run(removeScript, [this.#refs], [this.prefix, ...ids]);
  }

  async pausePartitions(names: string[]): Promise<void> {
    await this.#scripts.run(pauseScript, [`${this.prefix}paused`], [this.prefix, ...names]);
  }

  async missing(ids: number[]): Promise<number[]> {
    if (ids.length === 0) return [];
    const reply = (await this.#scripts.run(inspectScript, [this.#refs], [this.prefix, 'missing', ...ids])) as unknown[];
    return reply.map(Number);
  }

  async depth(): Promise<Record<string, number>> {
    const reply = (await this.#scripts.run(inspectScript, [this.#refs], [this.prefix, 'depth'])) as unknown[];
    const depth: Record<string, number> = {};
    for (let i = 0; i < reply.length; i += 2) {
      if (Number(reply[i + 1]) > 0) depth[String(reply[i])] = Number(reply[i + 1]);
    }
    return depth;
  }

  close(): Promise<void> {
    return this.client.close();
  }

  #claimed(node: string): string {
    return `${this.prefix}claimed:${node}`;
  }

  async reprioritise(changes: { id: number; priority: number }[]): Promise<number> {
    if (changes.length === 0) return 0;
    const args = changes.flatMap(({ id, priority }) => [id, priority, String(score(id, priority))]);
    return Number(await this.#scripts.run(reprioritiseScript, [this.#refs], [this.prefix, ...args]));
  }
}

function encodeRef(ref: JobRef): string {
  // Owner and time limit before the score: every script reads the score as the last field, so refs of every form
  // stay valid.
  const limit = ref.timeLimitSeconds ?? '';
  return [
    ref.partition,
    ref.cpus,
    ref.memoryMb,
    ref.priority,
    ref.exclusive ? 1 : 0,
    ref.user ?? '',
    limit,
    score(ref.id, ref.priority),
  ].join('|');
}

/** The node's running jobs as claim.lua reads them: '?' for unknown, else "cpus,memoryMb,endsInMs" ('u': UNLIMITED). */
function encodeRunning(running: RunningJob[] | undefined): string {
  if (!running) return '?';
  return running
    .map((job) => `${job.cpus},${job.memoryMb},${job.endsInMs === null ? 'u' : Math.max(0, Math.ceil(job.endsInMs))}`)
    .join(' ');
}

/** A ref's place in its queue: submit order − priority × 2^33, exact as a double (see PRIORITY_WEIGHT). */
function score(id: number, priority: number): bigint {
  if (id >= 2 ** 33) throw new RangeError(`job id ${id} is past what the Redis queue orders exactly (2^33)`);
  return BigInt(id) - BigInt(priority) * PRIORITY_WEIGHT;
}

function decodeRef(id: string, data: string): JobRef {
  const fields = data.split('|');
  const [partition, cpus, memoryMb, priority, exclusive] = fields;
  // Eight fields since time limits; seven before (UNLIMITED); six before owners (no owner: those jobs name none).
  const user = fields.length >= 7 ? fields[5]! : '';
  const limit = fields.length >= 8 ? fields[6]! : '';
  return {
    id: Number(id),
    partition: partition!,
    cpus: Number(cpus),
    memoryMb: Number(memoryMb),
    priority: Number(priority),
    exclusive: exclusive === '1',
    user: user === '' ? null : user,
    timeLimitSeconds: limit === '' ? UNLIMITED : Number(limit),
  };
}
