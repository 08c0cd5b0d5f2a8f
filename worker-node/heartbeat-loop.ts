/**
 * The node's heartbeat: it says the node lives, what it offers and what it runs, and hears its state (only an UP node
 * claims) and which runs to end: cancelled ones, and ones the API settled while the node was silent (stopped, not
 * reported). A failing API is said once until it answers again; one that speaks another protocol stops the claims.
 * Once the daemon knows its confirm sequence, each beat says it with every run it holds, so the API can settle the
 * jobs this node no longer has (api/nodes/settle-unlisted-runs.ts).
 */
import type { NodeState } from '../shared/node-state.js';
import type { ContainmentLevels } from '../shared/protocol/containment.js';
import type { RunId } from '../shared/protocol/run-id.js';
import type { RunsAs } from '../shared/protocol/runs-as.js';
import { CONDUCTOR_VERSION } from '../shared/version.js';
import { DaemonLoop } from './daemon-loop.js';
import type { KillReason } from './job-ending.js';
import { ProtocolMismatch, type NodeApi } from './node-api.js';
import { ClusterMismatch } from './node-cluster.js';
import { errorFields, type Logger } from '../shared/log/logger.js';

export interface HeartbeatLoopOptions {
  node: string;
  partitions: string[];
  runsAs: RunsAs;
  memoryMb: number;
  heartbeatMs: number;
  api: Pick<NodeApi, 'heartbeat'>;
  /** The CPUs the node offers. */
  cpus: number;
  /** How the node contains its jobs: said in every heartbeat. */
  containment?: ContainmentLevels;
  /** The runs whose end is not known yet. */
  running(): RunId[];
  /** The runs that ended whose end the API has not acknowledged yet (still RUNNING there). */
  ended?(): RunId[];
  /**
   * The highest confirm sequence whose jobs are in the run table (claim-loop.ts); undefined until the API has said
   * one since the daemon started. Sent with the runs, read in the same turn: the API settles a job of this node that
   * the heartbeat does not list only when it was confirmed under that sequence or an earlier one.
   */
  confirmedThrough?(): number | undefined;
  /**
   * Told the cluster id each answer says (an API older than cluster ids says none).
   * @throws ClusterMismatch when it is not the node's: the node then claims nothing, as for a protocol mismatch
   */
  cluster?(id: string): Promise<void>;
  /** The API said another state: claims may start or stop. */
  stateChanged(): void;
  kill(key: string, reason: KillReason): void;
  /** A heartbeat sent at `sentAtMs` (epoch ms) was answered with this lease (node-lease.ts). */
  leaseRenewed?(sentAtMs: number, leaseSeconds: number | null | undefined): void;
  log: Logger;
  now?: () => number;
}

// The API's default silence limit is 60 s: an idle node still beats several times within it.
const IDLE_HEARTBEAT_MAX_MS = 10_000;

/**
 * A cancel needs the heartbeat only while jobs run here: an idle node beats less often (each beat costs it and the
 * API a request), still well within the API's silence limit.
 */
export function heartbeatDelayMs(busy: boolean, heartbeatMs: number, leaseSeconds?: number | null): number {
  const delayMs = busy ? heartbeatMs : Math.min(IDLE_HEARTBEAT_MAX_MS, heartbeatMs * 10);
  // Several tries to renew the lease before it ends, even on an idle node with a short lease.
  return leaseSeconds ? Math.min(delayMs, Math.max(heartbeatMs, (leaseSeconds * 1000) / 10)) : delayMs;
}

export class HeartbeatLoop {
  readonly #loop: DaemonLoop;
  #state: NodeState | undefined;
  #failing = false;
  /** The API speaks a protocol this daemon cannot: said once, until it speaks one it can again. */
  #mismatched = false;
  /** Sleeping an idle node's longer pause. */
  #idle = false;
  /** The lease the API last granted, in seconds; null: never expires. */
  #leaseSeconds: number | null | undefined;

  constructor(private readonly options: HeartbeatLoopOptions) {
    this.#loop = new DaemonLoop({ name: 'heartbeat', pass: () => this.#beat(), log: options.log });
  }

  /** The node's state as the API last answered it; undefined before that, and while the protocols differ. */
  get state(): NodeState | undefined {
    return this.#state;
  }

  start(): void {
    this.#loop.start();
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /** A run was admitted: the next beat (which carries cancels) must not wait out an idle node's pause. */
  busy(): void {
    if (this.#idle) this.#loop.notify();
  }

  /**
   * Nothing this daemon sends can be right: it claims nothing (a claim the API ran would be stranded there; its runs
   * go on) until a heartbeat is answered again.
   */
  mismatch(error: ProtocolMismatch): void {
    if (!this.#mismatched) this.options.log.error(`node ${this.options.node} stops claiming: ${error.message}`);
    this.#mismatched = true;
    this.#state = undefined;
  }

  async #beat(): Promise<number> {
    const { api, log, node } = this.options;
    // One snapshot, taken in one turn: no confirm's jobs can enter the table between the list and the sequence.
    const running = this.options.running();
    const confirmedThrough = this.options.confirmedThrough?.();
    // Only said to an API that answered a confirm sequence (one that reads these fields), and only with every run the
    // table holds: a run that ended but is not acknowledged is still RUNNING there, and must not look lost.
    const held =
      confirmedThrough === undefined
        ? {}
        : { ended: this.options.ended?.() ?? [], confirmed_through: confirmedThrough };
    const sentAt = (this.options.now ?? Date.now)();
    try {
      const answer = await api.heartbeat({
        partitions: this.options.partitions,
        cpus: this.options.cpus,
        memory_mb: this.options.memoryMb,
        running,
        ...held,
        daemon_version: CONDUCTOR_VERSION,
        ...(this.options.containment ? { containment: this.options.containment } : {}),
        runs_as: this.options.runsAs,
      });
      // Before the answer is heeded: the cancels and the state of another cluster's API are not this node's.
      if (answer.cluster_id !== undefined) await this.options.cluster?.(answer.cluster_id);
      // First: the lease holds from the send, whatever the rest of the answer asks.
      this.#leaseSeconds = answer.lease_seconds;
      this.options.leaseRenewed?.(sentAt, answer.lease_seconds);
      if (this.#failing) log.info('heartbeat answered again');
      this.#failing = false;
      this.#mismatched = false;
      if (answer.state !== this.#state) {
        log.info(`node ${node} is ${answer.state}`);
        this.#state = answer.state;
        this.options.stateChanged();
      }
      for (const { job_id, attempt } of answer.cancel) this.options.kill(`${job_id}-${attempt}`, 'CANCELLED');
      for (const { job_id, attempt } of answer.stop) this.options.kill(`${job_id}-${attempt}`, 'STOPPED');
    } catch (error) {
      if (!this.#failing) log.warn(`heartbeat failed: ${(error as Error).message}`, errorFields(error));
      this.#failing = true;
      if (error instanceof ProtocolMismatch) this.mismatch(error);
      // Another cluster's API: nothing it says is for this node, and nothing is claimed from it.
      if (error instanceof ClusterMismatch) this.#state = undefined;
    }
    // Asked after the beat: a run admitted meanwhile makes the node busy now.
    const delayMs = heartbeatDelayMs(this.options.running().length > 0, this.options.heartbeatMs, this.#leaseSeconds);
    this.#idle = delayMs > this.options.heartbeatMs;
    return delayMs;
  }
}
