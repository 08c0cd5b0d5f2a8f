/**
 * First-fit core allocation on one node: a run gets the lowest-numbered free cores of the node's own (the machine
 * cores its daemon holds, see core-locks.ts), and no core is ever given to two running runs. Runs are named by job
 * and attempt: a requeued job's next attempt may start here while its last one is still being ended. The daemon
 * rebuilds it from its journal after a restart (`reserve`), so re-adopted runs keep theirs.
 */
export class CoreAllocator {
  readonly #owner = new Map<number, string | undefined>();

  constructor(cores: number[]) {
    if (cores.length === 0) throw new RangeError('a node has at least one core');
    for (const core of [...cores].sort((a, b) => a - b)) this.#owner.set(core, undefined);
  }

  get cores(): number {
    return this.#owner.size;
  }

  get free(): number {
    return [...this.#owner.values()].filter((owner) => owner === undefined).length;
  }

  /** The lowest-numbered `count` free cores, now the run's; undefined when fewer are free. */
  allocate(run: string, count: number): number[] | undefined {
    const picked: number[] = [];
    for (const [core, owner] of this.#owner) {
      if (picked.length === count) break;
      if (owner === undefined) picked.push(core);
    }
    if (picked.length < count) return undefined;
    for (const core of picked) this.#owner.set(core, run);
    return picked;
  }

  /** Gives a re-adopted run back exactly the cores it had; refuses a core another holds. */
  reserve(run: string, cores: number[]): void {
    for (const core of cores) {
      if (!this.#owner.has(core)) throw new RangeError(`core ${core} is not on this node`);
      const owner = this.#owner.get(core);
      if (owner !== undefined && owner !== run) throw new Error(`core ${core} is run ${owner}'s`);
    }
    for (const core of cores) this.#owner.set(core, run);
  }

  release(run: string): void {
    for (const [core, owner] of this.#owner) if (owner === run) this.#owner.set(core, undefined);
  }
}
