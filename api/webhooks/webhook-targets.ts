/**
 * Where webhooks may post (CONDUCTOR_WEBHOOK_ALLOW): by default anywhere public over https, never to loopback,
 * private (RFC 1918, RFC 4193), link-local (with the cloud metadata address 169.254.169.254), CGNAT (RFC 6598),
 * unspecified, multicast or broadcast addresses, nor to names like localhost (RFC 6761). The admin's allow-list names
 * hosts (exactly, case-insensitive) and addresses or CIDR ranges that are let through anyway, and over plain http too.
 *
 * A name is checked by every address it resolves to, when the host can resolve (the Node host, at subscription and
 * again before every delivery, so a name that later resolves elsewhere (DNS rebinding) is refused then); the Worker
 * cannot resolve and needs not: Workers' fetch reaches no private range. Web-only: the Worker bundles this.
 */

/** Every address a name resolves to (IPv4 dotted, IPv6 text); throws when it cannot be resolved. */
export type ResolveHost = (hostname: string) => Promise<string[]>;

/** An address as 128 bits: IPv4 as its IPv4-mapped IPv6 address (::ffff:a.b.c.d, RFC 4291 2.5.5.2). */
type Address = bigint;

interface Range {
  base: Address;
  bits: number;
}

const MAPPED = 0xffffn << 32n;

const REFUSED: readonly Range[] = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '224.0.0.0/4',
  '255.255.255.255/32',
  '::/128',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
  'ff00::/8',
].map((text) => parseRange(text)!);

export class WebhookAllowList {
  private constructor(
    private readonly hosts: ReadonlySet<string>,
    private readonly ranges: readonly Range[],
  ) {}

  static readonly NONE = new WebhookAllowList(new Set(), []);

  /**
   * CONDUCTOR_WEBHOOK_ALLOW: entries separated by commas or spaces, each a host name, an address, or a CIDR range.
   * @throws Error naming the entry that is none of these
   */
  static parse(text: string | undefined): WebhookAllowList {
    const hosts = new Set<string>();
    const ranges: Range[] = [];
    for (const entry of (text ?? '').split(/[\s,]+/).filter(Boolean)) {
      const range = parseRange(entry.includes('/') ? entry : `${entry}/${entry.includes(':') ? 128 : 32}`);
      if (range) ranges.push(range);
      else if (/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(entry) && !/^[0-9.]+$/.test(entry))
        hosts.add(entry.toLowerCase());
      else throw new Error(`CONDUCTOR_WEBHOOK_ALLOW: "${entry}" is no host name, address or CIDR range`);
    }
    return new WebhookAllowList(hosts, ranges);
  }

  /** Why `url` may not be posted to, or null when it may. `resolve` absent: names are checked by name only. */
  async refusal(url: URL, resolve: ResolveHost | undefined): Promise<string | null> {
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an https URL';
    if (url.username || url.password) return 'must not carry a user name or password';
    const host = url.hostname.toLowerCase();
    const bare = host.replace(/^\[|\]$/g, '');
    const literal = parseAddress(bare);
    const named = literal === null && this.hosts.has(host);
    const allowedLiteral = literal !== null && this.ranges.some((range) => inRange(literal, range));
    if (named || allowedLiteral) return null;
    if (literal !== null && refusedAddress(bare)) return `${bare} is a private or local address`;
    if (host === 'localhost' || host.endsWith('.localhost')) return `${host} is a local name`;
    if (url.protocol === 'http:') return 'must be an https URL (http only to a host CONDUCTOR_WEBHOOK_ALLOW names)';
    if (literal !== null) return null;
    if (!resolve) return null;
    let addresses: string[];
    try {
      addresses = await resolve(host);
    } catch (error) {
      return `${host} does not resolve: ${(error as Error).message}`;
    }
    for (const text of addresses) {
      const address = parseAddress(text);
      if (address === null) return `${host} resolves to ${text}, which is no address`;
      if (this.ranges.some((range) => inRange(address, range))) continue;
      if (refusedAddress(text)) return `${host} resolves to ${text}, a private or local address`;
    }
    return null;
  }
}

function refusedAddress(text: string): boolean {
  const address = parseAddress(text);
  return address !== null && REFUSED.some((range) => inRange(address, range));
}

function inRange(address: Address, range: Range): boolean {
  const shift = BigInt(128 - range.bits);
  return address >> shift === range.base >> shift;
}

function parseRange(text: string): Range | null {
  const [addressText, bitsText, ...rest] = text.split('/');
  if (rest.length || bitsText === undefined || !/^[0-9]{1,3}$/.test(bitsText)) return null;
  const address = parseAddress(addressText!);
  const v4 = !addressText!.includes(':');
  const bits = Number(bitsText) + (v4 ? 96 : 0);
  if (address === null || bits > 128 || (v4 && Number(bitsText) > 32)) return null;
  return { base: address, bits };
}

/** An IPv4 dotted quad or an IPv6 address (RFC 4291 2.2, with an IPv4 tail) as 128 bits; null when neither. */
function parseAddress(text: string): Address | null {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const octets = v4.slice(1).map(Number);
    if (octets.some((octet) => octet > 255)) return null;
    return MAPPED | BigInt(octets.reduce((sum, octet) => sum * 256 + octet, 0));
  }
  if (!text.includes(':') || !/^[0-9a-f:.]+$/i.test(text)) return null;
  // An IPv4 tail (::ffff:127.0.0.1) written as its two words.
  let head = text;
  const dotted = /(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(text);
  if (dotted) {
    const v4tail = parseAddress(dotted[1]!);
    if (v4tail === null) return null;
    const low = v4tail & 0xffffffffn;
    head = `${text.slice(0, -dotted[1]!.length)}${(low >> 16n).toString(16)}:${(low & 0xffffn).toString(16)}`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const words = (part: string | undefined) => (part ? part.split(':') : []);
  const left = words(halves[0]);
  const right = words(halves[1]);
  if ([...left, ...right].some((word) => !/^[0-9a-f]{1,4}$/i.test(word))) return null;
  const given = left.length + right.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return null;
  const all = [
    ...left.map((word) => BigInt(`0x${word}`)),
    ...Array<bigint>(8 - given).fill(0n),
    ...right.map((word) => BigInt(`0x${word}`)),
  ];
  return all.reduce((sum, word) => (sum << 16n) | word, 0n);
}
