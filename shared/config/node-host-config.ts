/**
 * The Node host's configuration: one schema, read from the environment once at start-up. A bad value stops the
 * start with a message that names the variable.
 */
import { z } from 'zod';

const port = z.coerce.number({ error: 'must be a port number' }).int('must be a whole number').min(1).max(65535);

export const NodeHostConfigSchema = z.object({
  PORT: port.default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// or postgresql:// URL')
    .optional()
    .describe('A Postgres server; without it the embedded PGlite database in CONDUCTOR_DATA_DIR is used.'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL')
    .optional()
    .describe('The dispatch queue; without it the Postgres queue is used.'),
  CONDUCTOR_REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 letters, digits, _ . : or -')
    .default('conductor:'),
  CONDUCTOR_DATA_DIR: z.string().min(1).default('./.conductor'),
  CONDUCTOR_ADMIN_TOKEN: z
    .string()
    .min(32, 'must be at least 32 characters: it is a password for everything')
    .regex(/^\S+$/, 'must not contain spaces')
    .optional(),
  CONDUCTOR_TOKEN_CACHE_SECONDS: z.coerce.number().min(0).max(300).default(5),
  CONDUCTOR_DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  CONDUCTOR_CLAIM_WINDOW: z.coerce.number().int().min(1).max(10_000).default(64),
  CONDUCTOR_STARVATION_SECONDS: z.coerce.number().min(0).max(86_400).default(30),
  CONDUCTOR_RECONCILE_SECONDS: z.coerce.number().min(1).max(3600).default(10),
  CONDUCTOR_NODE_TIMEOUT_SECONDS: z.coerce.number().min(5).max(86_400).default(60),
});

export type NodeHostConfig = z.infer<typeof NodeHostConfigSchema>;

export class ConfigError extends Error {}

export function readNodeHostConfig(env: Record<string, string | undefined>): NodeHostConfig {
  // An empty variable is treated as unset, as shells make it easy to export one by accident.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = NodeHostConfigSchema.safeParse(present);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}
