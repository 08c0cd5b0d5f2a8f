/**
 * First-fit core allocation on one node: a job gets the lowest-numbered free cores, and no core is ever given to two
 * running jobs. The daemon rebuilds it from its journal after a restart (`reserve`), so re-adopted jobs keep theirs.
 */
export class CoreAllocator {
  readonly #owner: (number | undefined)[];

  constructor(readonly cores: number) {
    if (!Number.isInteger(cores) || cores < 1) throw new RangeError('a node has at least one core');
    this.#owner = new Array<number | undefined>(cores).fill(undefined);
  }

  get free(): number {
    return this.#owner.filter((owner) => owner === undefined).length;
  }

  /** The lowest-numbered `count` free cores, now the job's; undefined when fewer are free. */
  allocate(jobId: number, count: number): number[] | undefined {
    const picked: number[] = [];
    for (let core = 0; core < this.cores && picked.length < count; core++) {
      if (this.#owner[core] === undefined) picked.push(core);
    }
    if (picked.length < count) return undefined;
    for (const core of picked) this.#owner[core] = jobId;
    return picked;
  }

  /** Gives a re-adopted job back exactly the cores it had; refuses a core someone else holds. */
  reserve(jobId: number, cores: number[]): void {
    for (const core of cores) {
      const owner = this.#owner[core];
      if (core < 0 || core >= this.cores) throw new RangeError(`core ${core} is not on this node`);
      if (owner !== undefined && owner !== jobId) throw new Error(`core ${core} is job ${owner}'s`);
    }
    for (const core of cores) this.#owner[core] = jobId;
  }

  release(jobId: number): void {
    this.#owner.forEach((owner, core) => {
      if (owner === jobId) this.#owner[core] = undefined;
    });
  }
}
