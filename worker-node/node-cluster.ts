/**
 * The cluster this node belongs to (shared/db/cluster-id.ts): learnt from the API's answers, remembered in the node's
 * directory (`cluster/cluster-id`, written the journal's way), and checked at every start against the API's. A node
 * whose directory, journal and runs are one cluster's must not serve another's API: at start-up the daemon refuses,
 * naming both ids.
 */
import { join } from 'node:path';
import { Journal } from './journal.js';
import type { NodeApi } from './node-api.js';
import type { Logger } from '../shared/log/logger.js';

/** The API's cluster id differs from the one this node remembers. */
export class ClusterMismatch extends Error {
  override name = 'ClusterMismatch';
  constructor(
    readonly remembered: string,
    readonly api: string,
    dir: string,
  ) {
    super(
      `this node belongs to cluster ${remembered} (remembered in ${dir}), but its API answers for cluster ${api}: ` +
        `the API or its database is another deployment's. Point the node at its own API, or give it a node ` +
        `directory of its own (CONDUCTOR_NODE_DIR) for the other cluster`,
    );
  }
}

const KEY = 'cluster-id';

export class NodeCluster {
  readonly #journal: Journal<string>;
  #remembered: string | undefined;

  /** @param dir the node's directory; its `cluster` folder holds the remembered id */
  constructor(readonly dir: string) {
    this.#journal = new Journal(join(dir, 'cluster'));
  }

  /** The remembered id, once read (load) or learnt; undefined for a node that never heard one. */
  get id(): string | undefined {
    return this.#remembered;
  }

  async load(): Promise<void> {
    [this.#remembered] = await this.#journal.readAll();
  }

  /**
   * Takes the id an API answered: remembered if the node had none, else compared.
   * @throws ClusterMismatch when it is not the one remembered
   */
  async learn(id: string): Promise<void> {
    if (this.#remembered === id) return;
    if (this.#remembered !== undefined) throw new ClusterMismatch(this.#remembered, id, this.dir);
    await this.#journal.write(KEY, id);
    this.#remembered = id;
  }
}

/**
 * Asks the API its cluster id before the node does anything (an empty confirm: it changes nothing) and learns it.
 * An API that cannot answer now (or one older than cluster ids) is checked at the heartbeats instead.
 * @throws ClusterMismatch when the API is another cluster's than the node's
 */
export async function checkCluster(cluster: NodeCluster, api: Pick<NodeApi, 'confirm'>, log: Logger): Promise<void> {
  await cluster.load();
  let id: string | undefined;
  try {
    id = (await api.confirm([])).cluster_id;
  } catch (error) {
    log.info(
      `cannot ask the API its cluster id at start (${(error as Error).message}): its heartbeats are checked instead`,
    );
    return;
  }
  if (id === undefined) return;
  const known = cluster.id !== undefined;
  await cluster.learn(id);
  if (!known) log.info(`node joins cluster ${id}`);
}
