/**
 * The daemon's client of the API's node endpoints (heartbeat, claim, confirm, events), over HTTP, or straight into
 * the app's fetch when the daemon runs inside the API process. Failures are typed: `ApiUnavailable` (no answer, or a
 * 5xx) is worth retrying; `ApiRefused` (a 4xx) means the request itself was wrong, or the token is.
 */

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
  fetch?: (request: Request) => Promise<Response>;
  /** A request that takes longer has failed; its retry is safe, as every node endpoint is idempotent. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

export class NodeApi {
  readonly #base: string;
  readonly #fetch: (request: Request) => Promise<Response>;

  constructor(private readonly options: NodeApiOptions) {
    this.#base = `${options.url.replace(/\/+$/, '')}/v1/nodes/${encodeURIComponent(options.node)}`;
    this.#fetch = options.fetch ?? ((request) => fetch(request));
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
    const request = new Request(`${this.#base}/${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${this.options.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
    let response: Response;
    try {
      response = await this.#fetch(request);
    } catch (error) {
      throw new ApiUnavailable(`${path}: ${(error as Error).message}`);
    }
    if (response.ok) return (await response.json()) as T;
    const detail = await response.text().catch(() => '');
    if (response.status >= 500 || response.status === 429) {
      throw new ApiUnavailable(`${path}: ${response.status} ${detail.slice(0, 300)}`);
    }
    throw new ApiRefused(response.status, `${path}: ${response.status} ${detail.slice(0, 300)}`);
  }
}
