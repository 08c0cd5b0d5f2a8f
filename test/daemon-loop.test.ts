import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DaemonLoop, LoopStartedTwice } from '../worker-node/daemon-loop.js';
import { silentLogger } from '../shared/log/logger.js';
import { messageLogger } from './helpers/message-logger.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A loop whose passes are recorded (by fake time) and answer the sleeps given, then the last one for ever. */
function recordedLoop(sleeps: number[], pass?: () => Promise<void>) {
  const passes: number[] = [];
  const lines: string[] = [];
  const loop = new DaemonLoop({
    name: 'test',
    pass: async () => {
      passes.push(Date.now());
      await pass?.();
      return sleeps.length > 1 ? sleeps.shift()! : sleeps[0]!;
    },
    log: messageLogger((line) => lines.push(line)),
  });
  return { loop, passes, lines };
}

describe('a daemon loop', () => {
  it('goes from created to running to stopped, passing and sleeping what each pass asks', async () => {
    const start = Date.now();
    const { loop, passes } = recordedLoop([100, 300, 1000]);
    expect(loop.state).toBe('created');
    loop.start();
    expect(loop.state).toBe('running');
    await vi.advanceTimersByTimeAsync(1400);
    expect(passes.map((at) => at - start)).toEqual([0, 100, 400, 1400]);
    await loop.stop();
    expect(loop.state).toBe('stopped');
  });

  it('passes at once when notified in its sleep, and sleeps until notified when a pass asks for ever', async () => {
    const start = Date.now();
    const { loop, passes } = recordedLoop([Infinity]);
    loop.start();
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(passes).toHaveLength(1);
    loop.notify();
    await vi.advanceTimersByTimeAsync(0);
    expect(passes.map((at) => at - start)).toEqual([0, 3_600_000]);
    await loop.stop();
  });

  it('skips its next sleep when notified during a pass: the pass may have looked too early', async () => {
    let release!: () => void;
    const { loop, passes } = recordedLoop([60_000], () => new Promise<void>((done) => (release = done)));
    loop.start();
    await vi.advanceTimersByTimeAsync(10);
    loop.notify();
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(passes).toHaveLength(2);
    release();
    await vi.advanceTimersByTimeAsync(59_999);
    expect(passes).toHaveLength(2);
    const stopped = loop.stop();
    await vi.advanceTimersByTimeAsync(0);
    await stopped;
  });

  it('is stopping while the pass under way finishes, and stop() waits for it', async () => {
    let release!: () => void;
    const { loop, passes } = recordedLoop([1000], () => new Promise<void>((done) => (release = done)));
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(5000);
    expect(loop.state).toBe('stopping');
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(loop.state).toBe('stopped');
    expect(passes).toHaveLength(1);
  });

  it('ends its sleep at stop(), however long', async () => {
    const { loop, passes } = recordedLoop([3_600_000]);
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    await loop.stop();
    expect(loop.state).toBe('stopped');
    expect(passes).toHaveLength(1);
  });

  it('stops at once when never started, and cannot be started twice', async () => {
    const { loop, passes } = recordedLoop([10]);
    await loop.stop();
    expect(loop.state).toBe('stopped');
    expect(passes).toHaveLength(0);
    const other = recordedLoop([10]).loop;
    other.start();
    expect(() => other.start()).toThrow(LoopStartedTwice);
    await other.stop();
  });

  it('reports a pass that throws, runs on after a growing pause, and pauses no more once one works', async () => {
    const start = Date.now();
    let failures = 3;
    const { loop, passes, lines } = recordedLoop([Infinity], async () => {
      if (failures-- > 0) throw new Error('disk full');
    });
    loop.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(passes.map((at) => at - start)).toEqual([0, 100, 300, 700]);
    expect(lines).toEqual([
      'test failed, next try in 100 ms: disk full',
      'test failed, next try in 200 ms: disk full',
      'test failed, next try in 400 ms: disk full',
    ]);
    await loop.stop();
  });

  it('runs on when its log throws', async () => {
    const passes: number[] = [];
    const loop = new DaemonLoop({
      name: 'test',
      pass: async () => {
        passes.push(Date.now());
        throw new Error('broken');
      },
      log: messageLogger(() => {
        throw new Error('log broken too');
      }),
    });
    loop.start();
    await vi.advanceTimersByTimeAsync(350);
    expect(passes.length).toBe(3);
    await loop.stop();
  });

  it('has a pause inside a pass that notify() leaves alone and stop() ends', async () => {
    const answers: boolean[] = [];
    const loop = new DaemonLoop({
      name: 'test',
      pass: async () => {
        answers.push(await loop.pause(2000));
        return Infinity;
      },
      log: silentLogger,
    });
    loop.start();
    await vi.advanceTimersByTimeAsync(500);
    loop.notify();
    await vi.advanceTimersByTimeAsync(1000);
    expect(answers).toEqual([]);
    await vi.advanceTimersByTimeAsync(500);
    expect(answers).toEqual([true]);
    // The notify during the pass: the next pass comes at once, and stop() ends its pause.
    await vi.advanceTimersByTimeAsync(0);
    const stopping = loop.stop();
    await stopping;
    expect(answers).toEqual([true, false]);
  });
});
