/**
 * Reads a text/event-stream body as EventSource would (WHATWG HTML §9.2): blocks of `field: value` lines, `id` kept
 * as the last event id even on a block without data, comments skipped. Tests read until a condition, then drop.
 */
export interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
}

export class SseReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buffer = '';
  /** What EventSource would send as Last-Event-ID on a reconnect. */
  lastEventId: string | undefined;
  retryMs: number | undefined;
  ended = false;

  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.getReader();
  }

  /** The next event with data; undefined when the stream ended. */
  async next(): Promise<SseMessage | undefined> {
    for (;;) {
      const end = this.#buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        const message = this.#parse(block);
        if (message) return message;
        continue;
      }
      const { value, done } = await this.#reader.read();
      if (done) {
        this.ended = true;
        return undefined;
      }
      this.#buffer += this.#decoder.decode(value, { stream: true });
    }
  }

  /** Reads events until `count` came (or the stream ended). */
  async take(count: number): Promise<SseMessage[]> {
    const messages: SseMessage[] = [];
    while (messages.length < count) {
      const message = await this.next();
      if (!message) break;
      messages.push(message);
    }
    return messages;
  }

  /** Drops the connection, as a lost network would. */
  async drop(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }

  #parse(block: string): SseMessage | undefined {
    let event = 'message';
    const data: string[] = [];
    let id: string | undefined;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = this.lastEventId = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'retry') this.retryMs = Number(value);
    }
    return data.length ? { id, event, data: data.join('\n') } : undefined;
  }
}
