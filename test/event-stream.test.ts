/**
 * The event stream (issue 21, item 1; api/events/, GET /v1/events): every event once, in commit order, across dropped
 * connections and concurrent writers that commit out of their id order; account isolation; filters; retention.
 * On PGlite and on the Postgres server (concurrent writers need the server: PGlite has one connection).
 */
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_KINDS } from '../api/events/event-filter.js';
import { formatPosition, parsePosition } from '../api/events/event-position.js';
import { pruneEvents } from '../api/events/event-retention.js';
import { currentPosition, readEvents } from '../api/events/read-events.js';
import type { Database } from '../shared/db/database.js';
import { queryRows } from '../shared/db/query-rows.js';
import { moveJob } from './helpers/job-states.js';
import { beat } from './helpers/pending-cluster.js';
import { SseReader } from './helpers/sse-reader.js';
import { waitFor } from './helpers/wait-for.js';
import { createTestApp, validJob, type TestApp } from './helpers/test-app.js';
import { backends } from './helpers/test-databases.js';

const ALL = { kinds: EVENT_KINDS };

/** `n` update events of job `jobId`, numbered from `from` in their `changes` (one statement, one transaction). */
async function writeEvents(db: Database, jobId: string, from: number, n: number): Promise<void> {
  await db.execute(
    sql`INSERT INTO job_events (job_id, attempt, from_state, to_state, actor, kind, changes)
        SELECT ${Number(jobId)}::bigint, 0, 'PENDING', 'PENDING', 'test', 'update', jsonb_build_object('n', jsonb_build_object('from', g, 'to', g))
        FROM generate_series(${from}::int, ${from + n - 1}::int) g`,
  );
}

/**
 * A position after every event committed so far: the horizon is the server's, so an event just committed may sit
 * above it while other databases' transactions run; wait until none does.
 */
async function positionAfterAll(db: Database): Promise<string> {
  const read = await waitFor('every committed event below the horizon', async () => {
    const result = await readEvents(db, { tx: 0n, id: 0n }, ALL, 1_000_000);
    return result.pending ? undefined : result;
  });
  return formatPosition(read.through);
}

const numberOf = (data: string) => (JSON.parse(data) as { changes: { n: { to: number } } }).changes.n.to;

