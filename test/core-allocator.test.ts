import { describe, expect, it } from 'vitest';
import { CoreAllocator } from '../worker-node/core-allocator.js';

describe('first-fit core allocation', () => {
  it('gives the lowest-numbered free cores, and reuses freed ones first', () => {
    const cores = new CoreAllocator([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(cores.allocate('1-1', 2)).toEqual([0, 1]);
    expect(cores.allocate('2-1', 3)).toEqual([2, 3, 4]);
    cores.release('1-1');
    expect(cores.allocate('3-1', 3)).toEqual([0, 1, 5]);
    expect(cores.free).toBe(2);
    expect(cores.allocate('4-1', 3)).toBeUndefined();
    expect(cores.free).toBe(2);
  });

  it('never gives a core to two jobs, whatever the order of allocations and releases', () => {
    const cores = new CoreAllocator(Array.from({ length: 16 }, (_, core) => core));
    const held = new Map<string, number[]>();
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let step = 0; step < 5000; step++) {
      const running = [...held.keys()];
      if (running.length && random() < 0.45) {
        const job = running[Math.floor(random() * running.length)]!;
        cores.release(job);
        held.delete(job);
      } else {
        const got = cores.allocate(`${step}-1`, 1 + Math.floor(random() * 4));
        if (got) held.set(`${step}-1`, got);
      }
      const all = [...held.values()].flat();
      expect(new Set(all).size).toBe(all.length);
      expect(cores.free).toBe(16 - all.length);
    }
  });

  it("gives a re-adopted job its own cores back, and refuses another job's", () => {
    const cores = new CoreAllocator([0, 1, 2, 3]);
    cores.reserve('9-1', [1, 2]);
    expect(() => cores.reserve('10-1', [2])).toThrow("core 2 is run 9-1's");
    expect(() => cores.reserve('10-1', [4])).toThrow('not on this node');
    expect(cores.allocate('11-1', 2)).toEqual([0, 3]);
  });

  it('keeps two attempts of one job apart: the end of the last one frees only its own cores', () => {
    const cores = new CoreAllocator([0, 1, 2, 3]);
    expect(cores.allocate('7-1', 2)).toEqual([0, 1]);
    expect(cores.allocate('7-2', 2)).toEqual([2, 3]);
    cores.release('7-1');
    expect(cores.free).toBe(2);
    expect(cores.allocate('8-1', 3)).toBeUndefined();
  });

  it('numbers cores as the machine does: a node holding cores 4-6 hands those out', () => {
    const cores = new CoreAllocator([6, 4, 5]);
    expect(cores.allocate('1-1', 2)).toEqual([4, 5]);
    expect(cores.allocate('2-1', 2)).toBeUndefined();
    expect(() => cores.reserve('3-1', [0])).toThrow('not on this node');
  });
});
