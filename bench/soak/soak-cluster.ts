/**
 * The soak's API processes and node daemons, as real processes from their bundles (test/helpers/program-bundles.ts),
 * restarted as a deployment would restart them: an API process killed comes back on its port, a daemon killed or
 * stopped comes back with its node directory (journal, runs) and re-adopts its runs. Each daemon reaches the API and
 * Redis through proxies of its own (bench/soak/tcp-proxy.ts), which the chaos cuts to partition it. Two API processes
 * sit behind a round-robin proxy, which the clients use and each daemon's proxy spreads over likewise.
 *
 * Each daemon is a machine of its own: its own core-lock directory, 2 cores offered 4 times over (8 CPUs).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChildServer, type ChildServer } from '../../test/helpers/child-server.js';
import { bundleDaemon, bundleHost } from '../../test/helpers/program-bundles.js';
import { TcpProxy } from './tcp-proxy.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// A start that fails (its database is down, say) is tried again after this, for as long as the soak runs.
const RESTART_PAUSE_MS = 500;

export interface ClusterOptions {
  scratch: string;
  env: NodeJS.ProcessEnv;
  apiPorts: number[];
  databaseUrl: string;
  redisUrl: string;
  redisPort: number;
  adminToken: string;
  daemons: number;
  leaseSeconds: number;
  freePort: () => Promise<number>;
  log: (line: string) => void;
}

/** A supervised process: who it is, what runs now, and whether its last exit was the soak's doing. */
interface Member {
  name: string;
  child?: ChildServer;
  /** The soak signalled it: its exit is expected. */
  signalled: boolean;
  stopping: boolean;
}

interface DaemonMember extends Member {
  node: string;
  dir: string;
  token: string;
  apiProxy: TcpProxy;
  redisProxy: TcpProxy;
}

export class SoakCluster {
  readonly apis: Member[];
  readonly daemons: DaemonMember[] = [];
  /** Exits that were nobody's doing: each is a finding. */
  readonly unexpectedExits: string[] = [];
  #balancer: TcpProxy | undefined;
  /** Every process each member ran, the killed ones too: their logs explain a finding. */
  readonly #runs = new Map<string, ChildServer[]>();
  #hostBundle = '';
  #daemonBundle = '';

  constructor(private readonly options: ClusterOptions) {
    this.apis = options.apiPorts.map((port, i) => ({ name: `api${i + 1}:${port}`, signalled: false, stopping: false }));
  }

  /** Where clients submit: the one API, or the balancer before two. */
  get url(): string {
    return this.#balancer?.url ?? `http://127.0.0.1:${this.options.apiPorts[0]}`;
  }

