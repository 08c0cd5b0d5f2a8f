/**
 * The daemon's client of the API's node endpoints (heartbeat, claim, confirm, events), over HTTP, or straight into
 * the app's fetch when the daemon runs inside the API process (api-transport.ts). Failures are typed:
 * `ApiUnavailable` (no answer, or a 5xx) is worth retrying; `ApiRefused` (a 4xx) means the request itself was
 * wrong, or the token is.
 */
import { httpTransport, type ApiReply, type ApiTransport } from './api-transport.js';

export interface JobAttempt {
  job_id: string;
  attempt: number;
}

/** A job confirmed for this node, as the confirm endpoint sends it (api/routes/v1/nodes/schema.ts, NodeJob). */
export interface NodeJob {
  id: string;
  attempt: number;
  name: string;
  account: string;
  partition: string;
  script: string;
  environment: Record<string, string>;
  current_working_directory: string | null;
  standard_output: string;
  standard_error: string;
  cpus: number;
  ntasks_per_node: number;
  cpus_per_task: number;
  memory_mb: number;
  time_limit_seconds: number | null;
  exclusive: boolean;
}

export type JobEnding = 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TIMEOUT' | 'OUT_OF_MEMORY';

export type NodeEvent =
  | { kind: 'started'; job_id: string; attempt: number; pid: number; cpu_ids: number[] }
  | {
      kind: 'finished';
      job_id: string;
      attempt: number;
      state: JobEnding;
      exit_status: number | null;
      exit_signal: number | null;
      error_msg: string | null;
    };

export interface Capacity {
  partitions: string[];
  cpus: number;
  memory_mb: number;
}

export interface HeartbeatAnswer {
  state: 'UP' | 'DOWN' | 'DRAINING';
  cancel: JobAttempt[];
  stop: JobAttempt[];
}

export class ApiUnavailable extends Error {}
export class ApiRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface NodeApiOptions {
  url: string;
  token: string;
  node: string;
  /** Defaults to HTTP(S) over kept-alive connections. */
  transport?: ApiTransport;
  /** A request that takes longer has failed; its retry is safe, as every node endpoint is idempotent. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

export class NodeApi {
  readonly #base: string;
  readonly #transport: ApiTransport;

  constructor(private readonly options: NodeApiOptions) {
    this.#base = `${options.url.replace(/\/+$/, '')}/v1/nodes/${encodeURIComponent(options.node)}`;
    this.#transport = options.transport ?? httpTransport();
  }

  heartbeat(body: Capacity & { running: JobAttempt[] }): Promise<HeartbeatAnswer> {
    return this.#post('heartbeat', body);
  }

  async claim(body: Capacity & { free_cpus: number; free_memory_mb: number; max: number }): Promise<number[]> {
    const { refs } = await this.#post<{ refs: { id: string }[] }>('claim', body);
    return refs.map((ref) => Number(ref.id));
  }

  confirm(jobIds: number[]): Promise<{ jobs: NodeJob[]; dropped: string[] }> {
    return this.#post('confirm', { job_ids: jobIds.map(String) });
  }

  /** Every result acknowledges its event (applied, duplicate, or refused for good): none needs sending again. */
  async events(events: NodeEvent[]): Promise<void> {
    await this.#post('events', { events });
  }

  async #post<T>(path: string, body: unknown): Promise<T> {
    let reply: ApiReply;
    try {
      reply = await this.#transport(
        `${this.#base}/${path}`,
        { Authorization: `Bearer ${this.options.token}`, 'Content-Type': 'application/json' },
        JSON.stringify(body),
        this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      );
    } catch (error) {
      throw new ApiUnavailable(`${path}: ${(error as Error).message}`);
    }
    if (reply.status >= 200 && reply.status < 300) return JSON.parse(reply.text) as T;
    const detail = `${path}: ${reply.status} ${reply.text.slice(0, 300)}`;
    if (reply.status >= 500 || reply.status === 429) throw new ApiUnavailable(detail);
    throw new ApiRefused(reply.status, detail);
  }
}
