/**
 * What a node daemon is and how it behaves: the same variables whether it runs on its own (`npm run node`) or inside
 * the embedded default (`npm start`).
 */
import { availableParallelism, hostname, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { MAX_CHUNK_BYTES } from '../logs/log-store.js';
import { identifier } from '../names.js';

const seconds = (min: number, max: number, fallback: number) => z.coerce.number().min(min).max(max).default(fallback);

export const nodeSettings = {
  CONDUCTOR_NODE_NAME: identifier('CONDUCTOR_NODE_NAME').default(() => hostname().split('.')[0]!.slice(0, 64)),
  CONDUCTOR_NODE_PARTITIONS: z
    .string()
    .default('default')
    .transform((text) => text.split(',').map((name) => name.trim()))
    .pipe(
      z
        .array(identifier('each partition'))
        .min(1)
        .max(64)
        .refine((names) => new Set(names).size === names.length, 'must not name a partition twice'),
    ),
  CONDUCTOR_NODE_CPUS: z.coerce
    .number()
    .int()
    .min(1)
    .max(availableParallelism(), `this machine has ${availableParallelism()} cores`)
    .default(availableParallelism()),
  /** CPUs offered per core; above 1, jobs share cores (for I/O-bound work, or a small test machine). */
  CONDUCTOR_NODE_OVERSUBSCRIBE: z.coerce.number().int().min(1).max(1024).default(1),
  CONDUCTOR_NODE_MEMORY_MB: z.coerce
    .number()
    .int()
    .min(1)
    .default(Math.floor(totalmem() / 2 ** 20)),
  /** The node's journal and its jobs' directories; `npm start` defaults it to CONDUCTOR_DATA_DIR/node. */
  CONDUCTOR_NODE_DIR: z.string().min(1).optional(),
  /** Shared by every daemon on the machine: how they keep off each other's cores. */
  CONDUCTOR_CORE_LOCK_DIR: z.string().min(1).default(join(tmpdir(), 'scns-conductor-cores')),
  /** The lowest uid a root daemon starts a job as: an owner below it (a system account) is refused at launch. */
  CONDUCTOR_MIN_UID: z.coerce
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 2)
    .default(1000),
  /**
   * Whether a root daemon runs jobs that name no user (an admin's), as root. Unset: off for `npm run node`, on for
   * the embedded default (its admin is the machine's). Either way, never a job's choice.
   */
  CONDUCTOR_ALLOW_ROOT_JOBS: z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
    .transform((text) => ['true', '1', 'yes'].includes(text))
    .optional(),
  CONDUCTOR_HEARTBEAT_SECONDS: seconds(0.1, 60, 1),
  CONDUCTOR_KILL_GRACE_SECONDS: seconds(0, 3600, 10),
  CONDUCTOR_MEMORY_POLL_SECONDS: seconds(0.1, 60, 1),
  /**
   * `on`: each run in cgroups where the machine allows (worker-node/containment/); `off`: the process group, taskset
   * and polled memory only, as before cgroups (to measure what containment costs).
   */
  CONDUCTOR_CONTAINMENT: z.enum(['on', 'off']).default('on'),
  /** The most processes and threads a job may have at once, where a pids cgroup counts them; unset: no limit. */
  CONDUCTOR_JOB_PIDS_MAX: z.coerce.number().int().min(1).max(4_194_304).optional(),
  CONDUCTOR_CLAIM_IDLE_MAX_SECONDS: seconds(0.1, 3600, 30),
  CONDUCTOR_STOP_DEADLINE_SECONDS: seconds(1, 3600, 30),
  /** How long new output may wait on the node before it is shipped: what a follower's delay is made of. */
  CONDUCTOR_LOG_FLUSH_MS: z.coerce.number().int().min(20).max(60_000).default(250),
  /** The largest chunk shipped at once: a job writing fast ships its output in pieces this big. */
  CONDUCTOR_LOG_CHUNK_BYTES: z.coerce
    .number()
    .int()
    .min(4096)
    .max(MAX_CHUNK_BYTES, `must be at most ${MAX_CHUNK_BYTES}`)
    .default(4 * 2 ** 20),
  /**
   * The most output of its jobs, written to their files and not yet stored, a node takes on while the log store is
   * away or refusing: past it the node claims no new job (its running jobs go on) until the store has taken enough.
   */
  CONDUCTOR_LOG_SPOOL_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .max(Number.MAX_SAFE_INTEGER)
    .default(2 ** 30),
};

export type NodeSettings = z.infer<ReturnType<typeof z.object<typeof nodeSettings>>>;
