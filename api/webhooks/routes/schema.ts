import { z } from '@hono/zod-openapi';
import { JOB_STATES } from '../../../shared/job/job-state.js';
import { identifier } from '../../../shared/names.js';
import { idParam } from '../../http/id-param.js';
import type { Webhook, WebhookDelivery } from '../webhook-store.js';

const url = z
  .string()
  .max(2048)
  .refine((value) => URL.canParse(value), 'must be an absolute URL')
  .openapi({ example: 'https://ci.example.org/conductor-hook' });

const states = z
  .array(z.enum(JOB_STATES, `must be job states: ${JOB_STATES.join(', ')}`))
  .min(1)
  // Each state once: the list is kept and answered as given. (No .max: zod also applies it to a string sent in the
  // array's place, adding a confusing "at most 8 characters" to the type error; distinct states are at most 8.)
  .refine((list) => new Set(list).size === list.length, 'must name each state once')
  .nullable()
  .openapi({
    description:
      'Only events into these job states (as GET /v1/events?state= names them); null or absent: every job event.',
    example: ['COMPLETED', 'FAILED'],
  });

const secret = z
  .string()
  .min(16, 'must be at least 16 characters')
  .max(256)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
  .openapi({ description: 'The HMAC key deliveries are signed with.' });

export const CreateWebhookRequest = z
  .object({
    url,
    account: identifier('account')
      .optional()
      .openapi({ description: "Whose jobs' events: required for an admin token; a user token's is always its own." }),
    states: states.optional(),
    secret: secret.optional().openapi({ description: 'The HMAC key; made by the API when absent (whsec_…).' }),
  })
  .strict()
  .openapi('CreateWebhookRequest');

export const UpdateWebhookRequest = z
  .object({ url: url.optional(), states: states.optional(), secret: secret.optional() })
  .strict()
  .openapi('UpdateWebhookRequest');

export const WebhookView = z
  .object({
    id: z.string(),
    account: z.string(),
    url: z.string(),
    states: z.array(z.string()).nullable(),
    created_at: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Webhook');

export const CreatedWebhook = WebhookView.extend({
  secret: z.string().openapi({
    description:
      'The signing secret. Shown only here; the API keeps it as given (it must sign with it) and never answers it again.',
  }),
}).openapi('CreatedWebhook');

export const DeliveryView = z
  .object({
    id: z.string(),
    event_id: z.string().openapi({ description: "The Conductor-Event-Id header and the body's id." }),
    job_id: z.string(),
    type: z.string().openapi({ example: 'job.transition' }),
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number().int(),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    last_attempt_at: z.string().nullable().openapi({ format: 'date-time' }),
    next_attempt_at: z.string().nullable().openapi({ format: 'date-time' }),
    delivered_at: z.string().nullable().openapi({ format: 'date-time' }),
    failed_at: z.string().nullable().openapi({ format: 'date-time' }),
    created_at: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('WebhookDelivery');

export const WebhookIdParam = idParam('id', 'a webhook id');
export const DeliveryParams = WebhookIdParam.extend(idParam('delivery', 'a delivery id').shape);

export const DeliveriesQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(100)
    .openapi({ description: 'At most this many, newest first.' }),
  before: z
    .string()
    .regex(/^[1-9][0-9]{0,14}$/, 'must be a delivery id')
    .optional()
    .openapi({ description: 'Only deliveries older than this one (the next page).' }),
});

export function webhookView(webhook: Webhook): z.infer<typeof WebhookView> {
  return {
    id: String(webhook.id),
    account: webhook.account,
    url: webhook.url,
    states: webhook.states,
    created_at: webhook.createdAt.toISOString(),
  };
}

export function deliveryView(delivery: WebhookDelivery): z.infer<typeof DeliveryView> {
  const iso = (date: Date | null) => date?.toISOString() ?? null;
  return {
    id: String(delivery.id),
    event_id: delivery.eventId,
    job_id: String(delivery.jobId),
    type: delivery.type,
    status: delivery.deliveredAt ? 'delivered' : delivery.failedAt ? 'failed' : 'pending',
    attempts: delivery.attempts,
    last_status_code: delivery.lastStatus,
    last_error: delivery.lastError,
    last_attempt_at: iso(delivery.lastAttemptAt),
    next_attempt_at: iso(delivery.nextAttemptAt),
    delivered_at: iso(delivery.deliveredAt),
    failed_at: iso(delivery.failedAt),
    created_at: delivery.createdAt.toISOString(),
  };
}
