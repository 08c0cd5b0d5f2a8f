import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal, type JournalEntry } from '../worker-node/journal.js';

const entry = (jobId: number, extra: Partial<JournalEntry> = {}): JournalEntry => ({
  jobId,
  attempt: 1,
  pid: 1000 + jobId,
  pgid: 1000 + jobId,
  startTime: 5000 + jobId,
  cpuIds: [0],
  dir: `/jobs/${jobId}`,
  ...extra,
});

describe("the daemon's journal", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const journal = () => {
    const dir = mkdtempSync(join(tmpdir(), 'conductor-journal-'));
    dirs.push(dir);
    return { dir, journal: new Journal(join(dir, 'journal')) };
  };

  it('keeps one entry per job, the last written, across instances (a restart)', async () => {
    const { dir, journal: first } = journal();
    await first.write(entry(2));
    await first.write(entry(1));
    await first.write(entry(2, { attempt: 2, unsentEvents: [{ kind: 'finished' }] }));
    const again = new Journal(join(dir, 'journal'));
    expect(await again.readAll()).toEqual([entry(1), entry(2, { attempt: 2, unsentEvents: [{ kind: 'finished' }] })]);
    await again.remove(1);
    await again.remove(1);
    expect((await again.readAll()).map((e) => e.jobId)).toEqual([2]);
  });

  it('ignores and clears what a crash in the middle of a write left behind', async () => {
    const { dir, journal: j } = journal();
    await j.write(entry(7));
    // A crash between writing the temporary file and renaming it: half a new version.
    writeFileSync(join(dir, 'journal', '7.json.4242.tmp'), '{"jobId": 7, "att');
    expect(await j.readAll()).toEqual([entry(7)]);
    expect(readdirSync(join(dir, 'journal'))).toEqual(['7.json']);
  });

  it('reads an empty journal before the first write', async () => {
    expect(await journal().journal.readAll()).toEqual([]);
  });
});
