/**
 * The why answer's pure parts: the expected-start plan (squeue --start: running jobs end at start + limit, the jobs
 * ahead placed first fit in queue order) and each node's verdict, on hand-made nodes and allocations.
 */
import { describe, expect, it } from 'vitest';
import { earliestSlot, expectedStart, type PlannedJob } from '../api/jobs/why/expected-start.js';
import type { Allocation, RoomNode } from '../api/jobs/why/node-room.js';
import { nodeVerdict, type PartitionNode } from '../api/jobs/why/node-verdicts.js';

const NOW = 1_000_000;
const MIN = 60_000;
const a: RoomNode = { name: 'a', cpus: 4, memoryMb: 4000 };
const b: RoomNode = { name: 'b', cpus: 2, memoryMb: 4000 };
const running = (node: string, cpus: number, end: number, jobId = 1): Allocation => ({
  jobId,
  node,
  cpus,
  memoryMb: 100,
  exclusive: false,
  start: NOW - MIN,
  end,
});
const job = (id: number, cpus: number, minutes: number | null, nodes = [a, b], exclusive = false): PlannedJob => ({
  id,
  cpus,
  memoryMb: 100,
  exclusive,
  timeLimitSeconds: minutes === null ? null : minutes * 60,
  nodes,
});

describe('expected start', () => {
  it('starts now where it fits, the earliest node first', () => {
    expect(earliestSlot(job(1, 2, 10), [running('a', 4, NOW + 5 * MIN)], NOW)).toEqual({ node: 'b', start: NOW });
  });

  it('starts when enough of a node frees, and needs the room for its whole limit', () => {
    const plan = [running('a', 3, NOW + 5 * MIN), running('b', 2, NOW + 20 * MIN)];
    expect(earliestSlot(job(1, 2, 10), plan, NOW)).toEqual({ node: 'a', start: NOW + 5 * MIN });
    // A planned job that starts on a in 8 minutes leaves no room for 10 minutes from 5: b, at 20, is the first.
    const later = [...plan, { ...running('a', 3, NOW + 60 * MIN, 2), start: NOW + 8 * MIN }];
    expect(earliestSlot(job(1, 2, 10), later, NOW)).toEqual({ node: 'b', start: NOW + 20 * MIN });
  });

  it('places the jobs ahead first, in order, then the job', () => {
    const plan = [running('a', 4, NOW + 10 * MIN), running('b', 2, NOW + 30 * MIN)];
    // Ahead: one takes a from 10 to 40; the next, a from 40; the job fits b at 30.
    const ahead = [job(2, 4, 30), job(3, 3, 10)];
    expect(expectedStart(job(1, 2, 10), ahead, plan, NOW)).toEqual({ node: 'b', start: NOW + 30 * MIN });
    expect(expectedStart(job(1, 4, 10, [a]), ahead, plan, NOW)).toEqual({ node: 'a', start: NOW + 50 * MIN });
  });

  it('has no slot where only jobs with no time limit hold the room, and a job ahead without one takes it for ever', () => {
    expect(earliestSlot(job(1, 2, 10, [a]), [running('a', 4, Infinity)], NOW)).toBeNull();
    expect(expectedStart(job(1, 1, 10, [a]), [job(2, 4, null, [a])], [], NOW)).toBeNull();
    // Without a limit itself, it needs the room for ever: it starts once the last limited job there ends.
    expect(earliestSlot(job(1, 2, null, [a]), [running('a', 3, NOW + 5 * MIN)], NOW)).toEqual({
      node: 'a',
      start: NOW + 5 * MIN,
    });
  });

  it('gives an exclusive job a node with nothing on it, and nothing beside an exclusive one', () => {
    const plan = [running('a', 1, NOW + 5 * MIN), running('b', 1, NOW + 9 * MIN)];
    expect(earliestSlot(job(1, 1, 10, [a, b], true), plan, NOW)).toEqual({ node: 'a', start: NOW + 5 * MIN });
    const exclusive = { ...running('a', 1, NOW + 7 * MIN), exclusive: true };
    expect(earliestSlot(job(1, 1, 10, [a]), [exclusive], NOW)).toEqual({ node: 'a', start: NOW + 7 * MIN });
  });
});

describe('node verdicts', () => {
  const node = (extra: Partial<PartitionNode> = {}): PartitionNode => ({
    ...a,
    state: 'UP',
    drained: false,
    drainReason: null,
    runsAs: { any_user: true, users: [], unnamed: true },
    ...extra,
  });
  const small = { cpus: 2, memoryMb: 100, exclusive: false, user: 'alice' };

  it('names the first thing that keeps the job off the node', () => {
    const verdict = (extra: Partial<PartitionNode>, jobSize = small) =>
      nodeVerdict(jobSize, node(extra), [], NOW).verdict;
    expect(verdict({ state: 'DOWN', drained: true })).toBe('down');
    expect(verdict({ state: 'DRAINING', drained: true })).toBe('drained');
    expect(verdict({ runsAs: { any_user: false, users: ['bob'], unnamed: true } })).toBe('owner_not_run');
    expect(verdict({}, { ...small, cpus: 5 })).toBe('too_small');
    expect(verdict({}, { ...small, memoryMb: 4001 })).toBe('too_small');
    expect(verdict({})).toBe('free');
  });

  it('says when a busy node frees enough: at the running job end that leaves room', () => {
    const plan = [running('a', 2, NOW + 5 * MIN, 7), running('a', 1, NOW + 9 * MIN, 8)];
    expect(nodeVerdict({ ...small, cpus: 3 }, node(), plan, NOW)).toMatchObject({
      verdict: 'busy',
      freeCpus: 1,
      freesAt: NOW + 5 * MIN,
    });
    expect(nodeVerdict({ ...small, cpus: 4 }, node(), plan, NOW).freesAt).toBe(NOW + 9 * MIN);
    const unlimited = [running('a', 2, NOW + 5 * MIN, 7), running('a', 2, Infinity, 9)];
    expect(nodeVerdict({ ...small, cpus: 4 }, node(), unlimited, NOW)).toMatchObject({
      verdict: 'busy',
      freesAt: null,
      detail: expect.stringContaining('no computable time: job 9 on it has no time limit (UNLIMITED)'),
    });
  });
});
