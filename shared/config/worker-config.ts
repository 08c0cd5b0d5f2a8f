/**
 * The Workers host's configuration: every variable of its Env, in one schema, read once per isolate. Bindings
 * cannot be read before the first request, so unlike the Node host it cannot refuse to start: the Worker answers
 * with what is wrong instead (api/hosts/workers/worker.ts).
 */
import { metricsTokenSettings } from './metrics-settings.js';
import { logSettings } from './log-settings.js';
import { z } from 'zod';
import { apiSettings } from './api-settings.js';
import { checkLogStoreSettings, logStoreSettings } from './log-store-settings.js';
import { queueSettings } from './queue-settings.js';
import { readConfig } from './read-config.js';
import { checkPriorityWeights, prioritySettings } from './priority-settings.js';
import { checkRetention, retentionSettings } from './retention-settings.js';

/** A variable the Worker cannot run without: unset reads "is not set", not zod's "expected string". */
const required = (rule: string) =>
  z.string({ error: (issue) => (issue.input === undefined ? 'is not set' : rule) }).min(1, 'is not set');

// A Worker has no directory to share with the nodes.
const { CONDUCTOR_LOG_DIR: _noLogDir, ...workerLogStoreSettings } = logStoreSettings;

export const WorkerConfigSchema = z
  .object({
    DATABASE_URL: required('must be a postgres:// URL').regex(
      /^postgres(ql)?:\/\/\S+$/,
      'must be a postgres:// or postgresql:// URL',
    ),
    UPSTASH_REDIS_REST_URL: required('must be an https:// URL').regex(
      /^https?:\/\/\S+$/,
      'must be an https:// URL (the REST URL of the Upstash database)',
    ),
    UPSTASH_REDIS_REST_TOKEN: required('must be the REST token of the Upstash database'),
    CONDUCTOR_REDIS_PREFIX: queueSettings.CONDUCTOR_REDIS_PREFIX,
    ...apiSettings,
    ...workerLogStoreSettings,
    ...retentionSettings,
    ...prioritySettings,
    // Under the minutes after which a platform or proxy may cut a response, with room for the last read.
    CONDUCTOR_EVENT_STREAM_SECONDS: z.coerce
      .number('must be a whole number of seconds')
      .int('must be a whole number of seconds')
      .min(1, 'must be 1 to 300 seconds')
      .max(300, 'must be 1 to 300 seconds')
      .default(25)
      .describe('How long a GET /v1/events stream lasts before it ends with a retry: hint (the client resumes).'),
    ...metricsTokenSettings,
    // A Worker's lines are JSON always: Workers Logs index them.
    CONDUCTOR_LOG_LEVEL: logSettings.CONDUCTOR_LOG_LEVEL,
    CONDUCTOR_NEON_WS_PROXY: z
      .string()
      .regex(/^[A-Za-z0-9.[\]:-]+:[0-9]+(\/\S*)?$/, 'must be host:port/path of a WebSocket proxy')
      .optional(),
  })
  .superRefine((config, ctx) => checkLogStoreSettings({ ...config, CONDUCTOR_LOG_DIR: undefined }, ctx))
  .superRefine(checkRetention)
  .superRefine(checkPriorityWeights);

export type WorkerConfig = z.infer<typeof WorkerConfigSchema>;

/** The Worker's variables, validated; throws ConfigError naming every bad one. */
export const readWorkerConfig = (env: Record<string, unknown>) =>
  readConfig(
    WorkerConfigSchema,
    // Bindings that are not text (the R2 bucket) are not variables.
    Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === 'string')),
  );
