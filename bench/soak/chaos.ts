/**
 * The soak's faults: a schedule drawn from the seed, spread evenly over the chaos window, each fault carried out in
 * turn (a kill, then the restart a deployment would make) and counted once done. The partitions run beside the rest:
 * a daemon's proxies to the API and to Redis are cut, held until the API has marked the node DOWN (its lease ended
 * and the reconciler settled its jobs), then healed.
 */
import { faultQuotas, type FaultKind } from './soak-config.js';
import { seededRandom } from './job-mix.js';
import type { PrivatePostgres } from './private-postgres.js';
import type { PrivateRedis } from './private-redis.js';
import type { SoakCluster } from './soak-cluster.js';

export interface ChaosTargets {
  cluster: SoakCluster;
  postgres: PrivatePostgres;
  redis: PrivateRedis;
  /** The node's state in the database (undefined when it cannot be read now). */
  nodeState(node: string): Promise<string | undefined>;
  /** Called just before Redis loses its data; answers a function to call just after. */
  redisDataLoss(): Promise<() => void>;
  log(line: string): void;
}

export type FaultCounts = Record<FaultKind, number>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The faults to inject, in order; `daemon SIGKILL` counts the all-at-once kills too. */
export function faultSchedule(seconds: number, seed: number): FaultKind[] {
  const quotas = faultQuotas(seconds);
  const events: FaultKind[] = [];
  const add = (kind: FaultKind, count: number) => {
    for (let i = 0; i < count; i++) events.push(kind);
  };
  const allAtOnce = quotas['daemon SIGKILL, all at once'];
  add('daemon SIGKILL, all at once', allAtOnce);
  add('daemon SIGKILL', Math.max(0, quotas['daemon SIGKILL'] - allAtOnce));
  for (const kind of [
    'daemon SIGTERM',
    'Redis restart with its data',
    'Redis restart without its data',
    'Postgres restart',
    'Postgres crash',
    'API kill',
  ] as const) {
    add(kind, quotas[kind]);
  }
  const random = seededRandom(seed);
  for (let i = events.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [events[i], events[j]] = [events[j]!, events[i]!];
  }
  return events;
}

/**
 * Runs the faults from `startMs` to `endMs` (epoch ms) and answers how many of each were done. `partitionMs`: the
 * longest a partition is held waiting for the node to be marked DOWN.
 */
export async function runChaos(
  targets: ChaosTargets,
  options: { seconds: number; seed: number; startMs: number; endMs: number; partitionMs: number },
): Promise<FaultCounts> {
  const counts = Object.fromEntries(Object.keys(faultQuotas(1)).map((kind) => [kind, 0])) as FaultCounts;
  const random = seededRandom(options.seed + 1);
  const daemons = targets.cluster.daemons;
  const pick = () => daemons[Math.floor(random() * daemons.length)]!;
  const events = faultSchedule(options.seconds, options.seed);
  const partitions = faultQuotas(options.seconds)['node partitioned past its lease'];
  const gap = (options.endMs - options.startMs) / events.length;
  let apiTurn = 0;

  const partitioning = (async () => {
    // Spread over the window, each starting early enough to be held for its whole length before the end.
    const span = Math.max(0, options.endMs - options.partitionMs - options.startMs);
    for (let i = 0; i < partitions; i++) {
      const at = options.startMs + (span * (i + 0.5)) / partitions;
      if (at > Date.now()) await sleep(at - Date.now());
      const daemon = pick();
      targets.log(`chaos: partitioning ${daemon.node}`);
      daemon.apiProxy.cut();
      daemon.redisProxy.cut();
      const deadline = Date.now() + options.partitionMs;
      let down = false;
      while (Date.now() < deadline && !down) {
        await sleep(500);
        down = (await targets.nodeState(daemon.node)) === 'DOWN';
      }
      daemon.apiProxy.heal();
      daemon.redisProxy.heal();
      targets.log(`chaos: healed ${daemon.node} (${down ? 'it was marked DOWN' : 'it was never marked DOWN'})`);
      if (down) counts['node partitioned past its lease']++;
    }
  })();

  for (const [i, kind] of events.entries()) {
    const at = options.startMs + gap * (i + 0.5);
    if (at > Date.now()) await sleep(at - Date.now());
    targets.log(`chaos: ${kind}`);
    switch (kind) {
      case 'daemon SIGKILL':
        await targets.cluster.signalDaemons([pick()], 'SIGKILL');
        break;
      case 'daemon SIGKILL, all at once':
        await targets.cluster.signalDaemons(daemons, 'SIGKILL');
        counts['daemon SIGKILL']++;
        break;
      case 'daemon SIGTERM':
        await targets.cluster.signalDaemons([pick()], 'SIGTERM');
        break;
      case 'Redis restart with its data':
        await targets.redis.restartWithData();
        break;
      case 'Redis restart without its data': {
        const lost = await targets.redisDataLoss();
        await targets.redis.restartWithoutData();
        lost();
        break;
      }
      case 'Postgres restart':
        await targets.postgres.restart();
        break;
      case 'Postgres crash':
        await targets.postgres.crash();
        break;
      case 'API kill':
        await targets.cluster.killApi(apiTurn++ % targets.cluster.apis.length);
        break;
      case 'node partitioned past its lease':
        break;
    }
    counts[kind]++;
  }
  await partitioning;
  return counts;
}
