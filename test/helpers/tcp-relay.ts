/**
 * A service that goes away for real, between a host and its Postgres or Redis server: a TCP relay on a free port of
 * 127.0.0.1 that forwards every connection as it is, until `close()`. Then its connections are reset and new ones
 * refused, as when the server's machine stops: the host's own driver meets the failure and says it in its own words.
 * (test/fixtures/partition-proxy.ts is the other kind of fault: a blackhole, which ends only by a timeout.)
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export interface TcpRelay {
  port: number;
  /** `url` with its host and port replaced by the relay's. */
  through(url: string): string;
  close(): Promise<void>;
}

export async function startTcpRelay(target: { host: string; port: number }): Promise<TcpRelay> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    track(client);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    port,
    through(url) {
      const relayed = new URL(url);
      relayed.hostname = '127.0.0.1';
      relayed.port = String(port);
      return relayed.toString();
    },
    close: () =>
      (closing ??= new Promise<void>((done) => {
        server.close(() => done());
        for (const socket of sockets) socket.resetAndDestroy();
      })),
  };
}
