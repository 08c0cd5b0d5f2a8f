import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { jobs } from '../shared/db/schema.js';
import { MAX_ENVIRONMENT_BYTES, MAX_SCRIPT_BYTES } from '../shared/job/submit-request.js';
import { ADMIN_TOKEN, createTestApp, validJob, type TestApp } from './helpers/test-app.js';
import { backends } from './helpers/test-databases.js';

const script = '#!/bin/bash\ntrue';

/** [what is wrong, the body, the field the problem must name]: refused on both submit paths. */
const badBodies: [string, unknown, string][] = [
  ['no job', { script }, 'job'],
  ['no script', { job: validJob() }, 'script'],
  ['job not an object', { job: 'x', script }, 'job'],
  ['empty script', { job: validJob(), script: '' }, 'script'],
  ['whitespace script', { job: validJob(), script: ' \n\t ' }, 'script'],
  ['script not a string', { job: validJob(), script: 42 }, 'script'],
  ['oversized script', { job: validJob(), script: 'x'.repeat(MAX_SCRIPT_BYTES + 1) }, 'script'],
  ['NUL in script', { job: validJob(), script: 'echo \u0000' }, 'script'],
  ['DOS line breaks in script', { job: validJob(), script: '#!/bin/bash\r\ncd /data/run\r\n' }, 'script'],
  ['one DOS line break in script', { job: validJob(), script: '#!/bin/bash\necho a\r\necho b\n' }, 'script'],
  ['old Mac line breaks in script', { job: validJob(), script: '#!/bin/bash\recho hi\r' }, 'script'],
  ['account not a string', { job: validJob({ account: 7 }), script }, 'job.account'],
  ['account with a space', { job: validJob({ account: 'a b' }), script }, 'job.account'],
  ['account too long', { job: validJob({ account: 'a'.repeat(65) }), script }, 'job.account'],
  ['empty name', { job: validJob({ name: '' }), script }, 'job.name'],
  ['name not a string', { job: validJob({ name: 12 }), script }, 'job.name'],
  ['standard_output not a string', { job: validJob({ standard_output: ['a'] }), script }, 'job.standard_output'],
  ['environment list entry not a string', { job: validJob({ environment: ['A=1', 2] }), script }, 'job.environment'],
  [
    'environment named __proto__',
    { job: JSON.parse('{"environment": {"__proto__": "x", "A": "1"}}'), script },
    'job.environment',
  ],
  ['environment entry __proto__=', { job: validJob({ environment: ['__proto__=x'] }), script }, 'job.environment'],
  ['name too long', { job: validJob({ name: 'n'.repeat(257) }), script }, 'job.name'],
  ['name with a newline', { job: validJob({ name: 'a\nb' }), script }, 'job.name'],
  ['partition not a string', { job: validJob({ partition: ['a'] }), script }, 'job.partition'],
  ['partition with a slash', { job: validJob({ partition: 'a/b' }), script }, 'job.partition'],
  [
    'relative working directory',
    { job: validJob({ current_working_directory: 'tmp' }), script },
    'job.current_working_directory',
  ],
  [
    'working directory not a string',
    { job: validJob({ current_working_directory: 1 }), script },
    'job.current_working_directory',
  ],
  ['empty standard_output', { job: validJob({ standard_output: '' }), script }, 'job.standard_output'],
  [
    'standard_error with a control character',
    { job: validJob({ standard_error: 'a\u0007' }), script },
    'job.standard_error',
  ],
  ['environment not an object', { job: validJob({ environment: 'A=1' }), script }, 'job.environment'],
  ['environment value not a string', { job: validJob({ environment: { A: 1 } }), script }, 'job.environment'],
  ['environment name invalid', { job: validJob({ environment: { '1A': 'x' } }), script }, 'job.environment'],
  ['environment entry without =', { job: validJob({ environment: ['A'] }), script }, 'job.environment'],
  [
    'oversized environment',
    { job: validJob({ environment: { BIG: 'x'.repeat(MAX_ENVIRONMENT_BYTES) } }), script },
    'job.environment',
  ],
  [
    'too many environment variables',
    {
      job: validJob({ environment: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`V${i}`, ''])) }),
      script,
    },
    'job.environment',
  ],
  ['ntasks_per_node zero', { job: validJob({ ntasks_per_node: 0 }), script }, 'job.ntasks_per_node'],
  ['ntasks_per_node negative', { job: validJob({ ntasks_per_node: -1 }), script }, 'job.ntasks_per_node'],
  ['ntasks_per_node fractional', { job: validJob({ ntasks_per_node: 1.5 }), script }, 'job.ntasks_per_node'],
  ['cpus_per_task zero', { job: validJob({ cpus_per_task: 0 }), script }, 'job.cpus_per_task'],
  ['cpus_per_task huge', { job: validJob({ cpus_per_task: 1e9 }), script }, 'job.cpus_per_task'],
  [
    'too many cpus in all',
    { job: validJob({ ntasks_per_node: 100, cpus_per_task: 100 }), script },
    'job.cpus_per_task',
  ],
  ['memory malformed', { job: validJob({ memory_per_node: '16Q' }), script }, 'job.memory_per_node'],
  ['memory zero', { job: validJob({ memory_per_node: '0' }), script }, 'job.memory_per_node'],
  ['memory negative', { job: validJob({ memory_per_node: -5 }), script }, 'job.memory_per_node'],
  ['memory a boolean', { job: validJob({ memory_per_node: true }), script }, 'job.memory_per_node'],
  ['memory too large', { job: validJob({ memory_per_node: '9999T' }), script }, 'job.memory_per_node'],
  ['time limit malformed', { job: validJob({ time_limit: '1:2:3:4' }), script }, 'job.time_limit'],
  ['time limit a float', { job: validJob({ time_limit: 1.5 }), script }, 'job.time_limit'],
];

