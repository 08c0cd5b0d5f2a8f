/**
 * Where an event sits in the stream: its writing transaction's id and its own id (migration 0028), compared in that
 * order. The stream's SSE ids are these positions written `<tx>-<id>` in decimal; clients treat them as opaque.
 */
export interface EventPosition {
  tx: bigint;
  id: bigint;
}

const POSITION = /^([0-9]{1,20})-([0-9]{1,20})$/;
// The columns' ranges (xid8 and bigint): a larger number is no position, and Postgres would refuse it (a 500).
const MAX_TX = 2n ** 64n - 1n;
const MAX_ID = 2n ** 63n - 1n;

export function formatPosition(position: EventPosition): string {
  return `${position.tx}-${position.id}`;
}

/** The position a cursor names, or null when it is not one (the caller answers 422 naming where it came from). */
export function parsePosition(cursor: string): EventPosition | null {
  const match = POSITION.exec(cursor.trim());
  if (!match) return null;
  const position = { tx: BigInt(match[1]!), id: BigInt(match[2]!) };
  return position.tx <= MAX_TX && position.id <= MAX_ID ? position : null;
}

/** Negative, zero or positive as `a` is before, at or after `b`. */
export function comparePositions(a: EventPosition, b: EventPosition): number {
  if (a.tx !== b.tx) return a.tx < b.tx ? -1 : 1;
  return a.id === b.id ? 0 : a.id < b.id ? -1 : 1;
}

export const laterPosition = (a: EventPosition, b: EventPosition): EventPosition =>
  comparePositions(a, b) >= 0 ? a : b;
