import { z } from '@hono/zod-openapi';
import { TOKEN_KINDS, type TokenRow } from '../../../../shared/db/schema.js';
import { identifier, label, unixUser } from '../../../../shared/names.js';
import { idParam } from '../../../http/id-param.js';

export const CreateTokenRequest = z
  .object({
    name: label(128).openapi({ example: 'alice laptop' }),
    kind: z.enum(TOKEN_KINDS),
    account: identifier('account').optional().openapi({ description: 'Required for a user token.' }),
    user: unixUser().optional().openapi({
      description: 'Required for a user token: the Unix login its jobs run as (never root).',
      example: 'alice',
    }),
    node: identifier('node').optional().openapi({ description: 'Required for a node token.' }),
    partitions: z
      .array(identifier('partition'))
      .min(1)
      .max(256)
      .optional()
      .openapi({ description: 'Required for a node token: the partitions its node may serve.', example: ['batch'] }),
  })
  .strict()
  .superRefine((body, ctx) => {
    if ((body.kind === 'user') !== (body.account !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['account'], message: 'is required for a user token and only for one' });
    }
    if ((body.kind === 'user') !== (body.user !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['user'], message: 'is required for a user token and only for one' });
    }
    if ((body.kind === 'node') !== (body.node !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['node'], message: 'is required for a node token and only for one' });
    }
    if ((body.kind === 'node') !== (body.partitions !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['partitions'], message: 'is required for a node token and only for one' });
    }
  })
  .openapi('CreateTokenRequest');

export const Token = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(TOKEN_KINDS),
    account: z.string().nullable(),
    user: z.string().nullable().openapi({
      description:
        "A user token's Unix user; null for other kinds, and for a user token made before owners whose name was no login name: it cannot submit until an admin sets one.",
    }),
    node: z.string().nullable(),
    partitions: z
      .array(z.string())
      .nullable()
      .openapi({ description: "A node token's grant: the partitions its node may serve." }),
    created_at: z.string().openapi({ format: 'date-time' }),
    revoked_at: z.string().nullable().openapi({ format: 'date-time' }),
  })
  .openapi('Token');

export const CreatedToken = Token.extend({
  token: z.string().openapi({ description: 'The secret. Shown once, stored only as a hash.' }),
}).openapi('CreatedToken');

export const TokenIdParam = idParam('id', 'a token id');

export const UpdateTokenRequest = z
  .object({ user: unixUser().openapi({ description: 'The Unix login its jobs run as, from now on (never root).' }) })
  .strict()
  .openapi('UpdateTokenRequest');

export function tokenView(row: TokenRow): z.infer<typeof Token> {
  return {
    id: String(row.id),
    name: row.name,
    kind: row.kind,
    account: row.account,
    user: row.user,
    node: row.nodeName,
    partitions: row.partitions,
    created_at: row.createdAt.toISOString(),
    revoked_at: row.revokedAt?.toISOString() ?? null,
  };
}
