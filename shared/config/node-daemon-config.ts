/** `npm run node`: a node daemon on its own machine, talking to the API over HTTPS and claiming from the queue. */
import { z } from 'zod';
import { checkLogStoreSettings, logStoreSettings } from './log-store-settings.js';
import { nodeSettings } from './node-settings.js';
import { queueSettings } from './queue-settings.js';
import { readConfig } from './read-config.js';

export const NodeDaemonConfigSchema = z
  .object({
    ...nodeSettings,
    ...queueSettings,
    ...logStoreSettings,
    CONDUCTOR_API_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
    CONDUCTOR_NODE_TOKEN: z.string().min(16, 'must be a node token made with POST /v1/tokens'),
    UPSTASH_REDIS_REST_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
    UPSTASH_REDIS_REST_TOKEN: z.string().min(1).optional(),
  })
  .superRefine((config, ctx) => {
    checkLogStoreSettings(config, ctx);
    if (config.CONDUCTOR_LOG_DIR === undefined && config.CONDUCTOR_S3_ENDPOINT === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['CONDUCTOR_LOG_DIR'],
        message:
          "a node ships its jobs' output to the API's log store: set the CONDUCTOR_S3_* variables, or CONDUCTOR_LOG_DIR to a directory the API reads too",
      });
    }
    if ((config.UPSTASH_REDIS_REST_URL === undefined) !== (config.UPSTASH_REDIS_REST_TOKEN === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['UPSTASH_REDIS_REST_TOKEN'],
        message: 'set both Upstash variables, or neither',
      });
    }
    if (config.UPSTASH_REDIS_REST_URL !== undefined && config.REDIS_URL !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['REDIS_URL'],
        message: 'set REDIS_URL or the Upstash variables, not both',
      });
    }
  });

export type NodeDaemonConfig = z.infer<typeof NodeDaemonConfigSchema>;

export const readNodeDaemonConfig = (env: Record<string, string | undefined>) =>
  readConfig(NodeDaemonConfigSchema, env);
