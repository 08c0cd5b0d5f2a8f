/**
 * The claim loop's confirm sequence (worker-node/claim-loop.ts): learnt at start-up from a confirm (an empty one when
 * no answer was lost), and raised only once every job of a confirm's answer is in the run table, which the heartbeat
 * lists: a heartbeat never says a sequence whose jobs it does not list.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConfirmResponse, NodeJob } from '../shared/protocol/confirm.js';
import { ClaimLoop } from '../worker-node/claim-loop.js';
import { CoreAllocator } from '../worker-node/core-allocator.js';
import { Journal } from '../worker-node/journal.js';
import { ApiRefused } from '../worker-node/node-api.js';
import type { RunRecord } from '../worker-node/run-record.js';
import { RunTable, type Run } from '../worker-node/run-table.js';
import { silentLogger } from '../shared/log/logger.js';

const nodeJob = (id: number): NodeJob => ({
  id: String(id),
  attempt: 1,
  name: 'job',
  account: 'a',
  user: null,
  partition: 'batch',
  script: 'true',
  environment: {},
  current_working_directory: null,
  standard_output: 'out-%j',
  standard_error: 'err-%j',
  cpus: 1,
  ntasks_per_node: 1,
  cpus_per_task: 1,
  memory_mb: 100,
  time_limit_seconds: null,
  exclusive: false,
});

/** A run table that notes the loop's sequence at the moment each run enters it. */
class WatchedTable extends RunTable {
  readonly seen: (number | undefined)[] = [];
  loop: ClaimLoop | undefined;
  override admit(record: RunRecord): Run {
    this.seen.push(this.loop?.confirmedThrough);
    return super.admit(record);
  }
}

describe('the claim loop and the confirm sequence', () => {
  const dirs: string[] = [];
  const loops: ClaimLoop[] = [];
  afterEach(async () => {
    await Promise.all(loops.splice(0).map((loop) => loop.stop()));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** A loop whose confirms answer from `answers` (asked ids in `asked`); its claims hand out `claimable` once. */
  function claimLoop(answers: ((ids: number[]) => ConfirmResponse | Error)[], claimable: number[] = []) {
    const dir = mkdtempSync(join(tmpdir(), 'conductor-claim-loop-'));
    dirs.push(dir);
    const table = new WatchedTable(join(dir, 'journal'));
    const asked: number[][] = [];
    const launched: Run[] = [];
    let launches = 0;
    let notifyLaunch: () => void = () => {};
    const loop = new ClaimLoop({
      node: 'n1',
      partitions: ['batch'],
      memoryMb: 1000,
      runsAs: { any_user: false, users: [], unnamed: true },
      dir,
      claimIdleMaxMs: 50,
      source: { claim: async () => claimable.splice(0), close: async () => {} },
      api: {
        confirm: async (ids) => {
          asked.push(ids);
          const answer = (answers.shift() ?? (() => ({ jobs: [], dropped: ids.map(String) })))(ids);
          if (answer instanceof Error) throw answer;
          return answer;
        },
      },
      table,
      allocator: new CoreAllocator([0, 1, 2, 3]),
      leasedCores: [0, 1, 2, 3],
      up: () => true,
      mismatch: () => {},
      settle: async () => {},
      launch: (runs) => {
        launched.push(...runs);
        launches++;
        notifyLaunch();
      },
      busy: () => {},
      log: silentLogger,
    });
    table.loop = loop;
    loops.push(loop);
    /** Answers once `count` confirms have been handled (their runs handed on to be launched, if any). */
    const handled = (count: number) =>
      new Promise<void>((done) => {
        const check = () => (launches >= count ? done() : undefined);
        notifyLaunch = check;
        check();
      });
    return { loop, table, asked, launched, handled, dir };
  }

  it('confirms an empty batch at start-up to learn the sequence, and says none before', async () => {
    const { loop, asked, handled } = claimLoop([() => ({ jobs: [], dropped: [], sequence: 12 })]);
    expect(loop.confirmedThrough).toBeUndefined();
    await loop.start();
    await handled(1);
    expect(asked[0]).toEqual([]);
    expect(loop.confirmedThrough).toBe(12);
  });

  it('raises the sequence only once the answer’s jobs are in the run table', async () => {
    const { loop, table, asked, launched, handled } = claimLoop(
      [
        () => ({ jobs: [], dropped: [], sequence: 3 }),
        () => ({ jobs: [nodeJob(5), nodeJob(6)], dropped: [], sequence: 4 }),
      ],
      [5, 6],
    );
    await loop.start();
    await handled(2);
    expect(asked.slice(0, 2)).toEqual([[], [5, 6]]);
    expect(launched.map((run) => run.key)).toEqual(['5-1', '6-1']);
    // Both entered the table while the loop still said 3: a heartbeat then lists them, or says 3.
    expect(table.seen).toEqual([3, 3]);
    expect(loop.confirmedThrough).toBe(4);
  });

  it('keeps the sequence it had when a confirm is refused, and says none from an API that answers none', async () => {
    const refused = claimLoop([() => new ApiRefused(403, 'forbidden')]);
    await refused.loop.start();
    await refused.handled(1);
    expect(refused.loop.confirmedThrough).toBeUndefined();
    const older = claimLoop([() => ({ jobs: [], dropped: [] })]);
    await older.loop.start();
    await older.handled(1);
    expect(older.loop.confirmedThrough).toBeUndefined();
  });

  it('confirms again at start-up the ids whose answer a crash lost, and learns the sequence from that', async () => {
    const { loop, asked, handled, dir } = claimLoop([(ids) => ({ jobs: ids.map(nodeJob), dropped: [], sequence: 9 })]);
    await new Journal<number[]>(join(dir, 'confirming')).write('confirming', [41]);
    await loop.start();
    await handled(1);
    expect(asked[0]).toEqual([41]);
    expect(loop.confirmedThrough).toBe(9);
  });
});
