/** `npm run node`: a node daemon on its own machine, talking to the API over HTTPS and claiming from the queue. */
import { z } from 'zod';
import { readSecretFile } from './secret-file.js';
import { checkLogStoreSettings, logStoreSettings } from './log-store-settings.js';
import { logSettings } from './log-settings.js';
import { metricsListenSettings, metricsTokenSettings } from './metrics-settings.js';
import { nodeSettings } from './node-settings.js';
import { queueSettings } from './queue-settings.js';
import { readConfig } from './read-config.js';

const NOT_A_TOKEN = 'must be a node token made with POST /v1/tokens';

export const NodeDaemonConfigSchema = z
  .object({
    ...nodeSettings,
    ...queueSettings,
    ...logStoreSettings,
    ...metricsTokenSettings,
    ...metricsListenSettings,
    ...logSettings,
    CONDUCTOR_API_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
    CONDUCTOR_NODE_TOKEN: z.string().min(16, NOT_A_TOKEN).optional(),
    // A service keeps its token out of its environment: a file only its user reads (see README, "Install a node daemon").
    CONDUCTOR_NODE_TOKEN_FILE: z.string().optional(),
    UPSTASH_REDIS_REST_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
    UPSTASH_REDIS_REST_TOKEN: z.string().min(1).optional(),
  })
  .superRefine((config, ctx) => {
    checkLogStoreSettings(config, ctx);
    if ((config.CONDUCTOR_NODE_TOKEN === undefined) === (config.CONDUCTOR_NODE_TOKEN_FILE === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['CONDUCTOR_NODE_TOKEN'],
        message:
          config.CONDUCTOR_NODE_TOKEN === undefined
            ? 'required (a node token made with POST /v1/tokens), or CONDUCTOR_NODE_TOKEN_FILE naming a file that holds one'
            : 'set CONDUCTOR_NODE_TOKEN or CONDUCTOR_NODE_TOKEN_FILE, not both',
      });
    }
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
  })
  .transform((config, ctx) => {
    if (config.CONDUCTOR_NODE_TOKEN_FILE === undefined)
      return { ...config, CONDUCTOR_NODE_TOKEN: config.CONDUCTOR_NODE_TOKEN! };
    let token: string;
    try {
      token = readSecretFile(config.CONDUCTOR_NODE_TOKEN_FILE);
    } catch (error) {
      ctx.addIssue({ code: 'custom', path: ['CONDUCTOR_NODE_TOKEN_FILE'], message: (error as Error).message });
      return z.NEVER;
    }
    if (token.length < 16) {
      ctx.addIssue({ code: 'custom', path: ['CONDUCTOR_NODE_TOKEN_FILE'], message: `holds no token: ${NOT_A_TOKEN}` });
      return z.NEVER;
    }
    return { ...config, CONDUCTOR_NODE_TOKEN: token };
  });

export type NodeDaemonConfig = z.infer<typeof NodeDaemonConfigSchema>;

export const readNodeDaemonConfig = (env: Record<string, string | undefined>) =>
  readConfig(NodeDaemonConfigSchema, env);
