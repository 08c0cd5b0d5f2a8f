/**
 * A delivery's signature, as Stripe signs its webhooks: `Conductor-Signature: t=<unix seconds>,v1=<hex>`, the hex being
 * HMAC-SHA256 (RFC 2104) keyed with the subscription's secret over `<t>.<body>`. The time in the signed text lets a
 * receiver refuse a replayed delivery (sdk/webhook-signature.ts checks both). Web Crypto: the Worker bundles this.
 */
export const SIGNATURE_HEADER = 'Conductor-Signature';
export const EVENT_ID_HEADER = 'Conductor-Event-Id';

/** The header's value for `body` signed at `at`. */
export async function signatureHeader(secret: string, body: string, at: Date): Promise<string> {
  const t = Math.floor(at.getTime() / 1000);
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(`${t}.${body}`)));
  return `t=${t},v1=${[...mac].map((byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

/** A secret for a subscription that was given none: 32 random bytes, hex, with Stripe's recognisable prefix. */
export function newWebhookSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `whsec_${[...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}
