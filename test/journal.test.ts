import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal } from '../worker-node/journal.js';

interface Entry {
  jobId: number;
  attempt: number;
  unsent?: string[];
}

describe("the daemon's journal", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const journal = () => {
    const dir = mkdtempSync(join(tmpdir(), 'conductor-journal-'));
    dirs.push(dir);
    return { dir, journal: new Journal<Entry>(join(dir, 'journal')) };
  };

  it('keeps one record per key, the last written, across instances (a restart), in natural key order', async () => {
    const { dir, journal: first } = journal();
    await first.write('10', { jobId: 10, attempt: 1 });
    await first.write('9', { jobId: 9, attempt: 1 });
    await first.write('10', { jobId: 10, attempt: 2, unsent: ['finished'] });
    const again = new Journal<Entry>(join(dir, 'journal'));
    expect(await again.readAll()).toEqual([
      { jobId: 9, attempt: 1 },
      { jobId: 10, attempt: 2, unsent: ['finished'] },
    ]);
    await again.remove('9');
    await again.remove('9');
    expect((await again.readAll()).map((e) => e.jobId)).toEqual([10]);
  });

  it('queues writes to one key: the last one asked for is the one on disk', async () => {
    const { dir, journal: j } = journal();
    await Promise.all(Array.from({ length: 20 }, (_, attempt) => j.write('5', { jobId: 5, attempt })));
    expect(JSON.parse(readFileSync(join(dir, 'journal', '5.json'), 'utf8'))).toEqual({ jobId: 5, attempt: 19 });
    await Promise.all([j.write('6', { jobId: 6, attempt: 1 }), j.remove('6')]);
    expect(await j.readAll()).toEqual([{ jobId: 5, attempt: 19 }]);
  });

  it('ignores and clears what a crash in the middle of a write left behind', async () => {
    const { dir, journal: j } = journal();
    await j.write('7', { jobId: 7, attempt: 1 });
    // A crash between writing the temporary file and renaming it: half a new version.
    writeFileSync(join(dir, 'journal', '7.json.4242.tmp'), '{"jobId": 7, "att');
    expect(await j.readAll()).toEqual([{ jobId: 7, attempt: 1 }]);
    expect(readdirSync(join(dir, 'journal'))).toEqual(['7.json']);
  });

  it('refuses a key that could leave its directory', () => {
    expect(() => journal().journal.write('../x', { jobId: 1, attempt: 1 })).toThrow(RangeError);
  });

  it('reads an empty journal before the first write', async () => {
    expect(await journal().journal.readAll()).toEqual([]);
  });

  it('removes a key from a journal that was never written to (no directory yet) without failing', async () => {
    const { journal: empty } = journal();
    await expect(empty.remove('1-1')).resolves.toBeUndefined();
    expect(await empty.readAll()).toEqual([]);
  });
});