for (const backend of await backends()) {
  describe.skipIf(backend.skip)(`the event stream on ${backend.name}`, () => {
    let t: TestApp;
    let job: string;
    beforeAll(async () => {
      t = await createTestApp(backend, { eventPollMs: 50 });
      job = await t.submit();
    });
    afterAll(() => t?.close());

    const open = (query = '', lastEventId?: string, token?: string) =>
      t.app.request(`/v1/events${query}`, {
        headers: {
          Authorization: `Bearer ${token ?? 'test-admin-token-0123456789abcdef0123456789'}`,
          ...(lastEventId ? { 'Last-Event-ID': lastEventId } : {}),
        },
      });

    it('resumes after a dropped connection with 1,000 events: none lost, none twice, in order', async () => {
      const start = await positionAfterAll(t.database.db);
      for (let n = 0; n < 500; n += 100) await writeEvents(t.database.db, job, n, 100);
      const first = await open(`?job_id=${job}&state=PENDING`, start);
      expect(first.status).toBe(200);
      expect(first.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const reader = new SseReader(first.body!);
      const before = await reader.take(300);
      await reader.drop();
      // More commit while the client is away.
      for (let n = 500; n < 1000; n += 100) await writeEvents(t.database.db, job, n, 100);
      expect(reader.lastEventId).toBe(before.at(-1)!.id);
      const again = new SseReader((await open(`?job_id=${job}&state=PENDING`, reader.lastEventId)).body!);
      const after = await again.take(700);
      await again.drop();
      const numbers = [...before, ...after].map((message) => numberOf(message.data));
      expect(numbers).toEqual(Array.from({ length: 1000 }, (_, n) => n));
      const ids = [...before, ...after].map((message) => message.id);
      expect(new Set(ids).size).toBe(1000);
      expect(reader.retryMs).toBeGreaterThan(0);
    });

    it('follows new events live, each with its job and states', async () => {
      // From now: it may begin with events that committed just before (their transaction above the horizon).
      const reader = new SseReader((await open(`?job_id=${job}&state=RUNNING`)).body!);
      await moveJob(t.database.db, job, 'RUNNING');
      const [running] = await reader.take(1);
      await reader.drop();
      expect(running!.event).toBe('job');
      expect(JSON.parse(running!.data)).toMatchObject({
        kind: 'job',
        job_id: job,
        from_state: 'PENDING',
        to_state: 'RUNNING',
        account: 'physics',
        partition: 'batch',
        change: 'transition',
      });
    });

    it("shows a user token only its account's job events, and never node events", async () => {
      const physics = await t.token('user', 'physics');
      const other = await t.submit(validJob({ account: 'chemistry' }));
      const mine = await t.submit();
      const start = await positionAfterAll(t.database.db);
      await moveJob(t.database.db, other, 'CANCELLED');
      await moveJob(t.database.db, mine, 'CANCELLED');
      const reader = new SseReader((await open('', start, physics)).body!);
      const [seen] = await reader.take(1);
      await reader.drop();
      expect(JSON.parse(seen!.data)).toMatchObject({ job_id: mine, account: 'physics', to_state: 'CANCELLED' });
      expect((await open('?kinds=job,node', undefined, physics)).status).toBe(403);
      expect((await open('?account=chemistry', undefined, physics)).status).toBe(403);
    });

    it('filters by job ids, state and partition, and shows nodes to admins', async () => {
      const start = await positionAfterAll(t.database.db);
      const a = await t.submit();
      const b = await t.submit();
      const c = await t.submit(validJob({ partition: 'gpu' }));
      await moveJob(t.database.db, a, 'CANCELLED');
      await moveJob(t.database.db, b, 'CANCELLED');
      await moveJob(t.database.db, c, 'CANCELLED');
      await beat(t, 'n-events', ['gpu']);
      const take = async (query: string, count: number) => {
        const reader = new SseReader((await open(query, start)).body!);
        const messages = await reader.take(count);
        await reader.drop();
        return messages.map((message) => JSON.parse(message.data) as Record<string, unknown>);
      };
      const byIds = await take(`?job_id=${a}&job_id=${c}&state=CANCELLED`, 2);
      expect(byIds.map((event) => event.job_id)).toEqual([a, c]);
      const byList = await take(`?job_id=${b},${c}&state=PENDING`, 2);
      expect(byList.map((event) => [event.job_id, event.to_state])).toEqual([
        [b, 'PENDING'],
        [c, 'PENDING'],
      ]);
      const gpu = await take('?kinds=job,node&partition=gpu', 3);
      expect(gpu.map((event) => [event.kind, event.to_state])).toEqual([
        ['job', 'PENDING'],
        ['job', 'CANCELLED'],
        ['node', 'UP'],
      ]);
      expect(gpu[2]).toMatchObject({ node: 'n-events', from_state: null, partitions: ['gpu'] });
      const bad = await open('?state=SLEEPING');
      expect(bad.status).toBe(422);
      expect(JSON.stringify(await bad.json())).toContain('state');
      const badId = await open('', 'not-an-id');
      expect(badId.status).toBe(422);
      expect(JSON.stringify(await badId.json())).toContain('Last-Event-ID');
    });

    it('refuses a cursor out of range or ahead of the stream (422 naming where it came from), and says which states are known', async () => {
      const problem = async (response: Response) => {
        expect(response.status).toBe(422);
        return (await response.json()) as { errors: { field: string; message: string }[] };
      };
      // Past xid8's and bigint's ranges: no position, never a query Postgres refuses.
      for (const cursor of ['99999999999999999999-0', '1-99999999999999999999']) {
        expect((await problem(await open('', cursor))).errors[0]!.field).toBe('Last-Event-ID');
        expect((await problem(await open(`?after=${cursor}`))).errors[0]!.field).toBe('after');
      }
      // Well formed but ahead of this stream (another database's id): refused, not followed silently past every event.
      const now = parsePosition(await positionAfterAll(t.database.db))!;
      const ahead = formatPosition({ tx: now.tx + 1_000_000n, id: 1n });
      const fromHeader = await problem(await open('', ahead));
      expect(fromHeader.errors[0]).toMatchObject({ field: 'Last-Event-ID', message: expect.stringMatching(/ahead/) });
      expect((await problem(await open(`?after=${ahead}`))).errors[0]).toMatchObject({ field: 'after' });
      // The position the stream is at stays valid.
      const at = await open('', formatPosition(now));
      expect(at.status).toBe(200);
      await at.body!.cancel();
      const unknown = await problem(await open('?state=SLEEPING'));
      expect(unknown.errors[0]!.message).toMatch(/COMPLETED/);
    });

    it('ends an open stream once its token is revoked', async () => {
      const quick = await createTestApp(backend, { eventPollMs: 50, eventHeartbeatMs: 100 });
      try {
        const made = await quick.call('POST', '/v1/tokens', {
          body: { name: 'revoked-while-streaming', kind: 'user', account: 'physics', user: 'tester' },
        });
        const { id, token } = (await made.json()) as { id: string; token: string };
        const response = await quick.app.request('/v1/events', { headers: { Authorization: `Bearer ${token}` } });
        const reader = new SseReader(response.body!);
        const job = await quick.submit(validJob(), undefined, token);
        expect(JSON.parse((await reader.next())!.data)).toMatchObject({ job_id: job, to_state: 'PENDING' });
        expect((await quick.call('DELETE', `/v1/tokens/${id}`)).status).toBe(200);
        // The stream ends at its next heartbeat (it would otherwise go on sending the account's events for ever).
        while ((await reader.next()) !== undefined);
        expect(reader.ended).toBe(true);
        expect((await quick.app.request('/v1/events', { headers: { Authorization: `Bearer ${token}` } })).status).toBe(
          401,
        );
      } finally {
        await quick.close();
      }
    });

    it.skipIf(backend.name !== 'postgres')(
      'never delivers past an open writer: events that commit out of id order come once each, in commit order',
      async () => {
        const { db } = t.database;
        const start = await positionAfterAll(db);
        const first = new pg.Client({ connectionString: t.database.url });
        const second = new pg.Client({ connectionString: t.database.url });
        await Promise.all([first.connect(), second.connect()]);
        const insert = (client: pg.Client, n: number) =>
          client.query(
            `INSERT INTO job_events (job_id, attempt, from_state, to_state, actor, kind, changes)
             VALUES ($1, 0, 'PENDING', 'PENDING', 'test', 'update', jsonb_build_object('n', jsonb_build_object('from', $2::int, 'to', $2::int)))`,
            [Number(job), n],
          );
        try {
          // The case an identity alone gets wrong: `first` takes the lower event id and commits after `second`.
          await first.query('BEGIN');
          await insert(first, 1);
          await second.query('BEGIN');
          await insert(second, 2);
          await second.query('COMMIT');
          const reader = new SseReader((await open(`?job_id=${job}&state=PENDING`, start)).body!);
          // Nothing at or past the open writer's transaction is delivered while it may still commit.
          const held = await readEvents(db, parsePosition(start)!, { kinds: ['job'], jobIds: [Number(job)] }, 100);
          expect(held.events).toEqual([]);
          expect(held.pending).toBe(true);
          await first.query('COMMIT');
          // And the other way round: `second` holds the older transaction id, and the higher event id.
          await second.query('BEGIN');
          await second.query('SELECT pg_current_xact_id()');
          await first.query('BEGIN');
          await insert(first, 3);
          await insert(second, 4);
          await second.query('COMMIT');
          await first.query('COMMIT');
          const before = await reader.take(2);
          await reader.drop();
          const again = new SseReader((await open(`?job_id=${job}&state=PENDING`, reader.lastEventId)).body!);
          const rest = await again.take(2);
          await again.drop();
          // In transaction order, each once, across the reconnect.
          expect([...before, ...rest].map((message) => numberOf(message.data))).toEqual([1, 2, 4, 3]);
        } finally {
          await Promise.all([first.end(), second.end()]);
        }
      },
    );

    it('long-polls a job for a state, answers it as it is at the timeout, and refuses unknown states', async () => {
      const id = await t.submit();
      let answered = false;
      const waiting = t.call('GET', `/v1/jobs/${id}?wait=COMPLETED,FAILED&timeout=60`).then((response) => {
        answered = true;
        return response;
      });
      await moveJob(t.database.db, id, 'RUNNING');
      expect(answered).toBe(false);
      await moveJob(t.database.db, id, 'COMPLETED');
      const done = await waiting;
      expect(done.status).toBe(200);
      expect(await done.json()).toMatchObject({ id, state: 'COMPLETED' });
      const pending = await t.submit();
      const timedOut = await t.call('GET', `/v1/jobs/${pending}?wait=COMPLETED&timeout=1`);
      expect(await timedOut.json()).toMatchObject({ id: pending, state: 'PENDING' });
      for (const query of ['wait=DONE', 'wait=COMPLETED&timeout=61']) {
        const bad = await t.call('GET', `/v1/jobs/${pending}?${query}`);
        expect(bad.status).toBe(422);
        expect(JSON.stringify(await bad.json())).toMatch(query.includes('timeout') ? /timeout/ : /wait/);
      }
    });

    it('deletes events past their age and past the row bound, and answers 410 to a cursor before them', async () => {
      const { db } = t.database;
      const before = await positionAfterAll(db);
      await writeEvents(db, job, 0, 50);
      const now = new Date();
      // A week and a day old: past the default 7 days.
      await db.execute(
        sql`UPDATE stream_events SET at = now() - interval '8 days' WHERE kind = 'job' AND change = 'update'`,
      );
      const kept = await readEvents(db, await currentPosition(db), ALL, 10);
      const byAge = await pruneEvents(db, { eventMs: 7 * 86_400_000, eventMaxRows: 1_000_000 }, now, 100_000);
      expect(byAge).toBeGreaterThanOrEqual(1050);
      const expired = await open('', before);
      expect(expired.status).toBe(410);
      expect(await expired.json()).toMatchObject({ code: 'cursor_expired' });
      // A cursor past what was deleted resumes.
      expect((await readEvents(db, kept.through, ALL, 10)).events).toEqual([]);
      await writeEvents(db, job, 0, 30);
      const byRows = await pruneEvents(db, { eventMs: 7 * 86_400_000, eventMaxRows: 10 }, now, 100_000);
      expect(byRows).toBeGreaterThanOrEqual(20);
      const [left] = await queryRows(db, sql`SELECT count(*)::int AS n FROM stream_events`);
      expect(Number(left!.n)).toBeLessThanOrEqual(10);
      const behind = await readEvents(db, kept.through, ALL, 1000).catch((error: Error) => error);
      expect(behind).toMatchObject({ code: 'cursor_expired' });
    });
  });
}