  async start(): Promise<void> {
    const bundles = join(this.options.scratch, 'bundles');
    mkdirSync(bundles);
    [this.#hostBundle, this.#daemonBundle] = await Promise.all([bundleHost(bundles), bundleDaemon(bundles)]);
    await Promise.all(this.apis.map((api, i) => this.#startApi(api, this.options.apiPorts[i]!)));
    const apiPorts = () => this.options.apiPorts;
    if (this.apis.length > 1) this.#balancer = await TcpProxy.start(await this.options.freePort(), apiPorts);
    for (let i = 1; i <= this.options.daemons; i++) {
      const node = `soak${i}`;
      const token = await this.#call('POST', '/v1/tokens', { name: node, kind: 'node', node, partitions: ['default'] });
      const daemon: DaemonMember = {
        name: `daemon ${node}`,
        node,
        dir: join(this.options.scratch, 'nodes', node),
        token: (token as { token: string }).token,
        apiProxy: await TcpProxy.start(await this.options.freePort(), apiPorts),
        redisProxy: await TcpProxy.start(await this.options.freePort(), () => [this.options.redisPort]),
        signalled: false,
        stopping: false,
      };
      mkdirSync(daemon.dir, { recursive: true });
      this.daemons.push(daemon);
    }
    await Promise.all(this.daemons.map((daemon) => this.#startDaemon(daemon)));
  }

  /** SIGKILLs API process `i` and brings it back on its port. */
  async killApi(i: number): Promise<void> {
    await this.#signal(this.apis[i]!, 'SIGKILL');
    await this.#startApi(this.apis[i]!, this.options.apiPorts[i]!);
  }

  /** Signals the daemons (SIGKILL: at once; SIGTERM: a graceful stop), waits for them to end, starts them again. */
  async signalDaemons(daemons: DaemonMember[], signal: NodeJS.Signals): Promise<void> {
    await Promise.all(daemons.map((daemon) => this.#signal(daemon, signal)));
    await Promise.all(daemons.map((daemon) => this.#startDaemon(daemon)));
  }

  /** Stops the daemons (SIGTERM: their runs are all ended by now), then the APIs, then the proxies. */
  async stop(): Promise<void> {
    const stop = async (member: Member) => {
      member.stopping = true;
      await member.child?.stop();
    };
    await Promise.all(this.daemons.map(stop));
    await Promise.all(this.apis.map(stop));
    await Promise.all([
      this.#balancer?.close(),
      ...this.daemons.flatMap((daemon) => [daemon.apiProxy.close(), daemon.redisProxy.close()]),
    ]);
  }

  /** Pids of the processes running now. */
  get pids(): number[] {
    return [...this.apis, ...this.daemons].flatMap((member) => (member.child ? [member.child.pid] : []));
  }

  async #signal(member: Member, signal: NodeJS.Signals): Promise<void> {
    const child = member.child;
    if (!child) return;
    member.signalled = true;
    child.kill(signal);
    await child.exited;
  }

  /** What every run of the node's daemon logged that holds `text`, to explain a finding. */
  logged(node: string, text: string): string[] {
    return (this.#runs.get(`daemon ${node}`) ?? []).flatMap((child) =>
      child.stdout().filter((line) => line.includes(text)),
    );
  }

  #watch(member: Member, child: ChildServer, restart: () => Promise<void>): void {
    member.child = child;
    this.#runs.set(member.name, [...(this.#runs.get(member.name) ?? []), child]);
    member.signalled = false;
    void child.exited.then((how) => {
      if (member.child !== child || member.signalled || member.stopping) return;
      this.unexpectedExits.push(`${member.name} exited by itself (${how}):\n  ${child.stderrTail().join('\n  ')}`);
      this.options.log(`${member.name} exited by itself (${how}): restarting it`);
      member.child = undefined;
      void restart();
    });
  }

  async #startApi(api: Member, port: number): Promise<void> {
    const env = {
      ...this.options.env,
      PORT: String(port),
      DATABASE_URL: this.options.databaseUrl,
      REDIS_URL: this.options.redisUrl,
      CONDUCTOR_ADMIN_TOKEN: this.options.adminToken,
      CONDUCTOR_LOG_DIR: join(this.options.scratch, 'logs'),
      CONDUCTOR_LOCAL_NODE: 'off',
      CONDUCTOR_NODE_LEASE_SECONDS: String(this.options.leaseSeconds),
      CONDUCTOR_RECONCILE_SECONDS: '2',
    };
    const child = await this.#keepTrying(api, () => startChildServer(api.name, this.#hostBundle, ROOT, env));
    if (child) this.#watch(api, child, () => this.#startApi(api, port));
  }

  async #startDaemon(daemon: DaemonMember): Promise<void> {
    const env = {
      ...this.options.env,
      CONDUCTOR_API_URL: daemon.apiProxy.url,
      CONDUCTOR_NODE_TOKEN: daemon.token,
      CONDUCTOR_NODE_NAME: daemon.node,
      CONDUCTOR_NODE_PARTITIONS: 'default',
      CONDUCTOR_NODE_CPUS: '2',
      CONDUCTOR_NODE_OVERSUBSCRIBE: '4',
      CONDUCTOR_NODE_MEMORY_MB: '4096',
      CONDUCTOR_NODE_DIR: daemon.dir,
      CONDUCTOR_CORE_LOCK_DIR: join(daemon.dir, '..', `${daemon.node}-cores`),
      CONDUCTOR_KILL_GRACE_SECONDS: '1',
      CONDUCTOR_CLAIM_IDLE_MAX_SECONDS: '1',
      CONDUCTOR_STOP_DEADLINE_SECONDS: '10',
      CONDUCTOR_LOG_DIR: join(this.options.scratch, 'logs'),
      CONDUCTOR_LOG_FLUSH_MS: '100',
      REDIS_URL: `redis://127.0.0.1:${daemon.redisProxy.port}`,
      // The soak's jobs are an admin's naming no user: as root they run as root.
      CONDUCTOR_ALLOW_ROOT_JOBS: 'true',
    };
    const child = await this.#keepTrying(daemon, () =>
      startChildServer(daemon.name, this.#daemonBundle, ROOT, env, /claiming (?:from|through) .* at (http:\/\/\S+)/),
    );
    if (child) this.#watch(daemon, child, () => this.#startDaemon(daemon));
  }

  async #keepTrying(member: Member, start: () => Promise<ChildServer>): Promise<ChildServer | undefined> {
    for (;;) {
      if (member.stopping) return undefined;
      try {
        return await start();
      } catch (error) {
        this.options.log(`${member.name} did not start (${(error as Error).message.split('\n')[0]}): again`);
        await new Promise((resolve) => setTimeout(resolve, RESTART_PAUSE_MS));
      }
    }
  }

  async #call(method: string, path: string, body: unknown): Promise<unknown> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${this.options.adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  }
}
