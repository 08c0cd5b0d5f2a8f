/**
 * The node's lease decisions on a fake clock (worker-node/node-lease.ts): when the daemon stops its runs and when the
 * wrappers do, that each heartbeat answered moves them on, and that a lease that never expires stops nothing.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readNodeHostConfig } from '../shared/config/node-host-config.js';
import { parseNodeLease } from '../shared/config/node-lease-setting.js';
import { heartbeatDelayMs } from '../worker-node/heartbeat-loop.js';
import { leaseDeadlines, NodeLease, readLeaseFile } from '../worker-node/node-lease.js';
import { silentLogger } from '../shared/log/logger.js';

describe('a lease’s deadlines', () => {
  it('the default 300 s with the default 10 s kill grace: the daemon stops runs 25 s before its end, wrappers 5 s', () => {
    expect(leaseDeadlines(1_000_000, 300, 10_000)).toEqual({
      stopAt: 1_275_000,
      fenceAt: 1_295_000,
      endsAt: 1_300_000,
    });
  });

  it('a short lease: the daemon stops runs first, the wrappers next, both before its end', () => {
    const { stopAt, fenceAt, endsAt } = leaseDeadlines(0, 4, 500);
    expect([stopAt, fenceAt, endsAt]).toEqual([2500, 3500, 4000]);
  });

  it('a kill grace longer than the lease: the daemon stops runs at half the lease, never later', () => {
    expect(leaseDeadlines(0, 20, 3_600_000).stopAt).toBe(10_000);
  });

  it('heartbeats several times within a short lease, even on an idle node', () => {
    expect(heartbeatDelayMs(false, 1000, 300)).toBe(10_000);
    expect(heartbeatDelayMs(false, 1000, 5)).toBe(1000);
    expect(heartbeatDelayMs(false, 100, 5)).toBe(500);
    expect(heartbeatDelayMs(false, 1000, null)).toBe(10_000);
  });
});

describe('the node lease', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  /** A lease on a fake clock: its one timer fires when the test moves the clock past it. */
  function fakeLease() {
    const dir = mkdtempSync(join(tmpdir(), 'conductor-lease-'));
    dirs.push(dir);
    const clock = { now: 0, timer: undefined as { at: number; run: () => void } | undefined };
    const stops: number[] = [];
    const lease = new NodeLease({
      file: join(dir, 'lease'),
      killGraceMs: 500,
      expiring: () => stops.push(clock.now),
      log: silentLogger,
      now: () => clock.now,
      setTimer: (run, ms) => {
        const timer = { at: clock.now + ms, run };
        clock.timer = timer;
        return { clear: () => clock.timer === timer && (clock.timer = undefined) };
      },
    });
    const advance = (to: number) => {
      clock.now = to;
      const timer = clock.timer;
      if (timer && timer.at <= to) {
        clock.timer = undefined;
        timer.run();
      }
    };
    return { lease, file: join(dir, 'lease'), stops, advance };
  }

  it('stops the runs once, at the stop deadline of the last lease renewed, and writes the wrappers’ deadline', () => {
    const { lease, file, stops, advance } = fakeLease();
    lease.renewed(0, 4);
    expect(readFileSync(file, 'utf8')).toBe('3500 2500 4000\n');
    advance(2000);
    lease.renewed(2000, 4); // renewed in time: nothing stops
    advance(4000);
    expect(stops).toEqual([]);
    expect(readLeaseFile(file)).toEqual({ fenceAt: 5500, stopAt: 4500, endsAt: 6000 });
    advance(4500);
    advance(10_000);
    expect(stops).toEqual([4500]);
  });

  it('a lease that never expires removes the file and stops nothing', () => {
    const { lease, file, stops, advance } = fakeLease();
    lease.renewed(0, 4);
    lease.renewed(1000, null);
    expect(existsSync(file)).toBe(false);
    advance(1_000_000);
    expect(stops).toEqual([]);
  });

  it('a restarted daemon keeps to the lease its predecessor left, until it renews it', () => {
    const first = fakeLease();
    first.lease.renewed(0, 4);
    const second = fakeLease();
    const restarted = new NodeLease({
      file: first.file,
      killGraceMs: 500,
      expiring: () => second.stops.push(1),
      log: silentLogger,
      now: () => 3000,
      setTimer: (run, ms) => {
        // Its stop deadline (2500) has passed: at once.
        expect(ms).toBe(0);
        run();
        return { clear: () => {} };
      },
    });
    restarted.resume();
    expect(second.stops).toEqual([1]);
  });
});

describe('CONDUCTOR_NODE_LEASE_SECONDS', () => {
  it('is 300 s by default, a number of seconds, or never; the old silence limit is refused, naming its successor', () => {
    expect(readNodeHostConfig({}).CONDUCTOR_NODE_LEASE_SECONDS).toBe(300_000);
    expect(readNodeHostConfig({ CONDUCTOR_NODE_LEASE_SECONDS: '30' }).CONDUCTOR_NODE_LEASE_SECONDS).toBe(30_000);
    expect(readNodeHostConfig({ CONDUCTOR_NODE_LEASE_SECONDS: 'never' }).CONDUCTOR_NODE_LEASE_SECONDS).toBeNull();
    expect(() => readNodeHostConfig({ CONDUCTOR_NODE_LEASE_SECONDS: 'soon' })).toThrow(/CONDUCTOR_NODE_LEASE_SECONDS/);
    expect(() => readNodeHostConfig({ CONDUCTOR_NODE_TIMEOUT_SECONDS: '60' })).toThrow(
      /CONDUCTOR_NODE_TIMEOUT_SECONDS: was replaced by CONDUCTOR_NODE_LEASE_SECONDS/,
    );
    // The Workers host reads its binding the same way.
    expect(parseNodeLease(undefined)).toBe(300_000);
    expect(parseNodeLease('never')).toBeNull();
    expect(() => parseNodeLease('0')).toThrow(/CONDUCTOR_NODE_LEASE_SECONDS/);
  });

  it('refuses a lease of a few heartbeats or less (it would stop every job) and numbers not written in decimal', () => {
    for (const text of ['1', '2', '4.9', '0x10', '1e3', '-5']) {
      expect(() => readNodeHostConfig({ CONDUCTOR_NODE_LEASE_SECONDS: text }), text).toThrow(
        /CONDUCTOR_NODE_LEASE_SECONDS/,
      );
    }
    expect(readNodeHostConfig({ CONDUCTOR_NODE_LEASE_SECONDS: '5' }).CONDUCTOR_NODE_LEASE_SECONDS).toBe(5000);
    expect(readNodeHostConfig({ CONDUCTOR_NODE_LEASE_SECONDS: ' 7.5 ' }).CONDUCTOR_NODE_LEASE_SECONDS).toBe(7500);
  });
});
