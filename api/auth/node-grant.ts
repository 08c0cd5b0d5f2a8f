/**
 * A node token's grant: the one node name and the partitions it was enrolled for (issue 12, item 5). The node name is
 * checked by requireNodeAccess; this checks partitions, wherever a node's request names them or implies them. An
 * admin token may act for any node and partition.
 */
import { PartitionNotGranted } from '../http/errors.js';
import type { Principal } from './principal.js';

/** The partitions this principal may serve, or undefined for every one (an admin). */
export function grantedPartitions(principal: Principal): readonly string[] | undefined {
  return principal.kind === 'node' ? principal.partitions : undefined;
}

/** Throws PartitionNotGranted (403) naming the first of these partitions the principal may not serve. */
export function requireGrantedPartitions(principal: Principal, partitions: Iterable<string>): void {
  const granted = grantedPartitions(principal);
  if (!granted || principal.kind !== 'node') return;
  for (const partition of partitions) {
    if (!granted.includes(partition)) throw new PartitionNotGranted(principal.nodeName, partition, granted);
  }
}
