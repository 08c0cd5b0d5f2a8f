/**
 * For webhook receivers: checks a delivery's `Conductor-Signature` header (`t=<unix seconds>,v1=<hex>`, as Stripe
 * signs: HMAC-SHA256 keyed with the subscription's secret over `<t>.<raw body>`). Web Crypto only, so it runs in
 * Node 20+, Deno, Bun, browsers and Workers. Pass the body exactly as received, before any JSON parsing.
 */

/**
 * True when one v1 signature in `header` is `body`'s under `secret` and its time is within `toleranceSeconds` of
 * `nowSeconds` (default: the clock), which refuses a replay of an old delivery. Several v1 entries are accepted (as
 * Stripe's receivers accept them) so that a sender may sign with two secrets while one replaces the other.
 */
export async function verifyWebhookSignature(
  secret: string,
  header: string | null | undefined,
  body: string,
  toleranceSeconds = 300,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<boolean> {
  const parts = (header ?? '').split(',').map((part) => part.trim().split('=') as [string, string | undefined]);
  const t = parts.find(([key]) => key === 't')?.[1];
  if (t === undefined || !/^[0-9]{1,12}$/.test(t) || Math.abs(nowSeconds - Number(t)) > toleranceSeconds) return false;
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'verify',
  ]);
  for (const [name, hex] of parts) {
    if (name !== 'v1' || hex === undefined || !/^[0-9a-f]{64}$/.test(hex)) continue;
    const mac = new Uint8Array(hex.match(/../g)!.map((byte) => parseInt(byte, 16)));
    // subtle.verify compares in constant time.
    if (await crypto.subtle.verify('HMAC', key, mac, encoder.encode(`${t}.${body}`))) return true;
  }
  return false;
}
