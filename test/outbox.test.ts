import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { NodeEvent } from '../shared/protocol/events.js';
import { ApiRefused, ApiUnavailable } from '../worker-node/node-api.js';
import { Outbox } from '../worker-node/outbox.js';
import { messageLogger } from './helpers/message-logger.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const started = (job: number): NodeEvent => ({
  kind: 'started',
  job_id: String(job),
  attempt: 1,
  pid: job,
  cpu_ids: [0],
});

/** An outbox over one run's events, sending to an API that fails with `failure()` while it answers one. */
function outboxOf(failure: () => Error | undefined) {
  const events: NodeEvent[] = [];
  const sends: { at: number; count: number }[] = [];
  const lines: string[] = [];
  const start = Date.now();
  const outbox = new Outbox({
    pending: () => [{ key: '1-1', events }],
    send: async (batch) => {
      sends.push({ at: Date.now() - start, count: batch.length });
      const error = failure();
      if (error) throw error;
    },
    acknowledged: async (_key, count) => void events.splice(0, count),
    log: messageLogger((line) => lines.push(line)),
  });
  return { outbox, events, sends, lines };
}

describe('the outbox', () => {
  it('sends news at once when idle, and lets more gather for a moment after each send', async () => {
    const { outbox, events, sends } = outboxOf(() => undefined);
    outbox.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(sends).toEqual([]);
    events.push(started(1));
    outbox.notify();
    await vi.advanceTimersByTimeAsync(0);
    events.push(started(2), started(3));
    outbox.notify();
    await vi.advanceTimersByTimeAsync(10);
    expect(sends).toEqual([
      { at: 1000, count: 1 },
      { at: 1010, count: 2 },
    ]);
    expect(events).toEqual([]);
    await outbox.close();
  });

  it('retries a failing API with a growing pause, said once, that news does not cut short', async () => {
    let failing = true;
    const { outbox, events, sends, lines } = outboxOf(() => (failing ? new ApiUnavailable('down') : undefined));
    events.push(started(1));
    outbox.start();
    await vi.advanceTimersByTimeAsync(1500);
    events.push(started(2));
    outbox.notify();
    await vi.advanceTimersByTimeAsync(0);
    expect(sends.map((send) => send.at)).toEqual([0, 100, 300, 700, 1500]);
    failing = false;
    await vi.advanceTimersByTimeAsync(1600);
    expect(sends.map((send) => send.at)).toEqual([0, 100, 300, 700, 1500, 3100]);
    expect(events).toEqual([]);
    expect(lines).toEqual(['events not delivered, retrying: down', 'events delivered again']);
    await outbox.close();
  });

  it('waits the longest pause after a refusal', async () => {
    let refusals = 1;
    const { outbox, events, sends } = outboxOf(() => (refusals-- > 0 ? new ApiRefused(400, 'no') : undefined));
    events.push(started(1));
    outbox.start();
    await vi.advanceTimersByTimeAsync(2000);
    expect(sends.map((send) => send.at)).toEqual([0, 2000]);
    await outbox.close();
  });

  it('sends at most 500 events at once', async () => {
    const { outbox, events, sends } = outboxOf(() => undefined);
    events.push(...Array.from({ length: 1200 }, (_, job) => started(job + 1)));
    outbox.start();
    await vi.advanceTimersByTimeAsync(100);
    expect(sends.map((send) => send.count)).toEqual([500, 500, 200]);
    await outbox.close();
  });

  it('closes at once while idle or pausing, and flush() then sends what is left once', async () => {
    let failing = true;
    const { outbox, events, sends } = outboxOf(() => (failing ? new ApiUnavailable('down') : undefined));
    events.push(started(1));
    outbox.start();
    await vi.advanceTimersByTimeAsync(50);
    await outbox.close();
    expect(sends).toHaveLength(1);
    expect(await outbox.flush()).toBe(false);
    failing = false;
    expect(await outbox.flush()).toBe(true);
    expect(events).toEqual([]);
  });
});
