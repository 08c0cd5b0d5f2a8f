/** GET /v1/jobs/history.csv: sacct's columns as RFC 4180 CSV, streamed page by page, with no formula let through. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvCell } from '../api/jobs/history-csv.js';
import { HISTORY_PAGE_SIZE } from '../api/routes/v1/jobs/history.js';
import { insertPendingJobs } from './fixtures/job-rows.js';
import { moveJob } from './helpers/job-states.js';
import { createTestApp, validJob, type TestApp } from './helpers/test-app.js';
import { backends } from './helpers/test-databases.js';

const NOW = new Date('2026-11-30T12:00:00.000Z');
const HEADER =
  'JobID,JobName,User,Account,Partition,State,Submit,Start,End,Elapsed,Wait,ExitCode,NCPUS,ReqMem,NodeList\r\n';

/** RFC 4180 read back: rows of cells (a small reader, so that the test does not trust the writer's own rules). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted && char === '"' && text[i + 1] === '"') {
      cell += '"';
      i++;
    } else if (quoted) {
      if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"') {
      quoted = true;
    } else if (char === ',') {
      row.push(cell);
      cell = '';
    } else if (char === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else {
      cell += char;
    }
  }
  expect(cell).toBe('');
  return rows;
}

describe('a CSV cell', () => {
  it.each([
    ['=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
    ['+1+2', "'+1+2"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tcmd', "'\tcmd"],
    ['\rcmd', `"'\rcmd"`],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['plain', 'plain'],
    ['a=b', 'a=b'],
  ])('%j is written %j', (value, written) => {
    expect(csvCell(value)).toBe(written);
  });
});

for (const backend of await backends()) {
  describe.skipIf(backend.skip)(`GET /v1/jobs/history.csv on ${backend.name}`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(backend, { now: () => NOW });
    });
    afterAll(() => t?.close());

    const exported = async (query = '', token?: string) => {
      const response = await t.call('GET', `/v1/jobs/history.csv${query}`, token ? { token } : {});
      expect(response.status).toBe(200);
      return response;
    };

    it("writes sacct's columns, as a download, with every user-chosen formula defused", async () => {
      const done = await t.submit(validJob({ name: 'sum, "quoted"', account: 'csv1' }));
      await moveJob(t.database.db, done, 'FAILED', {
        submitTime: new Date('2026-11-28T10:00:00Z'),
        startTime: new Date('2026-11-28T10:00:05.700Z'),
        endTime: new Date('2026-11-29T11:02:03.900Z'),
        exitStatus: 3,
        exitSignal: 0,
        nodeName: 'n01',
        user: 'alice',
      });
      const running = await t.submit(validJob({ name: '=cmd|"/c calc"!A1', account: 'csv1' }));
      await moveJob(t.database.db, running, 'RUNNING', {
        submitTime: new Date('2026-11-30T11:00:00Z'),
        startTime: new Date('2026-11-30T11:30:00Z'),
        nodeName: 'n02',
      });
      const pending = await t.submit(validJob({ name: '@import', account: 'csv1' }));
      const plus = await t.submit(validJob({ name: '+cmd', account: 'csv1' }));
      const minus = await t.submit(validJob({ name: '-cmd', account: 'csv1' }));
      const response = await exported('?account=csv1');
      expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
      expect(response.headers.get('content-disposition')).toBe('attachment; filename="jobs-history.csv"');
      const text = await response.text();
      expect(text.startsWith(HEADER)).toBe(true);
      const [header, ...rows] = parseCsv(text);
      expect(header).toHaveLength(15);
      const byId = new Map(rows.map((row) => [row[0], row]));
      expect(rows.map((row) => row[0])).toEqual([minus, plus, pending, running, done]);
      expect(byId.get(done)).toEqual([
        done,
        'sum, "quoted"',
        'alice',
        'csv1',
        'batch',
        'FAILED',
        '2026-11-28T10:00:00Z',
        '2026-11-28T10:00:05Z',
        '2026-11-29T11:02:03Z',
        '1-01:01:58',
        '00:00:05',
        '3:0',
        '4',
        '16G',
        'n01',
      ]);
      expect(byId.get(running)!.slice(1, 12)).toEqual([
        `'=cmd|"/c calc"!A1`,
        '',
        'csv1',
        'batch',
        'RUNNING',
        '2026-11-30T11:00:00Z',
        '2026-11-30T11:30:00Z',
        '',
        '00:30:00',
        '00:30:00',
        '0:0',
      ]);
      expect(byId.get(pending)!.slice(1)).toEqual([
        "'@import",
        '',
        'csv1',
        'batch',
        'PENDING',
        expect.stringMatching(/Z$/),
        '',
        '',
        '00:00:00',
        '',
        '0:0',
        '4',
        '16G',
        'None assigned',
      ]);
      expect(byId.get(plus)![1]).toBe("'+cmd");
      expect(byId.get(minus)![1]).toBe("'-cmd");
    });

    it('takes the listing filters: finished in a date range', async () => {
      const rows = parseCsv(
        await (
          await exported('?account=csv1&ended_after=2026-11-29T00:00:00Z&ended_before=2026-11-30T00:00:00Z')
        ).text(),
      );
      expect(rows.slice(1).map((row) => row[5])).toEqual(['FAILED']);
      const bad = await t.call('GET', '/v1/jobs/history.csv?ended_after=yesterday');
      expect(bad.status).toBe(422);
      expect((await bad.json()).errors.map((e: { field: string }) => e.field)).toEqual(['ended_after']);
    });

    it("exports a user token's own account only", async () => {
      const theirs = await t.submit(validJob({ account: 'csv2' }));
      const token = await t.token('user', 'csv2');
      const rows = parseCsv(await (await exported('', token)).text());
      expect(rows.slice(1).map((row) => row[0])).toEqual([theirs]);
      expect(parseCsv(await (await exported('?account=csv1', token)).text())).toEqual([HEADER.trim().split(',')]);
    });

    it('streams an export of several internal pages, every job once, newest first', async () => {
      const count = HISTORY_PAGE_SIZE * 2 + 7;
      const ids = await insertPendingJobs(t.database.db, { count, account: 'csv3' });
      const response = await exported('?account=csv3');
      const rows = parseCsv(await response.text()).slice(1);
      expect(rows.map((row) => Number(row[0]))).toEqual(ids.reverse());
    });
  });
}
