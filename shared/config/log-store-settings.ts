/**
 * Where job output is kept: an S3-compatible bucket (CONDUCTOR_S3_*), or a directory (CONDUCTOR_LOG_DIR) that the API
 * and every node daemon reach. The API and the daemons must be given the same store.
 */
import { z } from 'zod';

export const logStoreSettings = {
  CONDUCTOR_LOG_DIR: z.string().min(1).optional(),
  CONDUCTOR_S3_ENDPOINT: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  CONDUCTOR_S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a bucket name (3 to 63 of a-z, 0-9, dots and dashes)')
    .optional(),
  CONDUCTOR_S3_REGION: z.string().min(1).default('auto'),
  CONDUCTOR_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  CONDUCTOR_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /** Prepended to every object name, so one bucket can serve several installations. */
  CONDUCTOR_LOG_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9!_.*'()/-]*$/, "must be made of letters, digits and !_.*'()/-")
    .default(''),
};

export type LogStoreSettings = z.infer<ReturnType<typeof z.object<typeof logStoreSettings>>>;

/** The rules between the variables: S3 needs all its parts, and one store is meant, not two. */
export function checkLogStoreSettings(config: LogStoreSettings, ctx: z.RefinementCtx): void {
  if (config.CONDUCTOR_S3_ENDPOINT === undefined) return;
  for (const name of ['CONDUCTOR_S3_BUCKET', 'CONDUCTOR_S3_ACCESS_KEY_ID', 'CONDUCTOR_S3_SECRET_ACCESS_KEY'] as const) {
    if (config[name] === undefined)
      ctx.addIssue({ code: 'custom', path: [name], message: 'needed with CONDUCTOR_S3_ENDPOINT' });
  }
  if (config.CONDUCTOR_LOG_DIR !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['CONDUCTOR_LOG_DIR'],
      message: 'set CONDUCTOR_LOG_DIR or CONDUCTOR_S3_ENDPOINT, not both',
    });
  }
}
