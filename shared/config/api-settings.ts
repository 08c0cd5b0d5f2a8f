/**
 * The API's own settings, the same on both hosts: the Node host's schema and the Worker's spread them, so a value one
 * host accepts the other accepts too.
 */
import { z } from 'zod';
import { nodeLeaseSetting } from './node-lease-setting.js';

export const apiSettings = {
  CONDUCTOR_ADMIN_TOKEN: z
    .string()
    .min(32, 'must be at least 32 characters: it is a password for everything')
    .regex(/^\S+$/, 'must not contain spaces')
    .optional(),
  CONDUCTOR_MAX_FOLLOWS: z.coerce
    .number({ error: 'must be a whole number from 1 to 10000' })
    .int('must be a whole number from 1 to 10000')
    .min(1)
    .max(10_000)
    .default(16),
  CONDUCTOR_NODE_LEASE_SECONDS: nodeLeaseSetting,
  // Checked entry by entry when the host starts (api/webhooks/webhook-targets.ts); here only its alphabet.
  CONDUCTOR_WEBHOOK_ALLOW: z
    .string()
    .regex(/^[\s,0-9a-zA-Z.:/-]*$/, 'must be host names, addresses or CIDR ranges, separated by commas or spaces')
    .optional(),
};
