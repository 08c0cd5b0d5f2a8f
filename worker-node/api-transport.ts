/**
 * How the daemon's requests reach the API. Over the network it uses node:http(s) with kept-alive connections rather
 * than `fetch`: measured here, `fetch` costs about 0.8 ms more CPU per request, and a busy node makes about one
 * request per job. Inside the API process it calls the app's own fetch, with no socket at all.
 */
import http from 'node:http';
import https from 'node:https';
import { PROTOCOL_HEADER } from '../shared/protocol/protocol-version.js';

export interface ApiReply {
  status: number;
  text: string;
  /** The answer's Conductor-Protocol header: the version the API speaks (absent before version 2). */
  protocol: string | undefined;
}

/** POSTs a JSON body; rejects when no answer came (refused, reset, or slower than `timeoutMs`). */
export type ApiTransport = (
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
) => Promise<ApiReply>;

export function httpTransport(): ApiTransport {
  const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };
  return (url, headers, body, timeoutMs) =>
    new Promise((resolve, reject) => {
      const target = new URL(url);
      const client = target.protocol === 'https:' ? https : http;
      const request = client.request(
        target,
        {
          method: 'POST',
          agent: agents[target.protocol as keyof typeof agents],
          headers: { ...headers, 'Content-Length': Buffer.byteLength(body) },
          timeout: timeoutMs,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              text: Buffer.concat(chunks).toString('utf8'),
              protocol: header(response.headers[PROTOCOL_HEADER.toLowerCase()]),
            }),
          );
          response.on('error', reject);
        },
      );
      request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      request.on('error', reject);
      request.end(body);
    });
}

export function fetchTransport(fetch: (request: Request) => Response | Promise<Response>): ApiTransport {
  return async (url, headers, body, timeoutMs) => {
    const response = await fetch(
      new Request(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) }),
    );
    return {
      status: response.status,
      text: await response.text(),
      protocol: response.headers.get(PROTOCOL_HEADER) ?? undefined,
    };
  };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
