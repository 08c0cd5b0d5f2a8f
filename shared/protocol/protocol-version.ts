/**
 * The version of the messages between the API and the node daemons (this folder). A node daemon says which it
 * speaks in the `Conductor-Protocol` header of every request; the API answers in the same header with its own, and
 * serves daemons of its own version and of the one before: a Worker is redeployed at once, while the daemons on a
 * cluster's machines are upgraded later. Every change to a message raises the version and keeps the previous one
 * served.
 *
 * 1: the first (its daemons send no header).
 * 2: the heartbeat carries the daemon's version (`daemon_version`).
 * 3: jobs have owners: the claim and the heartbeat say how the node runs jobs (`runs_as`, runs-as.ts), a ref and a
 *    confirmed job carry their owner (`user`). A daemon of 2 says nothing and is given only jobs naming no user.
 * 4: fencing on node loss: the heartbeat's answer grants the node a lease (`lease_seconds`, null: never expires),
 *    which the daemon keeps renewed or stops its runs before it ends; a run so stopped is reported NODE_FAIL. The
 *    confirm and heartbeat answers say the cluster id (`cluster_id`), under which the daemon ships output: a daemon of
 *    3 ships under the old keys, and the API reads its jobs' output there.
 */
export const PROTOCOL_VERSION = 4;

/** The first version whose daemons ship output under the cluster id they are told (4). */
export const CLUSTER_ID_PROTOCOL = 4;

/** The versions the API serves: its own and the one before. */
export const SERVED_PROTOCOL_VERSIONS: readonly number[] = [PROTOCOL_VERSION - 1, PROTOCOL_VERSION];

export const PROTOCOL_HEADER = 'Conductor-Protocol';

/** The version a request or an answer was made in: its header's, or 1 without one (daemons and APIs before 2). */
export function protocolOf(header: string | null | undefined): number {
  if (header === null || header === undefined || header === '') return 1;
  return /^[1-9][0-9]{0,5}$/.test(header.trim()) ? Number(header.trim()) : NaN;
}
