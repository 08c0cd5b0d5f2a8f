/**
 * A TCP proxy the soak controls: it forwards each connection to one of its targets in turn (round robin, the next one
 * when a target refuses), so two API processes can sit behind one address, and it can partition: `cut()` drops every
 * open connection and refuses new ones until `heal()`, as a network that lost its route would.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export class TcpProxy {
  readonly #server: Server;
  readonly #open = new Set<Socket>();
  #next = 0;
  #cut = false;

  private constructor(
    private readonly targets: () => number[],
    readonly port: number,
  ) {
    this.#server = createServer((client) => this.#accept(client));
  }

  /** A proxy on 127.0.0.1:`port` to 127.0.0.1 at the ports `targets` answers (asked at each connection). */
  static async start(port: number, targets: () => number[]): Promise<TcpProxy> {
    const proxy = new TcpProxy(targets, port);
    await new Promise<void>((done, fail) => {
      proxy.#server.once('error', fail);
      proxy.#server.listen(port, '127.0.0.1', () => done());
    });
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get isCut(): boolean {
    return this.#cut;
  }

  /** Partitions: every open connection is dropped, new ones are refused. */
  cut(): void {
    this.#cut = true;
    for (const socket of this.#open) socket.destroy();
  }

  heal(): void {
    this.#cut = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((done) => this.#server.close(() => done()));
  }

  #track(socket: Socket): void {
    this.#open.add(socket);
    socket.once('close', () => this.#open.delete(socket));
  }

  #accept(client: Socket): void {
    if (this.#cut) {
      client.destroy();
      return;
    }
    this.#track(client);
    client.pause();
    const ports = this.targets();
    this.#connect(client, ports, 0);
  }

  #connect(client: Socket, ports: number[], tried: number): void {
    if (tried >= ports.length || client.destroyed) {
      client.destroy();
      return;
    }
    const port = ports[this.#next++ % ports.length]!;
    const upstream = createConnection({ host: '127.0.0.1', port });
    let connected = false;
    upstream.once('error', () => {
      if (!connected) this.#connect(client, ports, tried + 1);
    });
    upstream.once('connect', () => {
      connected = true;
      if (this.#cut || client.destroyed) {
        upstream.destroy();
        client.destroy();
        return;
      }
      this.#track(upstream);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
      client.once('close', () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  }
}
