/**
 * The follow stream on its own, over a real filesystem store and a job that keeps running: a client that goes away
 * ends its polling, and an API that stops errors its followers at once, even one whose client is not reading.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { followStream, type Follow } from '../api/jobs/follow-output.js';
import type { JobRow } from '../shared/db/schema.js';
import { FileLogStore } from '../shared/logs/file-log-store.js';
import type { LogStreamId } from '../shared/logs/log-store.js';
import { waitUntil } from './helpers/wait-for.js';

const dir = mkdtempSync(join(tmpdir(), 'conductor-follow-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function follower(jobId: number, attempt = 1, job = (): Partial<JobRow> => ({ attempt: 1, state: 'RUNNING' })) {
  const store = new FileLogStore(dir);
  const id: LogStreamId = { jobId, attempt, stream: 'stdout' };
  let reloads = 0;
  const closing = new AbortController();
  const follow: Follow = {
    store,
    id,
    offset: 0,
    // By default a job that runs on and prints nothing more.
    reload: async () => {
      reloads++;
      return { id: jobId, ...job() } as JobRow;
    },
    pollMs: 20,
    chunkBytes: 1 << 20,
    closing: closing.signal,
  };
  return { store, id, follow, closing, reloads: () => reloads };
}

describe('a followed stream', () => {
  it('stops looking for more once its client has gone', async () => {
    const { store, id, follow, reloads } = follower(1);
    await store.put(id, 0, new TextEncoder().encode('first\n'));
    const reader = followStream(follow).getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('first\n');
    // The client asks for more, then goes away while the follower waits for the job to print.
    const pending = reader.read().catch(() => undefined);
    await waitUntil('the follower to look again', () => reloads() > 1);
    await reader.cancel();
    await pending;
    const after = reloads();
    // A window for what must not happen (more looks); a busy machine only makes it see fewer.
    await sleep(200);
    expect(reloads()).toBeLessThanOrEqual(after + 1);
  });

  it('errors at once when the API stops, even for a client that is not reading', async () => {
    const { store, id, follow, closing } = follower(2);
    await store.put(id, 0, new TextEncoder().encode('a line\n'));
    const stream = followStream(follow);
    const reader = stream.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('a line\n');
    closing.abort();
    await expect(reader.read()).rejects.toThrow(/is stopping/);
  });

  it("follows a requeued job's next attempt once it starts, not the attempt before", async () => {
    let now: Partial<JobRow> = { attempt: 1, state: 'PENDING' };
    const { store, follow, reloads } = follower(3, 2, () => now);
    const encode = (text: string) => new TextEncoder().encode(text);
    await store.put({ jobId: 3, attempt: 1, stream: 'stdout' }, 0, encode('the lost attempt\n'));
    const reader = followStream(follow).getReader();
    const first = reader.read();
    // It has seen the job PENDING again, between the attempts, before the next one starts.
    await waitUntil('the follower to look at the requeued job', () => reloads() > 0);
    now = { attempt: 2, state: 'RUNNING' };
    await store.put({ jobId: 3, attempt: 2, stream: 'stdout' }, 0, encode('the next one\n'));
    expect(new TextDecoder().decode((await first).value)).toBe('the next one\n');
    now = { attempt: 2, state: 'COMPLETED' };
    expect((await reader.read()).done).toBe(true);
  });
});
