/**
 * The SDK's client: openapi-fetch over the generated types (sdk/openapi.generated.ts), so every path, parameter,
 * body and answer is typed from the committed contract. It adds what every caller would otherwise repeat: the bearer
 * token, and an Idempotency-Key on every submit that has none, so that no submit is ever made twice by a retry (the
 * API answers a retried key with the first answer; api/jobs/idempotent-submit.ts). Web-standard fetch only: it runs
 * in Node, browsers and Workers alike.
 */
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { paths } from './openapi.generated.js';

export type ConductorClient = Client<paths>;

export interface ConductorClientOptions {
  /** The API's base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** A user, admin or node token; sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Another fetch (a test's, a proxy's); globalThis.fetch by default. */
  fetch?: (request: Request) => Promise<Response>;
}

const SUBMIT_PATHS = new Set(['/v1/jobs']);

export function createConductorClient(options: ConductorClientOptions): ConductorClient {
  const client = createClient<paths>({ baseUrl: options.url.replace(/\/+$/, ''), fetch: options.fetch });
  client.use(defaults(options.token));
  return client;
}

function defaults(token: string | undefined): Middleware {
  return {
    onRequest({ request, schemaPath }) {
      if (token !== undefined && !request.headers.has('Authorization')) {
        request.headers.set('Authorization', `Bearer ${token}`);
      }
      if (request.method === 'POST' && SUBMIT_PATHS.has(schemaPath) && !request.headers.has('Idempotency-Key')) {
        request.headers.set('Idempotency-Key', crypto.randomUUID());
      }
      return request;
    },
  };
}
