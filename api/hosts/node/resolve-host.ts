/** Node-only: every address a name resolves to, as the system resolver answers (webhook-targets.ts's ResolveHost). */
import { lookup } from 'node:dns/promises';
import type { ResolveHost } from '../../webhooks/webhook-targets.js';

export const resolveHost: ResolveHost = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);
