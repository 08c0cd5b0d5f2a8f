/**
 * Who may scrape `/metrics` (Prometheus), the same names on the API hosts and the node daemon: a bearer token of its
 * own, and (Node processes only) a listener of its own, so that the metrics need not be reachable where the API is.
 */
import { z } from 'zod';

/** Both API hosts and the daemon. */
export const metricsTokenSettings = {
  CONDUCTOR_METRICS_TOKEN: z
    .string()
    .min(32, 'must be at least 32 characters')
    .regex(/^\S+$/, 'must not contain spaces')
    .optional()
    .describe('A bearer token that may read /metrics and nothing else.'),
};

/** Node processes: the API's Node host and the node daemon. */
export const metricsListenSettings = {
  CONDUCTOR_METRICS_PORT: z.coerce
    .number({ error: 'must be a port number' })
    .int('must be a whole number')
    .min(0)
    .max(65535)
    .optional()
    .describe('Serve /metrics on this port only (0: any free port); unset: on the API port (a daemon: nowhere).'),
  CONDUCTOR_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
};
