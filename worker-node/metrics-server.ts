/**
 * The daemon's `/metrics` listener (CONDUCTOR_METRICS_PORT on CONDUCTOR_METRICS_HOST): its registry in the Prometheus
 * text format, to the bearer CONDUCTOR_METRICS_TOKEN when one is set (else to whoever reaches the port, which is then
 * the protection: 127.0.0.1 by default). Anything else is 404.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface MetricsServer {
  /** `http://host:port`, the port as bound (0 asks for any free one). */
  url: string;
  close(): Promise<void>;
}

export function serveMetrics(
  registry: Registry,
  options: { host: string; port: number; token?: string | undefined },
): Promise<MetricsServer> {
  const expected = options.token === undefined ? undefined : digest(`Bearer ${options.token}`);
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: only GET /metrics is served here\n');
      return;
    }
    // Digests of equal length: the comparison's time tells nothing of the guess.
    if (expected && !timingSafeEqual(digest(request.headers.authorization ?? ''), expected)) {
      response
        .writeHead(401, { 'Content-Type': 'text/plain', 'WWW-Authenticate': 'Bearer' })
        .end('/metrics needs the bearer token CONDUCTOR_METRICS_TOKEN\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'Content-Type': registry.contentType }).end(text),
      (error: Error) => response.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${error.message}\n`),
    );
  });
  return new Promise((done, fail) => {
    server.once('error', (error) =>
      fail(
        new Error(
          `cannot listen on CONDUCTOR_METRICS_HOST=${options.host} CONDUCTOR_METRICS_PORT=${options.port}: ${error.message}`,
        ),
      ),
    );
    server.listen(options.port, options.host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : options.port;
      done({
        url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`,
        close: () => new Promise<void>((closed) => server.close(() => closed())),
      });
    });
  });
}

const digest = (text: string) => createHash('sha256').update(text).digest();
