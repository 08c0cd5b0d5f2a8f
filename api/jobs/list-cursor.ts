/**
 * The `cursor` of GET /v1/jobs: opaque to clients, it says where the previous page stopped in the order it was listed
 * in. Newest first: the last job's id, as before queue order existed (cursors handed out then still work). Queue
 * order: `q.R.<id>` in the RUNNING part, `q.P.<rank>.<id>` in the PENDING part (api/jobs/queue-order.ts).
 */
import type { QueuePosition } from './queue-order.js';

export type ListOrder = 'newest' | 'queue';

export type ListPosition = { order: 'newest'; beforeId: number } | { order: 'queue'; after: QueuePosition };

const ID = '[1-9][0-9]{0,14}';
const NEWEST = new RegExp(`^(${ID})$`);
const QUEUE_RUNNING = new RegExp(`^q\\.R\\.(${ID})$`);
const QUEUE_PENDING = new RegExp(`^q\\.P\\.(-?[0-9]{1,10})\\.(${ID})$`);

/** Any cursor of either order: what the query's schema accepts before it knows the order. */
export function isListCursor(text: string): boolean {
  return NEWEST.test(text) || QUEUE_RUNNING.test(text) || QUEUE_PENDING.test(text);
}

/** The position `text` names, or undefined when it is not a cursor of `order` (a cursor of the other order). */
export function readListCursor(text: string, order: ListOrder): ListPosition | undefined {
  if (order === 'newest') {
    const newest = NEWEST.exec(text);
    return newest ? { order, beforeId: Number(newest[1]) } : undefined;
  }
  const running = QUEUE_RUNNING.exec(text);
  if (running) return { order, after: { phase: 'RUNNING', id: Number(running[1]) } };
  const pending = QUEUE_PENDING.exec(text);
  if (pending) return { order, after: { phase: 'PENDING', rank: Number(pending[1]), id: Number(pending[2]) } };
  return undefined;
}

export function writeListCursor(position: ListPosition): string {
  if (position.order === 'newest') return String(position.beforeId);
  const { after } = position;
  return after.phase === 'RUNNING' ? `q.R.${after.id}` : `q.P.${after.rank}.${after.id}`;
}
