/**
 * Submits checked against configured partitions (issue 19, item 1): each refusal names its field and the limit, on
 * /v1 and on the original path, on every queue; no partition means the default one, no time limit its default time.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, type TestApp } from './helpers/test-app.js';
import { appsOnQueues } from './helpers/test-app-queues.js';

const job = (overrides: Record<string, unknown> = {}) => ({
  account: 'physics',
  partition: 'open',
  cpus_per_task: 1,
  memory_per_node: '1G',
  time_limit: '30:00',
  ...overrides,
});

interface Problem {
  status: number;
  errors: { field: string; message: string }[];
}

for (const variant of await appsOnQueues()) {
  describe.skipIf(variant.skip)(`partition admission on ${variant.name}`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await variant.open();
      await put('open', {});
      await put('limited', {
        allow_accounts: ['physics', 'chemistry'],
        max_time: '1:00:00',
        max_cpus_per_job: 4,
        max_memory_per_job: '8G',
      });
      await put('short', { default_time: '10:00', max_time: '2:00:00' });
      await put('brief', { max_time: '20:00' });
      for (const state of ['DOWN', 'DRAIN', 'INACTIVE']) await put(state.toLowerCase(), { state });
    });
    afterAll(() => t?.close());

    async function put(name: string, body: Record<string, unknown>) {
      const response = await t.call('PUT', `/v1/partitions/${name}`, { body });
      expect([200, 201]).toContain(response.status);
    }

    const submit = (body: Record<string, unknown>, script = '#!/bin/bash\ntrue') =>
      t.call('POST', '/v1/jobs', { body: { job: body, script } });

    async function refused(response: Response): Promise<Problem['errors']> {
      expect(response.status).toBe(422);
      expect(response.headers.get('content-type')).toMatch(/problem\+json/);
      return ((await response.json()) as Problem).errors;
    }

    async function accepted(response: Response): Promise<{ id: string; partition: string; time_limit: string }> {
      expect(response.status, await response.clone().text()).toBe(201);
      const { id } = (await response.json()) as { id: string };
      return (await (await t.call('GET', `/v1/jobs/${id}`)).json()) as {
        id: string;
        partition: string;
        time_limit: string;
      };
    }

    it('refuses a job for a partition that does not exist, naming job.partition and the partitions there are', async () => {
      const [error] = await refused(await submit(job({ partition: 'nowhere' })));
      expect(error!.field).toBe('job.partition');
      expect(error!.message).toContain('partition "nowhere" does not exist');
      // Names the partitions there are (the first 20, by name: other suites may share the database).
      expect(error!.message).toMatch(/\(the partitions are [^,()]+(, [^,()]+)*\)$/);
    });

    it('accepts a job for a configured partition that no node serves yet: it waits PENDING', async () => {
      const view = (await accepted(await submit(job()))) as unknown as { state: string };
      expect(view.state).toBe('PENDING');
    });

    it("refuses an account outside the partition's allowed accounts, naming them", async () => {
      const [error] = await refused(await submit(job({ partition: 'limited', account: 'biology' })));
      expect(error).toEqual({
        field: 'job.account',
        message: 'account "biology" may not submit to partition "limited": its allowed accounts are physics, chemistry',
      });
      await accepted(await submit(job({ partition: 'limited', account: 'chemistry' })));
    });

    it("refuses a user token's job for a partition its account may not use", async () => {
      const token = await t.token('user', 'biology', 'bob');
      const response = await t.call('POST', '/v1/jobs', {
        token,
        body: { job: { partition: 'limited', time_limit: '10:00' }, script: '#!/bin/bash\ntrue' },
      });
      expect((await refused(response))[0]!.field).toBe('job.account');
    });

    it('refuses submits to a DRAIN or INACTIVE partition naming the state, and takes them in a DOWN one', async () => {
      for (const state of ['DRAIN', 'INACTIVE']) {
        const [error] = await refused(await submit(job({ partition: state.toLowerCase() })));
        expect(error).toEqual({
          field: 'job.partition',
          message: `partition "${state.toLowerCase()}" is ${state}: it takes no new jobs`,
        });
      }
      expect((await accepted(await submit(job({ partition: 'down' })))).partition).toBe('down');
    });

    it('refuses a time limit over the maximum, UNLIMITED included, naming the maximum', async () => {
      for (const time_limit of ['1:00:01', 'UNLIMITED']) {
        const [error] = await refused(await submit(job({ partition: 'limited', time_limit })));
        expect(error!.field).toBe('job.time_limit');
        expect(error!.message).toContain(`partition "limited"'s maximum, 0-01:00:00`);
      }
      await accepted(await submit(job({ partition: 'limited', time_limit: '1:00:00' })));
    });

    it('refuses CPUs and memory over the per-job maxima, each naming its field and the limit', async () => {
      const errors = await refused(
        await submit(job({ partition: 'limited', ntasks_per_node: 2, cpus_per_task: 3, memory_per_node: '9G' })),
      );
      expect(errors).toEqual([
        {
          field: 'job.cpus_per_task',
          message:
            'the job asks for 6 CPUs (ntasks_per_node × cpus_per_task); partition "limited" allows at most 4 per job',
        },
        { field: 'job.memory_per_node', message: 'the job asks for 9G; partition "limited" allows at most 8G per job' },
      ]);
    });

    it("names the script's directive that set a refused field", async () => {
      const script = '#!/bin/bash\n#SBATCH -p limited\n#SBATCH --time=2:00:00\ntrue';
      const errors = await refused(await submit({ account: 'physics' }, script));
      expect(errors).toEqual([
        expect.objectContaining({
          field: 'job.time_limit',
          message: expect.stringContaining("(set by the script's line 3: --time=2:00:00)") as unknown,
        }),
      ]);
    });

    it('puts a job that names no partition in the default partition, whatever its name', async () => {
      expect((await accepted(await submit({ account: 'physics' }))).partition).toBe('default');
      await put('open', { default: true });
      expect((await accepted(await submit({ account: 'physics' }))).partition).toBe('open');
      await put('default', { default: true });
    });

    it("gives a job without a time limit its partition's default time, else 1:00:00 or a shorter maximum", async () => {
      const limit = async (partition: string) =>
        (await accepted(await submit({ account: 'physics', partition }))).time_limit;
      expect(await limit('short')).toBe('0-00:10:00');
      expect(await limit('open')).toBe('0-01:00:00');
      expect(await limit('brief')).toBe('0-00:20:00');
    });

    it('checks the original path the same way', async () => {
      const response = await t.app.request('/jobs/submit', {
        method: 'POST',
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ job: job({ partition: 'drain' }), script: '#!/bin/bash\ntrue' }),
      });
      expect(response.status).toBe(422);
      expect(await response.text()).toContain('partition \\"drain\\" is DRAIN');
    });

    it('decides a refusal on a fresh read: a partition another process just created is not refused', async () => {
      // This process has read the table (the submits above); another one creates a partition meanwhile.
      await submit(job());
      await t.database.db.execute(sql`INSERT INTO partitions (name) VALUES ('made-elsewhere')`);
      expect((await accepted(await submit(job({ partition: 'made-elsewhere' })))).partition).toBe('made-elsewhere');
    });
  });
}
