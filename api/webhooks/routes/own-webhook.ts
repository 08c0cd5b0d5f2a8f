import type { Context } from 'hono';
import type { AppEnv } from '../../app-env.js';
import { accountScope } from '../../auth/principal.js';
import { ValidationFailed, WebhookNotFound } from '../../http/errors.js';
import { getWebhook, type Webhook } from '../webhook-store.js';

/** The subscription `id` names, if this principal may manage it: another account's is answered 404, as if none. */
export async function ownWebhook(c: Context<AppEnv>, id: string): Promise<Webhook> {
  const webhook = await getWebhook(c.var.db, Number(id));
  const own = accountScope(c.var.principal);
  if (!webhook || (own !== undefined && own !== webhook.account)) throw new WebhookNotFound(id);
  return webhook;
}

/** @throws ValidationFailed naming `url` when CONDUCTOR_WEBHOOK_ALLOW refuses it (webhook-targets.ts). */
export async function checkTarget(c: Context<AppEnv>, url: string): Promise<void> {
  const { allow, resolve } = c.var.services.webhooks;
  const refusal = await allow.refusal(new URL(url), resolve);
  if (refusal) throw new ValidationFailed([{ field: 'url', message: refusal }]);
}
