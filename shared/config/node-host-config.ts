/**
 * The Node host's configuration: one schema, read from the environment once at start-up. A bad value stops the
 * start with a message that names the variable.
 */
import { z } from 'zod';
import { apiSettings } from './api-settings.js';
import { checkLogStoreSettings, logStoreSettings } from './log-store-settings.js';
import { logSettings } from './log-settings.js';
import { metricsListenSettings, metricsTokenSettings } from './metrics-settings.js';
import { nodeSettings } from './node-settings.js';
import { queueSettings } from './queue-settings.js';
import { readConfig } from './read-config.js';
import { checkPriorityWeights, prioritySettings } from './priority-settings.js';
import { checkRetention, retentionSettings } from './retention-settings.js';

const port = z.coerce.number({ error: 'must be a port number' }).int('must be a whole number').min(1).max(65535);

export const NodeHostConfigSchema = z
  .object({
    PORT: port.default(8080),
    HOST: z.string().min(1).default('127.0.0.1'),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// or postgresql:// URL')
      .optional()
      .describe('A Postgres server; without it the embedded PGlite database in CONDUCTOR_DATA_DIR is used.'),
    ...queueSettings,
    ...nodeSettings,
    CONDUCTOR_LOCAL_NODE: z
      .enum(['on', 'off'], 'must be on or off')
      .optional()
      .describe('Run a node daemon in the API process; on by default for the embedded database only.'),
    CONDUCTOR_DATA_DIR: z.string().min(1).default('./.conductor'),
    ...apiSettings,
    CONDUCTOR_TOKEN_CACHE_SECONDS: z.coerce.number().min(0).max(300).default(5),
    CONDUCTOR_DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
    CONDUCTOR_RECONCILE_SECONDS: z.coerce.number().min(1).max(3600).default(10),
    // Its meaning changed (a silence limit without fencing): a deployment that set it must choose a lease anew.
    CONDUCTOR_NODE_TIMEOUT_SECONDS: z
      .never({
        error: 'was replaced by CONDUCTOR_NODE_LEASE_SECONDS (seconds or never; the README says the trade-off)',
      })
      .optional(),
    ...logStoreSettings,
    CONDUCTOR_LOG_POLL_MS: z.coerce.number().int().min(20).max(10_000).default(250),
    ...retentionSettings,
    ...prioritySettings,
    ...metricsTokenSettings,
    ...metricsListenSettings,
    ...logSettings,
  })
  .superRefine(checkLogStoreSettings)
  .superRefine(checkRetention)
  .superRefine(checkPriorityWeights);

export type NodeHostConfig = z.infer<typeof NodeHostConfigSchema>;

export const readNodeHostConfig = (env: Record<string, string | undefined>) => readConfig(NodeHostConfigSchema, env);
