/**
 * The daemon's client of the API's node endpoints (heartbeat, claim, confirm, events), over HTTP, or straight into
 * the app's fetch when the daemon runs inside the API process (api-transport.ts). Every message is the protocol's
 * (shared/protocol/): requests are typed by it, answers are checked against it. Failures are typed: `ApiUnavailable`
 * (no answer, or a 5xx) is worth retrying; `ApiRefused` (a 4xx) means the request itself was wrong, or the token is;
 * `ProtocolMismatch` means the two sides speak versions neither serves, so nothing the daemon sends can be right.
 */
import type { z } from '@hono/zod-openapi';
import { ClaimResponse, type ClaimRequest } from '../shared/protocol/claim.js';
import { ConfirmResponse } from '../shared/protocol/confirm.js';
import { EventsResponse, type NodeEvent } from '../shared/protocol/events.js';
import { HeartbeatResponse, type HeartbeatRequest } from '../shared/protocol/heartbeat.js';
import { PROTOCOL_HEADER, PROTOCOL_VERSION, protocolOf } from '../shared/protocol/protocol-version.js';
import { httpTransport, type ApiReply, type ApiTransport } from './api-transport.js';

export class ApiUnavailable extends Error {}
export class ApiRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The API serves neither this daemon's protocol version nor the one before (or is older than this daemon). */
export class ProtocolMismatch extends ApiRefused {
  constructor(readonly apiVersion: number) {
    const api = Number.isNaN(apiVersion) ? 'an unreadable protocol version' : `protocol ${apiVersion}`;
    super(
      400,
      `the API speaks ${api} (and serves daemons of that version and the one before); this daemon speaks protocol ${PROTOCOL_VERSION}: upgrade the older side`,
    );
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

  heartbeat(body: HeartbeatRequest): Promise<HeartbeatResponse> {
    return this.#post('heartbeat', body, HeartbeatResponse);
  }

  async claim(body: ClaimRequest): Promise<number[]> {
    const { refs } = await this.#post('claim', body, ClaimResponse);
    return refs.map((ref) => Number(ref.id));
  }

  confirm(jobIds: number[]): Promise<ConfirmResponse> {
    return this.#post('confirm', { job_ids: jobIds.map(String) }, ConfirmResponse);
  }

  /** Every result acknowledges its event (applied, duplicate, or refused for good): none needs sending again. */
  async events(events: NodeEvent[]): Promise<void> {
    await this.#post('events', { events }, EventsResponse);
  }

  async #post<T extends z.ZodType>(path: string, body: unknown, answer: T): Promise<z.infer<T>> {
    let reply: ApiReply;
    try {
      reply = await this.#transport(
        `${this.#base}/${path}`,
        {
          Authorization: `Bearer ${this.options.token}`,
          'Content-Type': 'application/json',
          [PROTOCOL_HEADER]: String(PROTOCOL_VERSION),
        },
        JSON.stringify(body),
        this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      );
    } catch (error) {
      throw new ApiUnavailable(`${path}: ${(error as Error).message}`);
    }
    // An API serves its own version and the one before: a newer one answers with a higher version, an older one
    // (which cannot read this daemon's messages) with a lower one, or none at all.
    const apiVersion = protocolOf(reply.protocol);
    if (reply.status < 500 && !(apiVersion === PROTOCOL_VERSION || apiVersion === PROTOCOL_VERSION + 1)) {
      throw new ProtocolMismatch(apiVersion);
    }
    if (reply.status >= 200 && reply.status < 300) {
      const parsed = answer.safeParse(parseJson(reply.text));
      if (!parsed.success) throw new ApiRefused(reply.status, `${path}: an answer the protocol does not allow`);
      return parsed.data;
    }
    const detail = `${path}: ${reply.status} ${reply.text.slice(0, 300)}`;
    if (reply.status >= 500 || reply.status === 429) throw new ApiUnavailable(detail);
    throw new ApiRefused(reply.status, detail);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
