/**
 * Runs the queue's scripts in one round trip each: by SHA (computed here, so there is no load step), and by source
 * only when the server does not have the script yet (a new server, or one that was restarted or flushed).
 */
import type { RedisClientPort } from './redis-client-port.js';
import type { RedisScript } from './redis-script.js';

export class ScriptRunner {
  readonly #shas = new Map<string, Promise<string>>();

  constructor(private readonly client: RedisClientPort) {}

  async run(script: RedisScript, keys: string[], args: (string | number)[]): Promise<unknown> {
    const sha = await this.#sha(script);
    const argv = args.map(String);
    try {
      return await this.client.evalsha(sha, keys, argv);
    } catch (error) {
      if (!/NOSCRIPT/i.test(String((error as Error)?.message ?? error))) throw error;
      return this.client.eval(script.source, keys, argv);
    }
  }

  #sha(script: RedisScript): Promise<string> {
    let sha = this.#shas.get(script.name);
    if (!sha) {
      sha = sha1Hex(script.source);
      this.#shas.set(script.name, sha);
    }
    return sha;
  }
}

async function sha1Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-1', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
}
