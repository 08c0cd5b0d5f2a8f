/**
 * First-fit core allocation on one node: a job gets the lowest-numbered free cores of the node's own (the machine
 * cores its daemon holds, see core-locks.ts), and no core is ever given to two running jobs. The daemon rebuilds it
 * from its journal after a restart (`reserve`), so re-adopted jobs keep theirs.
 */
export class CoreAllocator {
  readonly #owner = new Map<number, number | undefined>();

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

  /** The lowest-numbered `count` free cores, now the job's; undefined when fewer are free. */
  allocate(jobId: number, count: number): number[] | undefined {
    const picked: number[] = [];
    for (const [core, owner] of this.#owner) {
      if (picked.length === count) break;
      if (owner === undefined) picked.push(core);
    }
    if (picked.length < count) return undefined;
    for (const core of picked) this.#owner.set(core, jobId);
    return picked;
  }

  /** Gives a re-adopted job back exactly the cores it had; refuses a core someone else holds. */
  reserve(jobId: number, cores: number[]): void {
    for (const core of cores) {
      if (!this.#owner.has(core)) throw new RangeError(`core ${core} is not on this node`);
      const owner = this.#owner.get(core);
      if (owner !== undefined && owner !== jobId) throw new Error(`core ${core} is job ${owner}'s`);
    }
    for (const core of cores) this.#owner.set(core, jobId);
  }

  release(jobId: number): void {
    for (const [core, owner] of this.#owner) if (owner === jobId) this.#owner.set(core, undefined);
  }
}
