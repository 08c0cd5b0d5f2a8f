/**
 * How the dispatch queue is reached and tuned. The API and a node daemon that claims from Redis directly must agree
 * on all of it, so both configurations take these same variables.
 */
import { z } from 'zod';
import type { QueueTuning } from '../queue/job-queue.js';

export const queueSettings = {
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL')
    .optional()
    .describe('The dispatch queue; without it the Postgres queue is used.'),
  CONDUCTOR_REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 letters, digits, _ . : or -')
    .default('conductor:'),
  CONDUCTOR_CLAIM_WINDOW: z.coerce.number().int().min(1).max(10_000).default(64),
  CONDUCTOR_STARVATION_SECONDS: z.coerce.number().min(0).max(86_400).default(30),
  CONDUCTOR_BACKFILL: z
    .enum(['on', 'off'])
    .default('on')
    .describe('Whether a job may start past a reserved head when its time limit ends before the head can start.'),
};

type QueueSettings = { [K in keyof typeof queueSettings]: z.infer<(typeof queueSettings)[K]> };

/** The queue's tuning as these settings say it. */
export function queueTuning(
  config: Pick<QueueSettings, 'CONDUCTOR_CLAIM_WINDOW' | 'CONDUCTOR_STARVATION_SECONDS' | 'CONDUCTOR_BACKFILL'>,
): QueueTuning {
  return {
    window: config.CONDUCTOR_CLAIM_WINDOW,
    starvationMs: config.CONDUCTOR_STARVATION_SECONDS * 1000,
    backfill: config.CONDUCTOR_BACKFILL === 'on',
  };
}