/**
 * Refused by /v1 only: the original path ignores unknown fields (and added ones that are not valid), reads its own
 * time limits, and takes numbers and booleans as pydantic's lax mode did.
 */
const badV1Bodies: [string, unknown, string][] = [
  ['priority a string', { job: validJob({ priority: '5' }), script }, 'job.priority'],
  ['ntasks_per_node a string', { job: validJob({ ntasks_per_node: '2' }), script }, 'job.ntasks_per_node'],
  ['exclusive a string', { job: validJob({ exclusive: 'yes' }), script }, 'job.exclusive'],
  ['priority negative', { job: validJob({ priority: -1 }), script }, 'job.priority'],
  ['priority too high', { job: validJob({ priority: 1_000_001 }), script }, 'job.priority'],
  ['requeue a number', { job: validJob({ requeue: 1 }), script }, 'job.requeue'],
  ['time limit over a year', { job: validJob({ time_limit: '400-0' }), script }, 'job.time_limit'],
  ['unknown top-level field', { job: validJob(), script, extra: 1 }, 'extra'],
  ['unknown job field', { job: validJob({ time_limt: '10' }), script }, 'job.time_limt'],
  ['time limit zero', { job: validJob({ time_limit: 0 }), script }, 'job.time_limit'],
  ['time limit "0"', { job: validJob({ time_limit: '0' }), script }, 'job.time_limit'],
  ['time limit out of range minutes', { job: validJob({ time_limit: '1:75:00' }), script }, 'job.time_limit'],
];

/** Refused by the original path only: what the original refused, and the negative parts it let slip. */
const badOriginalBodies: [string, unknown, string][] = [
  ['time limit a JSON number', { job: validJob({ time_limit: 30 }), script }, 'job.time_limit'],
  ['time limit "1:-5"', { job: validJob({ time_limit: '1:-5' }), script }, 'job.time_limit'],
  [
    'time limit with negative minutes after days',
    { job: validJob({ time_limit: '1-2:-5' }), script },
    'job.time_limit',
  ],
  ['time limit with negative hours after days', { job: validJob({ time_limit: '1--5' }), script }, 'job.time_limit'],
  ['time limit "UNLIMITED"', { job: validJob({ time_limit: 'UNLIMITED' }), script }, 'job.time_limit'],
  ['time limit empty', { job: validJob({ time_limit: '' }), script }, 'job.time_limit'],
  ['time limit of words', { job: validJob({ time_limit: 'an hour' }), script }, 'job.time_limit'],
  ['time limit with no days', { job: validJob({ time_limit: '-5' }), script }, 'job.time_limit'],
  ['time limit with a fraction', { job: validJob({ time_limit: '1.5' }), script }, 'job.time_limit'],
  ['time limit past what a job row holds', { job: validJob({ time_limit: '30000-0' }), script }, 'job.time_limit'],
  ['ntasks_per_node text of a fraction', { job: validJob({ ntasks_per_node: '1.5' }), script }, 'job.ntasks_per_node'],
  ['exclusive a word pydantic did not take', { job: validJob({ exclusive: 'maybe' }), script }, 'job.exclusive'],
];

