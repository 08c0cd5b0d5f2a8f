import { describe, expect, it } from 'vitest';
import type { NodeEvent } from '../shared/protocol/events.js';
import { resumption } from '../worker-node/run-recovery.js';

const finished: NodeEvent = {
  kind: 'finished',
  job_id: '7',
  attempt: 1,
  state: 'FAILED',
  exit_status: null,
  exit_signal: null,
  error_msg: 'cannot start: no such directory',
};

describe('a journaled run at start-up', () => {
  it('is forgotten when its journaled end was acknowledged, and waits for that otherwise', () => {
    expect(resumption({ ended: true, outbox: [] }, undefined)).toBe('forget');
    expect(resumption({ ended: true, outbox: [finished] }, undefined)).toBe('await-acknowledgment');
  });

  it('is launched when it was confirmed but never handed to its wrapper', () => {
    expect(resumption({ outbox: [] }, undefined)).toBe('launch');
  });

  it('is re-adopted when its pid still names its process', () => {
    expect(resumption({ outbox: [], pid: 4321, startTime: 99_000 }, 99_000)).toBe('re-adopt');
  });

  it('is settled when its process is gone, or its pid now names another process', () => {
    expect(resumption({ outbox: [], pid: 4321, startTime: 99_000 }, undefined)).toBe('settle');
    expect(resumption({ outbox: [], pid: 4321, startTime: 99_000 }, 123_456)).toBe('settle');
  });

  it('is re-adopted with a kill under way, or settled: the kill goes on, or its reason tells the ending', () => {
    const killing = { outbox: [], pid: 4321, startTime: 99_000, kill: 'TIMEOUT' as const };
    expect(resumption(killing, 99_000)).toBe('re-adopt');
    expect(resumption(killing, undefined)).toBe('settle');
  });
});
