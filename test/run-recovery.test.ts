import { describe, expect, it } from 'vitest';
import type { NodeEvent } from '../shared/protocol/events.js';
import type { RunEnding } from '../worker-node/run-ending-rule.js';
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

const running: RunEnding = { ended: false };
const told: RunEnding = { ended: true, exit: { exitStatus: 0, signal: null } };
const lost: RunEnding = { ended: true, exit: undefined, jobAlive: false };

describe('a journaled run at start-up', () => {
  it('is forgotten when its journaled end was acknowledged, and waits for that otherwise', () => {
    expect(resumption({ ended: true, outbox: [] }, undefined)).toBe('forget');
    expect(resumption({ ended: true, outbox: [finished] }, undefined)).toBe('await-acknowledgment');
  });

  it('is launched when it was confirmed but never handed to its wrapper', () => {
    expect(resumption({ outbox: [] }, undefined)).toBe('launch');
  });

  it('is re-adopted (and watched) while the ending rule says it has not ended: its process lives, or its wrapper', () => {
    expect(resumption({ outbox: [], pid: 4321 }, running)).toBe('re-adopt');
  });

  it('is settled when the ending rule says it ended', () => {
    expect(resumption({ outbox: [], pid: 4321 }, told)).toBe('settle');
    expect(resumption({ outbox: [], pid: 4321 }, lost)).toBe('settle');
    expect(resumption({ outbox: [], pid: 4321 }, { ...lost, jobAlive: true })).toBe('settle');
  });
});