for (const backend of await backends()) {
  describe.skipIf(backend.skip)(`bad input on ${backend.name}`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(backend);
    });
    afterAll(() => t?.close());

    const jobCount = () => t.database.db.$count(jobs);

    /** Posts a bad body: it must be a 422 problem naming the field, and store nothing. */
    const refused = async (path: string, body: unknown, field: string) => {
      const before = await jobCount();
      const response = await t.call('POST', path, { body });
      expect(response.status).toBe(422);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      const problem = await response.json();
      expect(problem).toMatchObject({
        status: 422,
        code: 'validation_failed',
        type: 'urn:conductor:problem:validation_failed',
      });
      expect(problem.request_id).toBe(response.headers.get('x-request-id'));
      expect(problem.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect(await jobCount()).toBe(before);
      return problem;
    };

    it.each([...badBodies, ...badV1Bodies])(
      '/v1/jobs: %s → 422 naming the field, nothing stored',
      async (_, body, field) => {
        const problem = await refused('/v1/jobs', body, field);
        expect(problem.detail).toContain(field);
      },
    );

    it.each([...badBodies, ...badOriginalBodies])(
      '/jobs/submit: %s → 422 naming the field as FastAPI did, nothing stored',
      async (_, body, field) => {
        const problem = await refused('/jobs/submit', body, field);
        // The original's clients read detail as FastAPI's list: [{type, loc, msg, input}].
        const locs = problem.detail.map((item: { loc: unknown[] }) => item.loc.join('.'));
        expect(locs).toContain(`body.${field}`);
        for (const item of problem.detail) {
          expect(item.msg).toMatch(/^(Field required|Input should be a valid \w+|Value error, .+)$/);
          expect(item.url).toBe(`https://errors.pydantic.dev/2.5/v/${item.type}`);
        }
      },
    );

    it('names a missing field as FastAPI did, and echoes a bad value', async () => {
      const missing = await refused('/jobs/submit', { job: validJob() }, 'script');
      // As pydantic: a missing field's input is the object it is missing from.
      expect(missing.detail).toEqual([
        {
          type: 'missing',
          loc: ['body', 'script'],
          msg: 'Field required',
          input: { job: validJob() },
          url: 'https://errors.pydantic.dev/2.5/v/missing',
        },
      ]);
      const wrongType = await refused('/jobs/submit', { job: validJob({ name: 12 }), script }, 'job.name');
      expect(wrongType.detail).toMatchObject([
        { type: 'string_type', loc: ['body', 'job', 'name'], msg: 'Input should be a valid string', input: 12 },
      ]);
      const negative = await refused(
        '/jobs/submit',
        { job: validJob({ time_limit: '1-2:-5' }), script },
        'job.time_limit',
      );
      expect(negative.detail).toEqual([
        {
          type: 'value_error',
          loc: ['body', 'job', 'time_limit'],
          msg: 'Value error, "1-2:-5" has a negative part',
          input: '1-2:-5',
          url: 'https://errors.pydantic.dev/2.5/v/value_error',
        },
      ]);
      const listEntry = await refused(
        '/jobs/submit',
        { job: validJob({ environment: ['A=1', 2] }), script },
        'job.environment',
      );
      expect(listEntry.detail[0].loc.slice(0, 3)).toEqual(['body', 'job', 'environment']);
    });

    it.each([
      ['GET', '/v1/jobs?name=a%00b', 'name'],
      ['GET', '/v1/jobs?account=a%00', 'account'],
      ['GET', '/v1/jobs?partition=%0A', 'partition'],
      ['GET', '/v1/jobs/1234567890123456', 'id'],
      ['GET', '/v1/jobs?cursor=9999999999999999', 'cursor'],
    ])('%s %s → 422 naming %s', async (method, path, field) => {
      const response = await t.call(method, path);
      expect(response.status).toBe(422);
      expect((await response.json()).errors.map((e: { field: string }) => e.field)).toEqual([field]);
    });

    it.each([
      ['GET', '/jobs/query/abc'],
      ['POST', '/jobs/cancel/1.5'],
    ])('%s %s → 422 naming the path parameter as FastAPI did', async (method, path) => {
      const response = await t.call(method, path);
      expect(response.status).toBe(422);
      const problem = await response.json();
      expect(problem.errors.map((e: { field: string }) => e.field)).toEqual(['job_id']);
      expect(problem.detail).toMatchObject([{ type: 'value_error', loc: ['path', 'job_id'] }]);
    });

    it.each([
      ['GET', '/jobs/query/1234567890123456789'],
      ['GET', '/jobs/query/0'],
      ['GET', '/jobs/query/-3'],
      ['POST', '/jobs/cancel/99999999999999999999999'],
    ])('%s %s → 404: an integer the original took, that no job has', async (method, path) => {
      const response = await t.call(method, path);
      expect(response.status).toBe(404);
      expect((await response.json()).code).toBe('job_not_found');
    });

    it('refuses a token name with a NUL, naming the field', async () => {
      const response = await t.call('POST', '/v1/tokens', { body: { name: 'a\u0000', kind: 'admin' } });
      expect(response.status).toBe(422);
      expect((await response.json()).errors.map((e: { field: string }) => e.field)).toEqual(['name']);
    });

    it('answers malformed JSON with 400', async () => {
      const response = await t.call('POST', '/v1/jobs', { rawBody: '{"job": {' });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ code: 'malformed_body' });
    });

    it('reads an optional body sent empty with a JSON type as none (hold, drain); malformed is still a 400', async () => {
      const submitted = await t.call('POST', '/v1/jobs', { body: { job: validJob(), script } });
      const { id } = await submitted.json();
      const held = await t.call('POST', `/v1/jobs/${id}/hold`, { rawBody: '' });
      expect(held.status).toBe(200);
      expect((await held.json()).job.reason).toBe('JobHeldAdmin');
      expect((await t.call('POST', `/v1/jobs/${id}/hold`, { rawBody: '{' })).status).toBe(400);
      const beat = await t.call('POST', '/v1/nodes/n-empty/heartbeat', {
        body: { cpus: 1, memory_mb: 1024, partitions: ['default'] },
      });
      expect(beat.status).toBeLessThan(300);
      expect((await t.call('POST', '/v1/nodes/n-empty/drain', { rawBody: ' ' })).status).toBe(200);
    });

    it('answers a body over the size limit with 413', async () => {
      const before = await jobCount();
      const response = await t.call('POST', '/v1/jobs', {
        body: { job: validJob(), script: 'x'.repeat(5 * 1024 * 1024) },
      });
      expect(response.status).toBe(413);
      expect(await response.json()).toMatchObject({ code: 'payload_too_large' });
      expect(await jobCount()).toBe(before);
    });

    // issue 12, item 8: a lone UTF-16 surrogate is not text (Postgres refuses it): 422 naming the field, not 500.
    it.each([
      ['/v1/jobs', { job: validJob(), script: 'echo \ud800' }, 'script'],
      ['/v1/jobs', { job: validJob({ name: 'a\udc00b' }), script }, 'job.name'],
      ['/v1/jobs', { job: validJob({ environment: { A: 'x\ud83d' } }), script }, 'job.environment.A'],
      ['/v1/jobs', { job: validJob({ environment: ['A=\ud800'] }), script }, 'job.environment.0'],
      ['/jobs/submit', { job: validJob({ environment: { A: '\ud800' } }), script }, 'job.environment.A'],
      ['/jobs/submit', { job: validJob({ environment: { ['B\ud800']: 'x' } }), script }, 'job.environment.B\ud800'],
      ['/jobs/submit', { job: validJob({ comment: '\udfff' }), script }, 'job.comment'],
      ['/v1/tokens', { name: 'a\ud800', kind: 'admin' }, 'name'],
      [
        '/v1/nodes/n1/events',
        {
          events: [
            {
              kind: 'finished',
              job_id: '1',
              attempt: 1,
              state: 'FAILED',
              exit_status: 1,
              exit_signal: null,
              error_msg: '\ud800',
            },
          ],
        },
        'events.0.error_msg',
      ],
    ])('POST %s with a lone surrogate → 422 naming %s, nothing stored', async (path, body, field) => {
      const before = await jobCount();
      const response = await t.call('POST', path, { body });
      expect(response.status).toBe(422);
      const problem = await response.json();
      expect(problem.errors.map((e: { field: string }) => e.field)).toEqual([field]);
      expect(await jobCount()).toBe(before);
    });

    it('keeps a well-formed surrogate pair (an emoji) as it was sent', async () => {
      const response = await t.call('POST', '/v1/jobs', { body: { job: validJob({ name: 'x\ud83d\ude00' }), script } });
      expect(response.status).toBe(201);
      expect((await response.json()).name).toBe('x😀');
    });

    it('takes a CR within a line of a script whose lines break with LF (a progress bar), and says which line breaks it refuses', async () => {
      const ok = await t.call('POST', '/v1/jobs', {
        body: { job: validJob(), script: "#!/bin/bash\nprintf '1%%\r2%%'\n" },
      });
      expect(ok.status).toBe(201);
      const dos = await t.call('POST', '/v1/jobs', { body: { job: validJob(), script: '#!/bin/bash\r\ntrue\r\n' } });
      expect(dos.status).toBe(422);
      expect(JSON.stringify(await dos.json())).toContain('dos2unix');
    });

    // issue 12, item 8: every integer has an upper bound within its column; 2^40 used to reach Postgres (500).
    const huge = 2 ** 40;
    it.each([
      ['/v1/jobs', { job: validJob({ priority: huge }), script }, 'job.priority'],
      ['/v1/jobs', { job: validJob({ ntasks_per_node: huge }), script }, 'job.ntasks_per_node'],
      ['/v1/jobs', { job: validJob({ cpus_per_task: huge }), script }, 'job.cpus_per_task'],
      ['/v1/jobs', { job: validJob({ memory_per_node: huge }), script }, 'job.memory_per_node'],
      ['/v1/jobs', { job: validJob({ time_limit: huge }), script }, 'job.time_limit'],
      ['/jobs/submit', { job: validJob({ ntasks_per_node: String(huge) }), script }, 'job.ntasks_per_node'],
      ['/jobs/submit', { job: validJob({ cpus_per_task: huge }), script }, 'job.cpus_per_task'],
      ['/jobs/submit', { job: validJob({ memory_per_node: huge }), script }, 'job.memory_per_node'],
      ['/jobs/submit', { job: validJob({ time_limit: String(huge) }), script }, 'job.time_limit'],
      [
        '/v1/nodes/n1/events',
        { events: [{ kind: 'started', job_id: '1', attempt: huge, pid: 1, cpu_ids: [] }] },
        'events.0.attempt',
      ],
      [
        '/v1/nodes/n1/events',
        { events: [{ kind: 'started', job_id: '1', attempt: 1, pid: huge, cpu_ids: [] }] },
        'events.0.pid',
      ],
      [
        '/v1/nodes/n1/events',
        { events: [{ kind: 'started', job_id: '1', attempt: 1, pid: 1, cpu_ids: [huge] }] },
        'events.0.cpu_ids.0',
      ],
      ['/v1/nodes/n1/heartbeat', { partitions: ['batch'], cpus: huge, memory_mb: 1 }, 'cpus'],
      ['/v1/nodes/n1/heartbeat', { partitions: ['batch'], cpus: 1, memory_mb: huge }, 'memory_mb'],
      [
        '/v1/nodes/n1/heartbeat',
        { partitions: ['batch'], cpus: 1, memory_mb: 1, running: [{ job_id: '1', attempt: huge }] },
        'running.0.attempt',
      ],
      [
        '/v1/nodes/n1/claim',
        { partitions: ['batch'], cpus: 1, memory_mb: 1, free_cpus: 1, free_memory_mb: 1, max: huge },
        'max',
      ],
    ])('POST %s with 2^40 → 422 naming %s', async (path, body, field) => {
      const response = await t.call('POST', path, { body });
      expect(response.status).toBe(422);
      expect((await response.json()).errors.map((e: { field: string }) => e.field)).toContain(field);
    });

    it.each([
      [`/v1/jobs/1/logs/stdout?attempt=${huge}`, 'attempt'],
      [`/v1/jobs?limit=${huge}`, 'limit'],
    ])('GET %s → 422 naming %s', async (path, field) => {
      const response = await t.call('GET', path);
      expect(response.status).toBe(422);
      expect((await response.json()).errors.map((e: { field: string }) => e.field)).toContain(field);
    });

    // issue 12, item 8: a refused value is repeated at most 200 characters, however long it was.
    it('echoes at most 200 characters of a refused value', async () => {
      const long = 'x'.repeat(100_000);
      const v1 = await t.call('POST', '/v1/jobs', { body: { job: validJob({ time_limit: long }), script } });
      expect(v1.status).toBe(422);
      const v1Text = await v1.text();
      expect(v1Text).toContain('x'.repeat(200));
      expect(v1Text).not.toContain('x'.repeat(201));
      const original = await t.call('POST', '/jobs/submit', {
        body: { job: validJob({ memory_per_node: long }), script },
      });
      expect(original.status).toBe(422);
      const originalText = await original.text();
      expect(originalText).toContain('x'.repeat(200));
      expect(originalText).not.toContain('x'.repeat(201));
      // A missing field echoes the object it is missing from: its strings are cut too.
      const missing = await t.call('POST', '/jobs/submit', { body: { job: validJob({ name: long }) } });
      expect(missing.status).toBe(422);
      expect(await missing.text()).not.toContain('x'.repeat(201));
      const unknown = await t.call('POST', '/v1/jobs', { body: { job: validJob({ [long]: 1 }), script } });
      expect(unknown.status).toBe(422);
      expect(await unknown.text()).not.toContain('x'.repeat(201));
    });

    // issue 12, item 8: nesting is refused before the parse pays for it.
    it('answers JSON nested deeper than 64 levels with 400, and takes 64', async () => {
      const nested = (depth: number) => `${'['.repeat(depth - 1)}1${']'.repeat(depth - 1)}`;
      const deep = await t.call('POST', '/v1/jobs', {
        rawBody: `{"job": {"environment": ${nested(100_000)}}, "script": "true"}`,
      });
      expect(deep.status).toBe(400);
      expect(await deep.json()).toMatchObject({ code: 'malformed_body' });
      // Brackets inside strings are text, not nesting.
      const inString = await t.call('POST', '/v1/jobs', {
        body: { job: validJob(), script: `echo '${'['.repeat(500)}'` },
      });
      expect(inString.status).toBe(201);
      // 64 levels in all (the body's own object is the first): read, and refused for what it says.
      const deepest = await t.call('POST', '/v1/jobs', {
        rawBody: `{"job": {"environment": ${nested(63)}}, "script": "true"}`,
      });
      expect(deepest.status).toBe(422);
      const over = await t.call('POST', '/v1/jobs', {
        rawBody: `{"job": {"environment": ${nested(64)}}, "script": "true"}`,
      });
      expect(over.status).toBe(400);
      // The original path reads a body without a Content-Type as JSON: screened the same.
      const original = await t.app.request('/jobs/submit', {
        method: 'POST',
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
        // Bytes: a string body would be sent as text/plain.
        body: new TextEncoder().encode(`{"job": {"environment": ${nested(100)}}, "script": "true"}`),
      });
      expect(original.status).toBe(400);
    });

    // issue 12, item 8: a failed statement is logged without its parameters (a job's script and environment).
    it('logs a database fault without the statement parameters', async () => {
      await t.database.db.execute(
        sql`ALTER TABLE jobs ADD CONSTRAINT refuse_for_test CHECK (script NOT LIKE '%refuse-me%')`,
      );
      const logged: string[] = [];
      const spy = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
        logged.push(args.map(String).join(' '));
      });
      try {
        const response = await t.call('POST', '/v1/jobs', {
          body: { job: validJob({ environment: { PASSWORD: 'hunter2-secret' } }), script: 'echo refuse-me' },
        });
        expect(response.status).toBe(500);
      } finally {
        spy.mockRestore();
        await t.database.db.execute(sql`ALTER TABLE jobs DROP CONSTRAINT refuse_for_test`);
      }
      const text = logged.join('\n');
      expect(text).toContain('Failed query:');
      expect(text).toContain('23514');
      expect(text).not.toContain('hunter2-secret');
      expect(text).not.toContain('echo refuse-me');
    });

    it('answers a body that is not JSON with 415', async () => {
      const response = await t.app.request('/v1/jobs', {
        method: 'POST',
        headers: { Authorization: 'Bearer test-admin-token-0123456789abcdef0123456789', 'Content-Type': 'text/plain' },
        body: 'echo hi',
      });
      expect(response.status).toBe(415);
      expect(await response.json()).toMatchObject({ code: 'unsupported_media_type' });
    });
  });
}
