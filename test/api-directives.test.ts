/**
 * A script's #SBATCH / #CONDUCTOR directives through the API (issue 14, items 3 and 8): read on /v1 submit, shown by
 * the job; refused with a 422 naming the line and inserting nothing; never read on the original path.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../shared/db/query-rows.js';
import { ADMIN_TOKEN, createTestApp, type TestApp } from './helpers/test-app.js';
import { backends } from './helpers/test-databases.js';

const EXAMPLE = [
  '#!/bin/bash',
  '#SBATCH --job-name=relax --cpus-per-task=2 --time=0:00:07 --mem=200M --output=/tmp/relax-%j.out',
  '#SBATCH --mail-user=alice@example.com  # no mail is sent here',
  'echo start',
].join('\n');

for (const backend of await backends()) {
  describe.skipIf(backend.skip)(`directives through the API on ${backend.name}`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(backend);
    });
    afterAll(() => t?.close());

    const submit = (job: Record<string, unknown>, script: string, headers: Record<string, string> = {}) =>
      Promise.resolve(
        t.app.request('/v1/jobs', {
          method: 'POST',
          headers: {
            Authorization: `Bearer ${ADMIN_TOKEN}`,
            'Content-Type': 'application/json',
            ...headers,
          },
          body: JSON.stringify({ job, script }),
        }),
      );
    const jobCount = async () => {
      const [row] = await queryRows(t.database.db, sql`SELECT count(*)::int AS n FROM jobs`);
      return row!.n as number;
    };

    it("applies the issue's example, shows what it applied and ignored on submit and on GET", async () => {
      const response = await submit({ partition: 'batch' }, EXAMPLE);
      expect(response.status, await response.clone().text()).toBe(201);
      const job = await response.json();
      const shown = {
        name: 'relax',
        cpus: 2,
        cpus_per_task: 2,
        ntasks_per_node: 1,
        time_limit: '0-00:00:07',
        memory_per_node: '200M',
        standard_output: `/tmp/relax-${job.id}.out`,
        directives: [
          { line: 2, option: '--job-name=relax' },
          { line: 2, option: '--cpus-per-task=2' },
          { line: 2, option: '--time=0:00:07' },
          { line: 2, option: '--mem=200M' },
          { line: 2, option: '--output=/tmp/relax-%j.out' },
        ],
        warnings: ['line 3: --mail-user=alice@example.com: ignored: no mail is sent'],
      };
      expect(job).toMatchObject(shown);
      const got = await t.call('GET', `/v1/jobs/${job.id}`);
      expect(await got.json()).toMatchObject({ ...shown, script: EXAMPLE });
    });

    it('reads other spellings: short options, separate values, #CONDUCTOR, --mem-per-cpu', async () => {
      const script = [
        '#!/usr/bin/env python3',
        '#SBATCH -J fit -n 2 -c2',
        '#CONDUCTOR --mem-per-cpu 300M',
        '#SBATCH -t 1-0 --exclusive --requeue --open-mode=append --signal=USR1@30 -D /tmp -N 1',
        'print("hi")',
      ].join('\n');
      const response = await submit({}, script);
      expect(response.status, await response.clone().text()).toBe(201);
      const job = await response.json();
      expect(job).toMatchObject({
        name: 'fit',
        ntasks_per_node: 2,
        cpus_per_task: 2,
        cpus: 4,
        memory_per_node: '1200M',
        time_limit: '1-00:00:00',
        exclusive: true,
        requeue: true,
        open_mode: 'append',
        signal: 'USR1@30',
        current_working_directory: '/tmp',
        warnings: [],
      });
      expect(job.directives).toHaveLength(11);
      expect(job.directives[3]).toEqual({ line: 3, option: '--mem-per-cpu 300M' });
    });

    it('lets the body win over a directive, and says so', async () => {
      const response = await submit({ time_limit: '5', name: 'from-body' }, '#SBATCH -t 1:00:00 -J from-script -c 3');
      const job = await response.json();
      expect(job).toMatchObject({
        name: 'from-body',
        time_limit: '0-00:05:00',
        cpus_per_task: 3,
        directives: [{ line: 1, option: '-c 3' }],
        warnings: [
          'line 1: -t 1:00:00: overridden by job.time_limit in the body',
          'line 1: -J from-script: overridden by job.name in the body',
        ],
      });
    });

    it('refuses a directive with a bad value: 422 naming script, the line and the directive; nothing inserted', async () => {
      const before = await jobCount();
      const response = await submit({}, '#!/bin/bash\n#SBATCH -J ok\n#SBATCH --time=abc\necho');
      expect(response.status).toBe(422);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      const problem = await response.json();
      expect(problem).toMatchObject({ code: 'validation_failed', detail: 'Invalid value for script' });
      expect(problem.errors).toEqual([
        { field: 'script', message: expect.stringMatching(/^line 3: --time=abc: "abc" is not a Slurm time/) },
      ]);
      expect(await jobCount()).toBe(before);
    });

    it.each([
      ['-N 2', /^line 2: -N 2: not supported: a job runs on one node here/],
      ['--nodes=3', /^line 2: --nodes=3: not supported/],
      ['--gres=gpu:1', /^line 2: --gres=gpu:1: not supported: GPUs/],
      ['--gpus-per-node 2', /^line 2: --gpus-per-node 2: not supported: GPUs/],
      ['--constraint=x', /^line 2: --constraint=x: not supported/],
      ['-C "a&b"', /^line 2: -C a&b: not supported/],
      ['--mem-per-gpu=8G', /^line 2: --mem-per-gpu=8G: not supported/],
      ['--array=0-99999', /^line 2: --array=0-99999: "0-99999": the largest index is 10000 \(MaxArraySize 10001\)/],
      ['--frobnicate', /^line 2: --frobnicate: --frobnicate is not an sbatch option/],
    ])('refuses an option not done here, #SBATCH %s, naming it (422, nothing inserted)', async (written, message) => {
      const before = await jobCount();
      const response = await submit({}, `#!/bin/bash\n#SBATCH ${written}\necho`);
      expect(response.status).toBe(422);
      const problem = await response.json();
      expect(problem.errors).toEqual([{ field: 'script', message: expect.stringMatching(message) }]);
      expect(await jobCount()).toBe(before);
    });

    it("names the directive when a user token's -A is another account (403)", async () => {
      const token = await t.token('user', 'physics');
      const response = await t.call('POST', '/v1/jobs', {
        token,
        body: { job: {}, script: '#!/bin/bash\n#SBATCH -J x\n#SBATCH -A chemistry\ntrue' },
      });
      expect(response.status).toBe(403);
      expect((await response.json()).detail).toBe(
        'job.account (set by the script\'s line 3: -A chemistry): this token submits to account "physics" only',
      );
    });

    it('names the directives when no node of the partition could run what they ask for', async () => {
      const token = await t.token('node', 'dir-small');
      const small = { partitions: ['tiny'], cpus: 4, memory_mb: 8192 };
      expect((await t.call('POST', '/v1/nodes/dir-small/heartbeat', { token, body: small })).status).toBe(200);
      const response = await submit({ partition: 'tiny' }, '#!/bin/bash\n#SBATCH -n 2 -c 4 --mem=1G\ntrue');
      expect(response.status).toBe(422);
      expect((await response.json()).errors).toEqual([
        {
          field: 'job.cpus_per_task',
          message:
            'the job asks for 8 CPUs (ntasks_per_node × cpus_per_task); the largest node in partition "tiny" has 4 (set by the script\'s line 2: -n 2, line 2: -c 4)',
        },
      ]);
    });

    it('answers a retried submit with its key as the first, directives and warnings included', async () => {
      const first = await submit({}, EXAMPLE, { 'Idempotency-Key': 'directives-1' });
      const again = await submit({}, EXAMPLE, { 'Idempotency-Key': 'directives-1' });
      expect(first.status).toBe(201);
      expect(again.status).toBe(201);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      const job = await first.json();
      expect(await again.json()).toEqual(job);
      expect(job.warnings).toHaveLength(1);
    });

    it('never reads directives on the original path, as the original did not', async () => {
      const script = '#!/bin/bash\n#SBATCH --time=abc --gres=gpu:1 -J ignored\necho';
      const response = await t.call('POST', '/jobs/submit', {
        body: { job: { account: 'physics', time_limit: '10' }, script },
      });
      expect(response.status).toBe(201);
      const { job_id } = await response.json();
      const job = await (await t.call('GET', `/v1/jobs/${job_id}`)).json();
      expect(job).toMatchObject({ name: 'job', time_limit: '0-00:10:00', directives: [], warnings: [] });
    });
  });
}
