/**
 * Follow leases in Redis: one sorted set per holder, `<prefix>follows:<holder>`, of lease ids scored by their expiry
 * on the Redis server's clock; each operation is one script (shared/queue/redis/scripts/follow-*.lua).
 */
import type { RedisClientPort } from '../../shared/queue/redis/redis-client-port.js';
import type { RedisScript } from '../../shared/queue/redis/redis-script.js';
import { ScriptRunner } from '../../shared/queue/redis/script-runner.js';
import * as lua from '../../shared/queue/redis/scripts/lua.generated.js';
import type { FollowLeases, LeaseAnswer } from './follow-leases.js';

const acquireScript: RedisScript = { name: 'follow-acquire', source: lua.followAcquire };
const renewScript: RedisScript = { name: 'follow-renew', source: lua.followRenew };
const releaseScript: RedisScript = { name: 'follow-release', source: lua.followRelease };

export class RedisFollowLeases implements FollowLeases {
  readonly #scripts: ScriptRunner;

  constructor(
    client: RedisClientPort,
    private readonly prefix = 'conductor:',
  ) {
    this.#scripts = new ScriptRunner(client);
  }

  async acquire(holder: string, max: number, leaseMs: number): Promise<LeaseAnswer> {
    const leaseId = crypto.randomUUID();
    const [taken, wait] = (await this.#scripts.run(acquireScript, [this.#key(holder)], [leaseId, max, leaseMs])) as [
      number,
      number,
    ];
    return Number(taken) === 1 ? { taken: true, leaseId } : { taken: false, retryAfterMs: Math.max(0, Number(wait)) };
  }

  async renew(holder: string, leaseId: string, leaseMs: number): Promise<void> {
    await this.#scripts.run(renewScript, [this.#key(holder)], [leaseId, leaseMs]);
  }

  async release(holder: string, leaseId: string): Promise<void> {
    await this.#scripts.run(releaseScript, [this.#key(holder)], [leaseId]);
  }

  #key(holder: string): string {
    return `${this.prefix}follows:${holder}`;
  }
}
