/**
 * Property tests of submit (fast-check): whatever body a client sends, on either submit path, the answer is never a
 * 5xx, a refusal stores nothing, and an accepted body stores exactly one job that reads back. Bodies are drawn near
 * valid ones (a valid job with fields replaced by arbitrary JSON, scripts with arbitrary directive lines), where
 * validation has the most to get wrong, and also wholly arbitrary.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobs } from '../shared/db/schema.js';
import { createTestApp, validJob, type TestApp } from './helpers/test-app.js';

const FIELDS = Object.keys(validJob()).concat(['priority', 'requeue', 'user', 'open_mode', 'signal', 'unknown']);

/** Strings that have broken parsers before: Slurm-looking values, unicode edges, huge numbers as text. */
const nastyString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom(
    '',
    ' ',
    '0',
    '-1',
    'UNLIMITED',
    '1-00:00:00',
    '99999999999999999999',
    '1e309',
    'NaN',
    '16G',
    '0K',
    '%j%x%u%N%5j%%',
    '\u0000',
    '\ud800',
    '__proto__',
    'USR1@60',
    'B:USR1',
    'R:USR1@1',
    'truncate',
    'append',
  ),
);

const anyValue = fc.oneof(
  nastyString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 3 }),
);

/** A #SBATCH / #CONDUCTOR line with an option drawn from sbatch's spellings and arbitrary ones. */
const directiveLine = fc
  .tuple(
    fc.constantFrom('#SBATCH', '#CONDUCTOR', '#SBATCH  ', '#sbatch'),
    fc.oneof(
      fc.constantFrom(
        '-J',
        '--job-name',
        '-c',
        '--cpus-per-task',
        '-n',
        '--ntasks',
        '-N',
        '--mem',
        '--mem-per-cpu',
        '-t',
        '--time',
        '-o',
        '-e',
        '-D',
        '--chdir',
        '--exclusive',
        '--open-mode',
        '--requeue',
        '--signal',
        '--gres',
        '--mail-user',
        '-p',
        '-A',
      ),
      fc.string({ maxLength: 12 }),
    ),
    fc.constantFrom('=', ' ', ''),
    nastyString,
  )
  .map(([prefix, option, joiner, value]) => `${prefix} ${option}${joiner}${value}`.replace(/[\r\n]/g, ' '));

const script = fc.oneof(
  fc.constant('#!/bin/bash\ntrue'),
  fc.array(directiveLine, { maxLength: 6 }).map((lines) => ['#!/bin/bash', ...lines, 'echo hi'].join('\n')),
  nastyString,
);

/** A valid job with some fields replaced by arbitrary values, or removed. */
const nearValidJob = fc
  .array(fc.tuple(fc.constantFrom(...FIELDS), fc.option(anyValue, { nil: undefined })), { maxLength: 4 })
  .map((changes) => {
    const job: Record<string, unknown> = validJob();
    for (const [field, value] of changes) {
      if (value === undefined) delete job[field];
      else job[field] = value;
    }
    return job;
  });

const body = fc.oneof(
  { weight: 4, arbitrary: fc.record({ job: nearValidJob, script }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.record({ job: fc.jsonValue({ maxDepth: 3 }), script: anyValue }) },
);

describe('any submit body', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ name: 'pglite', skip: undefined });
  });
  afterAll(() => t?.close());

  const count = () => t.database.db.$count(jobs);

  it.each([['/v1/jobs'], ['/jobs/submit']])(
    'on %s: never a 5xx; a refusal stores nothing, an acceptance one job that reads back',
    async (path) => {
      await fc.assert(
        fc.asyncProperty(body, async (sent) => {
          const before = await count();
          const response = await t.call('POST', path, { body: sent });
          const answer = (await response.json()) as Record<string, unknown>;
          expect(response.status, JSON.stringify(answer)).toBeLessThan(500);
          if (response.status >= 400) {
            expect(await count()).toBe(before);
            return;
          }
          expect(response.status).toBe(201);
          expect(await count()).toBe(before + 1);
          const id = String(answer.id ?? answer.job_id);
          expect((await t.call('GET', `/v1/jobs/${id}`)).status).toBe(200);
        }),
        { numRuns: 300 },
      );
    },
  );
});
