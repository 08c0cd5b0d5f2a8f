import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HeartbeatRequest, HeartbeatResponse } from '../shared/protocol/heartbeat.js';
import type { RunId } from '../shared/protocol/run-id.js';
import { HeartbeatLoop, heartbeatDelayMs } from '../worker-node/heartbeat-loop.js';
import { ApiUnavailable, ProtocolMismatch } from '../worker-node/node-api.js';
import { ClusterMismatch } from '../worker-node/node-cluster.js';
import { messageLogger } from './helpers/message-logger.js';

describe('the heartbeat interval', () => {
  it('is the configured one while jobs run, ten times it when idle, never over 10 s', () => {
    expect(heartbeatDelayMs(true, 1000)).toBe(1000);
    expect(heartbeatDelayMs(false, 500)).toBe(5000);
    expect(heartbeatDelayMs(false, 1000)).toBe(10_000);
    expect(heartbeatDelayMs(false, 30_000)).toBe(10_000);
    expect(heartbeatDelayMs(true, 30_000)).toBe(30_000);
  });
});

describe('the heartbeat loop', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function heartbeat(
    answers: (request: HeartbeatRequest) => HeartbeatResponse | Error,
    cluster?: (id: string) => Promise<void>,
  ) {
    const beats: { at: number; request: HeartbeatRequest }[] = [];
    const running: RunId[] = [];
    const ended: RunId[] = [];
    const confirmed: { through: number | undefined } = { through: undefined };
    const kills: string[] = [];
    const lines: string[] = [];
    const leases: { sentAt: number; seconds: number | null | undefined }[] = [];
    let stateChanges = 0;
    const start = Date.now();
    const loop = new HeartbeatLoop({
      node: 'n1',
      partitions: ['batch'],
      runsAs: { any_user: false, users: [], unnamed: true },
      memoryMb: 1024,
      heartbeatMs: 1000,
      cpus: 4,
      api: {
        heartbeat: async (request) => {
          beats.push({ at: Date.now() - start, request });
          const answer = answers(request);
          if (answer instanceof Error) throw answer;
          return answer;
        },
      },
      running: () => [...running],
      ended: () => [...ended],
      confirmedThrough: () => confirmed.through,
      ...(cluster ? { cluster } : {}),
      stateChanged: () => stateChanges++,
      kill: (key, reason) => kills.push(`${key} ${reason}`),
      leaseRenewed: (sentAt, seconds) => leases.push({ sentAt: sentAt - start, seconds }),
      log: messageLogger((line) => lines.push(line)),
    });
    return { loop, beats, running, ended, confirmed, kills, lines, leases, stateChanges: () => stateChanges };
  }
  const up: HeartbeatResponse = { state: 'UP', cancel: [], stop: [] };

  it('beats every 10 s while idle and every interval while a job runs', async () => {
    const { loop, beats, running } = heartbeat(() => up);
    loop.start();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(beats.map((beat) => beat.at)).toEqual([0, 10_000, 20_000]);
    running.push({ job_id: '7', attempt: 1 });
    await vi.advanceTimersByTimeAsync(12_000);
    expect(beats.map((beat) => beat.at)).toEqual([0, 10_000, 20_000, 30_000, 31_000, 32_000]);
    expect(beats.at(-1)!.request.running).toEqual([{ job_id: '7', attempt: 1 }]);
    await loop.stop();
  });

  it('renews the lease from when each heartbeat was sent, and beats often enough within a short one', async () => {
    const { loop, beats, leases } = heartbeat(() => ({ ...up, lease_seconds: 5 }));
    loop.start();
    await vi.advanceTimersByTimeAsync(3000);
    // Idle: every 10 s with the default lease, every tenth of a 5 s lease (the interval at least) here.
    expect(beats.map((beat) => beat.at)).toEqual([0, 1000, 2000, 3000]);
    expect(leases).toEqual(beats.map((beat) => ({ sentAt: beat.at, seconds: 5 })));
    await loop.stop();
  });

  it('beats at once when a job is admitted to an idle node, so that its cancel is not 10 s late', async () => {
    const { loop, beats, running } = heartbeat(() => up);
    loop.start();
    await vi.advanceTimersByTimeAsync(3000);
    running.push({ job_id: '7', attempt: 1 });
    loop.busy();
    await vi.advanceTimersByTimeAsync(0);
    expect(beats.map((beat) => beat.at)).toEqual([0, 3000]);
    // Busy already: a second admission waits for the next beat.
    loop.busy();
    await vi.advanceTimersByTimeAsync(999);
    expect(beats).toHaveLength(2);
    await loop.stop();
  });

  it("tells the node's state once per change, and ends the runs it is told to cancel or stop", async () => {
    const states: HeartbeatResponse['state'][] = ['UP', 'UP', 'DRAINING'];
    const { loop, kills, lines, stateChanges } = heartbeat(() => ({
      state: states.shift() ?? 'DRAINING',
      cancel: [{ job_id: '7', attempt: 2 }],
      stop: [{ job_id: '8', attempt: 1 }],
    }));
    loop.start();
    expect(loop.state).toBeUndefined();
    await vi.advanceTimersByTimeAsync(0);
    expect(loop.state).toBe('UP');
    await vi.advanceTimersByTimeAsync(20_000);
    expect(loop.state).toBe('DRAINING');
    expect(lines).toEqual(['node n1 is UP', 'node n1 is DRAINING']);
    expect(stateChanges()).toBe(2);
    expect(kills.slice(0, 2)).toEqual(['7-2 CANCELLED', '8-1 STOPPED']);
    await loop.stop();
  });

  it("heeds nothing another cluster's API answers: no state (so no claims), no cancel, said once", async () => {
    const [mine, theirs] = [randomUUID(), randomUUID()];
    const { loop, beats, kills, lines, stateChanges } = heartbeat(
      () => ({ ...up, cancel: [{ job_id: '7', attempt: 1 }], cluster_id: theirs }),
      async (id) => {
        if (id !== mine) throw new ClusterMismatch(mine, id, '/node');
      },
    );
    loop.start();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(beats.length).toBeGreaterThan(1);
    expect(loop.state).toBeUndefined();
    expect(stateChanges()).toBe(0);
    expect(kills).toEqual([]);
    expect(lines).toEqual([expect.stringMatching(new RegExp(`cluster ${mine}.*cluster ${theirs}`))]);
    await loop.stop();
  });

  it('says a failing API once, until it answers again, and beats on', async () => {
    let failing = true;
    const { loop, beats, lines } = heartbeat(() => (failing ? new ApiUnavailable('connection refused') : up));
    loop.start();
    await vi.advanceTimersByTimeAsync(20_000);
    failing = false;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(beats).toHaveLength(4);
    expect(lines).toEqual(['heartbeat failed: connection refused', 'heartbeat answered again', 'node n1 is UP']);
    await loop.stop();
  });

  it('takes the node out of UP, said once, while the API speaks another protocol', async () => {
    let mismatched = false;
    const { loop, lines } = heartbeat(() => (mismatched ? new ProtocolMismatch(1) : up));
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(loop.state).toBe('UP');
    mismatched = true;
    await vi.advanceTimersByTimeAsync(20_000);
    expect(loop.state).toBeUndefined();
    expect(lines.filter((line) => line.includes('stops claiming'))).toHaveLength(1);
    mismatched = false;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(loop.state).toBe('UP');
    await loop.stop();
  });

  it('says no confirm sequence and no ended runs until a confirm has told it one (an API that settles nothing)', async () => {
    const { loop, beats, ended } = heartbeat(() => up);
    ended.push({ job_id: '8', attempt: 1 });
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(beats[0]!.request).not.toHaveProperty('confirmed_through');
    expect(beats[0]!.request).not.toHaveProperty('ended');
    await loop.stop();
  });

  it('says its confirm sequence with every run it holds, the ended ones too, as they were in one turn', async () => {
    const { loop, beats, running, ended, confirmed } = heartbeat((request) => {
      // A confirm answered while the beat is on its way changes neither what it said nor the next beat's snapshot.
      running.push({ job_id: '9', attempt: 1 });
      confirmed.through = 8;
      expect(request.confirmed_through).toBe(7);
      return up;
    });
    running.push({ job_id: '7', attempt: 1 });
    ended.push({ job_id: '6', attempt: 2 });
    confirmed.through = 7;
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(beats[0]!.request).toMatchObject({
      running: [{ job_id: '7', attempt: 1 }],
      ended: [{ job_id: '6', attempt: 2 }],
      confirmed_through: 7,
    });
    await loop.stop();
  });
});
