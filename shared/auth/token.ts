/**
 * API tokens: 256 random bits, shown once, stored as their SHA-256. Web crypto only, so the Worker can use it.
 */
import type { TokenKind } from '../db/schema.js';

export function generateToken(kind: TokenKind): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const body = btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
  // The prefix makes a leaked token recognisable to secret scanners and to people.
  return `cnd_${kind}_${body}`;
}

export async function hashToken(token: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
}
