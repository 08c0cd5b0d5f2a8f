/**
 * CONDUCTOR_NODE_LEASE_SECONDS, the API's: how long a node's heartbeat keeps it the owner of its runs. A node that
 * cannot renew its lease stops its runs before it ends; the API settles a silent node's jobs (requeued or NODE_FAIL)
 * only after it has ended, so no two attempts of a job ever run at once. `never`: runs go on through any API outage,
 * and a silent node's jobs are settled only when it returns or an admin declares it DOWN.
 */
import { z } from 'zod';

/** Slurm's SlurmdTimeout: a node silent this long is lost. */
export const DEFAULT_NODE_LEASE_SECONDS = 300;
/**
 * A busy daemon beats every second (CONDUCTOR_HEARTBEAT_SECONDS) and stops its runs at half the lease at the latest
 * when it is not renewed: a lease of a few heartbeats or less would stop every job on a healthy node.
 */
export const MIN_NODE_LEASE_SECONDS = 5;
export const MAX_NODE_LEASE_SECONDS = 86_400;

/** The lease in ms, or null for `never`. */
export type NodeLeaseMs = number | null;

export const nodeLeaseSetting = z
  .union([
    z.literal('never'),
    z
      .string()
      .trim()
      // Decimal seconds only: Number() would also take 0x10 and 1e3.
      .regex(/^[0-9]+(\.[0-9]+)?$/, 'must be a number of seconds or never')
      .transform(Number)
      .pipe(z.number().min(MIN_NODE_LEASE_SECONDS).max(MAX_NODE_LEASE_SECONDS)),
  ])
  .default(DEFAULT_NODE_LEASE_SECONDS)
  .transform((value): NodeLeaseMs => (value === 'never' ? null : value * 1000))
  .describe('How long a heartbeat keeps a node the owner of its runs, in seconds, or never.');

/** The setting from an environment's text (the Workers host reads its bindings this way); throws naming it. */
export function parseNodeLease(text: string | undefined): NodeLeaseMs {
  const parsed = nodeLeaseSetting.safeParse(text === '' ? undefined : text);
  if (!parsed.success) {
    throw new Error(
      `CONDUCTOR_NODE_LEASE_SECONDS must be never or a number of seconds from ${MIN_NODE_LEASE_SECONDS} to ${MAX_NODE_LEASE_SECONDS}`,
    );
  }
  return parsed.data;
}
