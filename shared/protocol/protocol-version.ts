/**
 * The version of the messages between the API and the node daemons (this folder). A node daemon says which it
 * speaks in the `Conductor-Protocol` header of every request; the API answers in the same header with its own, and
 * serves daemons of its own version and of the ones before (SERVED_PROTOCOL_VERSIONS): a Worker is redeployed at once, while the daemons on a
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
 * 5: scheduling policy (issue 19): a claim may say the node's running jobs (`running`, for backfill), a ref carries
 *    its job's time limit (`time_limit_seconds`), and the finished event may say the output bytes the run stored
 *    (`output_bytes`, for the accounts' stored-output limit). All three are optional additions: a daemon of 4 or 3
 *    gets no backfill and its runs count no stored bytes, so the API keeps serving 3 as well (the one before 4, whose
 *    daemons a cluster may still be upgrading), and a daemon of 5 is refused by an API of 4 with the version named
 *    rather than a 422 on a field that API does not know.
 * 6: accounting (issue 21): the finished event may say what the run used (`usage`, run-usage.ts). Optional too, so
 *    the API still serves 3 to 5.
 */
export const PROTOCOL_VERSION = 6;

/** The first version whose daemons ship output under the cluster id they are told (4). */
export const CLUSTER_ID_PROTOCOL = 4;

/** The versions the API serves: its own and the three before (5 and 6 only add optional fields to 4). */
export const SERVED_PROTOCOL_VERSIONS: readonly number[] = [
  PROTOCOL_VERSION - 3,
  PROTOCOL_VERSION - 2,
  PROTOCOL_VERSION - 1,
  PROTOCOL_VERSION,
];

export const PROTOCOL_HEADER = 'Conductor-Protocol';

/** The version a request or an answer was made in: its header's, or 1 without one (daemons and APIs before 2). */
export function protocolOf(header: string | null | undefined): number {
  if (header === null || header === undefined || header === '') return 1;
  return /^[1-9][0-9]{0,5}$/.test(header.trim()) ? Number(header.trim()) : NaN;
}
