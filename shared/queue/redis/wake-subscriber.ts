/**
 * Node-only: listens on a TCP Redis for the partitions the queue tells of new work (see the enqueue and release
 * scripts), and calls `onWake` when one of ours is named. Subscribing takes a connection of its own, as Redis
 * requires. If the connection drops, ioredis resubscribes when it is back; meanwhile the node's backoff still claims.
 */
import { Redis } from 'ioredis';

export async function subscribeToWake(
  redisUrl: string,
  channel: string,
  partitions: string[],
  onWake: (partition: string) => void,
): Promise<{ close(): Promise<void> }> {
  const subscriber = new Redis(redisUrl, { maxRetriesPerRequest: null });
  subscriber.on('error', () => {});
  const ours = new Set(partitions);
  subscriber.on('message', (_channel: string, partition: string) => {
    if (ours.has(partition)) onWake(partition);
  });
  await subscriber.subscribe(channel);
  return {
    async close() {
      await subscriber.quit().catch(() => subscriber.disconnect());
    },
  };
}
