/**
 * The protocol version of a node endpoint's request (shared/protocol/protocol-version.ts): served when it is the
 * API's own or the one before, refused (400 protocol_unsupported, naming both sides' versions) otherwise. Every
 * answer says the API's own version, so a daemon can tell an API it cannot speak to.
 */
import { createMiddleware } from 'hono/factory';
import {
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
  protocolOf,
  SERVED_PROTOCOL_VERSIONS,
} from '../../shared/protocol/protocol-version.js';
import type { AppEnv } from '../app-env.js';
import { ProtocolUnsupported } from './errors.js';

export const nodeProtocol = createMiddleware<AppEnv>(async (c, next) => {
  c.header(PROTOCOL_HEADER, String(PROTOCOL_VERSION));
  const version = protocolOf(c.req.header(PROTOCOL_HEADER));
  if (!SERVED_PROTOCOL_VERSIONS.includes(version)) {
    throw new ProtocolUnsupported(c.req.header(PROTOCOL_HEADER) ?? '', SERVED_PROTOCOL_VERSIONS);
  }
  c.set('protocol', version);
  await next();
});
