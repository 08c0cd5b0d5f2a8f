/**
 * Who owns the old keys of a log store (`{prefix}jobs/…`, from before cluster ids): output stored there has no
 * cluster id in its name, so only one cluster may read it. The first API whose database holds jobs from before
 * cluster ids (`legacy_log_keys`) claims them, with a marker naming its cluster; an API of another cluster with such
 * jobs, pointed at the same store, refuses to start: both wrote their output under the same names, and neither could
 * tell its own. A cluster with no such jobs never reads the old keys, and shares the store with anyone.
 *
 * The marker is stored as the store stores everything, as a chunk: of job 0's attempt 0, which no job has (ids and
 * attempts count from 1), so every store keeps it with no other operation: `{prefix}jobs/0/0/stdout/000000000000000`.
 */
import { LogStoreUnavailable, type LogStore, type LogStreamId } from './log-store.js';

const MARKER: LogStreamId = { jobId: 0, attempt: 0, stream: 'stdout' };

/** The store's old keys belong to another cluster, whose jobs from before cluster ids are there too. */
export class LegacyKeysOfAnotherCluster extends Error {
  override name = 'LegacyKeysOfAnotherCluster';
  constructor(
    readonly owner: string,
    readonly cluster: string,
  ) {
    super(
      `the log store holds output from before cluster ids of cluster ${owner}, and this database (cluster ` +
        `${cluster}) has jobs from before them too: two deployments stored their output under the same names there. ` +
        `Give this deployment the log store (CONDUCTOR_LOG_DIR, CONDUCTOR_S3_*, CONDUCTOR_LOG_PREFIX) its jobs ` +
        `wrote to before its upgrade`,
    );
  }
}

/** The cluster that claimed the store's old keys, if one has. */
export async function legacyKeysOwner(store: LogStore): Promise<string | undefined> {
  for await (const chunk of store.list(MARKER)) {
    if (chunk.offset !== 0) continue;
    return new TextDecoder().decode(await store.read(MARKER, chunk)).trim();
  }
  return undefined;
}

/**
 * Claims the store's old keys for `cluster`, or finds them its own already.
 * @param cluster the cluster id of a database holding jobs from before cluster ids
 * @throws LegacyKeysOfAnotherCluster when another cluster claimed them
 * @throws LogStoreUnavailable when the store does not answer
 */
export async function claimLegacyKeys(store: LogStore, cluster: string): Promise<void> {
  let owner = await legacyKeysOwner(store);
  if (owner === undefined) {
    await store.put(MARKER, 0, new TextEncoder().encode(`${cluster}\n`));
    // Read back: a claim another cluster overwrote at once is seen here, its own on the other side.
    owner = await legacyKeysOwner(store);
  }
  if (owner === undefined) throw new LogStoreUnavailable('the marker of the old keys was stored but cannot be read');
  if (owner !== cluster) throw new LegacyKeysOfAnotherCluster(owner, cluster);
}
