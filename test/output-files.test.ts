/**
 * Output files as sbatch makes them (issue 14, item 4), through the API with a real daemon and real jobs: stdout and
 * stderr default to one file, slurm-%j.out, stored once (as stdout; stderr answers that it is merged there); the files
 * are emptied at each start unless `open_mode: append`; each attempt's stored output is exactly what it wrote, in both
 * modes, across a requeue on the same node and a daemon killed mid-run; %u, %N, %5j and %% expand in the files the
 * node makes and in what GET shows.
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Reconciler } from '../api/reconciler.js';
import { storedEnd } from '../shared/logs/log-reader.js';
import type { LogStream } from '../shared/logs/log-store.js';
import type { ChildServer } from './helpers/child-server.js';
import { ADMIN_TOKEN } from './helpers/test-app.js';
import {
  getJob,
  startTestApi,
  testNodes,
  waitFor,
  waitForState,
  type TestApi,
  type TestNodes,
} from './helpers/test-node.js';
import { chownTo, unixUsers } from './helpers/unix-users.js';

const LEASE_MS = 6000;
// Heartbeats several times a second: the lease is renewed long before it ends, on a busy machine too.
const NODE_ENV = { CONDUCTOR_NODE_CPUS: '2', CONDUCTOR_HEARTBEAT_SECONDS: '0.2' };
const users = unixUsers('output-files');

describe('output files as sbatch makes them', () => {
  let api: TestApi;
  let nodes: TestNodes;
  let daemon: ChildServer;
  let work: string;

  beforeAll(async () => {
    api = await startTestApi({ nodeLeaseMs: LEASE_MS });
    nodes = testNodes(api);
    work = nodes.dir();
    daemon = await nodes.start('outs', NODE_ENV);
  }, 60_000);
  afterAll(async () => {
    await nodes?.cleanup();
    await api?.close();
  });

  const submit = (script: string, job: Record<string, unknown> = {}) =>
    api.t.submit({ name: 'outs', current_working_directory: work, ...job }, `#!/bin/bash\n${script}`);
  const read = (name: string) => readFileSync(join(work, name), 'utf8');
  const logs = (id: string, stream: LogStream, query = '') =>
    fetch(`${api.url}/v1/jobs/${id}/logs/${stream}${query}`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
  /** One attempt's whole stored stream, through the API. */
  const stored = async (id: string, stream: LogStream, attempt = 1) => {
    const answer = await logs(id, stream, `?attempt=${attempt}&limit=1000000`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('Conductor-Log-Complete')).toBe('true');
    return answer.text();
  };
  const completed = (id: string) => waitForState(api.t, id, ['COMPLETED']);

  describe('open mode', () => {
    it('two jobs with the same standard_output: the later one empties the file (truncate, the default)', async () => {
      const first = await submit('echo "first run"', { standard_output: 'same.log' });
      await completed(first);
      const second = await submit('echo "second run"', { standard_output: 'same.log' });
      await completed(second);
      expect(read('same.log')).toBe('second run\n');
      expect(await getJob(api.t, second)).toMatchObject({ open_mode: 'truncate' });
      // Each stored what it wrote: the first's output is kept though its file was emptied since.
      expect(await stored(first, 'stdout')).toBe('first run\n');
      expect(await stored(second, 'stdout')).toBe('second run\n');
    });

    it('an error file that had content is emptied too; one with open_mode append keeps it', async () => {
      writeFileSync(join(work, 'old.err'), 'left from before\n');
      const emptied = await submit('echo oops >&2', { standard_error: 'old.err' });
      await completed(emptied);
      expect(read('old.err')).toBe('oops\n');
      const kept = await submit('echo again >&2', { standard_error: 'old.err', open_mode: 'append' });
      await completed(kept);
      expect(read('old.err')).toBe('oops\nagain\n');
      expect(await stored(kept, 'stderr')).toBe('again\n');
    });

    it('open_mode append: both jobs stay in the file, and each stored only its own', async () => {
      const first = await submit('echo "first run"', { standard_output: 'appended.log', open_mode: 'append' });
      await completed(first);
      const second = await submit('echo "second run"', { standard_output: 'appended.log', open_mode: 'append' });
      await completed(second);
      expect(read('appended.log')).toBe('first run\nsecond run\n');
      expect(await stored(first, 'stdout')).toBe('first run\n');
      expect(await stored(second, 'stdout')).toBe('second run\n');
    });
  });

  describe('one file for stdout and stderr', () => {
    const script = 'for i in 1 2 3; do echo "out $i"; echo "err $i" >&2; done';
    const both = 'out 1\nerr 1\nout 2\nerr 2\nout 3\nerr 3\n';

    /** Stored once, as stdout; stderr answers 200, empty, merged into stdout, read or followed. */
    async function expectStoredOnce(id: string, file: string): Promise<void> {
      expect(read(file)).toBe(both);
      expect(await stored(id, 'stdout')).toBe(both);
      for (const query of ['', '?follow=true', '?tail_lines=2']) {
        const answer = await logs(id, 'stderr', query);
        expect(answer.status).toBe(200);
        expect(answer.headers.get('Conductor-Log-Merged')).toBe('stdout');
        expect(await answer.text()).toBe('');
      }
      expect(
        await storedEnd(api.logs, { cluster: api.clusterId, jobId: Number(id), attempt: 1, stream: 'stderr' }),
      ).toBe(0);
      const original = await (await api.t.call('GET', `/jobs/query/${id}`)).json();
      expect(original.job_log).toEqual({ stdout: both, stderr: '' });
    }

    it('by default both go to slurm-<id>.out', async () => {
      const id = await submit(script);
      const job = await completed(id);
      expect(job).toMatchObject({ standard_output: `slurm-${id}.out`, standard_error: `slurm-${id}.out` });
      expect(existsSync(join(work, `slurm-${id}.err`))).toBe(false);
      await expectStoredOnce(id, `slurm-${id}.out`);
    });

    it('stderr goes to the standard_output given when it names none', async () => {
      const id = await submit(script, { standard_output: 'run-%j.log' });
      await completed(id);
      await expectStoredOnce(id, `run-${id}.log`);
    });

    it('the same path named for both, spelled two ways', async () => {
      const id = await submit(script, { standard_output: 'both-%j.log', standard_error: `${work}/./both-%j.log` });
      await completed(id);
      await expectStoredOnce(id, `both-${id}.log`);
    });

    it('a stderr path that is a link to the stdout file: opened and stored once', async () => {
      symlinkSync(join(work, 'linked.log'), join(work, 'link-to-linked.log'));
      const id = await submit(script, { standard_output: 'linked.log', standard_error: 'link-to-linked.log' });
      await completed(id);
      expect(read('linked.log')).toBe(both);
      expect(await stored(id, 'stdout')).toBe(both);
      // Only the node sees that the paths are one file: stderr is simply empty.
      expect(await stored(id, 'stderr')).toBe('');
    });

    it('distinct files stay apart, each stored exactly', async () => {
      const id = await submit(script, { standard_error: 'slurm-%j.err' });
      await completed(id);
      expect(await stored(id, 'stdout')).toBe('out 1\nout 2\nout 3\n');
      expect(await stored(id, 'stderr')).toBe('err 1\nerr 2\nerr 3\n');
      expect((await logs(id, 'stderr')).headers.get('Conductor-Log-Merged')).toBeNull();
    });
  });

  it('expands %N, %u, %5j, %x and %% in the files the node makes and in what GET shows', async () => {
    const id = await submit('echo patterned; echo e >&2', {
      name: 'relax',
      standard_output: 'pat/%N-%x-%5j-100%%.out',
      standard_error: 'pat/%u-%j.err',
    });
    const job = await completed(id);
    const padded = id.padStart(5, '0');
    expect(read(`pat/outs-relax-${padded}-100%.out`)).toBe('patterned\n');
    // A job naming no user runs as the node's own user: root here, a daemon's login on a single-user node.
    const login = process.getuid?.() === 0 ? 'root' : userInfo().username;
    expect(read(`pat/${login}-${id}.err`)).toBe('e\n');
    expect(job.standard_output).toBe(`pat/outs-relax-${padded}-100%.out`);
  });

  it.skipIf(!users)("expands %u as the owner's login, on the node and in GET", async () => {
    const alice = users!.a;
    const dir = join(alice.home, 'output-files');
    mkdirSync(dir, { recursive: true });
    chownTo(dir, alice);
    const id = await api.t.submit(
      { name: 'owned', user: alice.name, current_working_directory: dir, standard_output: '%u-%j.out' },
      '#!/bin/bash\nid -un',
    );
    const job = await completed(id);
    expect(job.standard_output).toBe(`${alice.name}-${id}.out`);
    expect(readFileSync(join(dir, `${alice.name}-${id}.out`), 'utf8')).toBe(`${alice.name}\n`);
  });

  describe('each attempt stores exactly what it wrote', () => {
    const script = [
      'echo "attempt $CONDUCTOR_ATTEMPT started"',
      'echo "attempt $CONDUCTOR_ATTEMPT err" >&2',
      // The first attempt waits to be stopped, and says so; the second ends by itself.
      `trap 'echo "attempt $CONDUCTOR_ATTEMPT stopped"; exit 1' TERM`,
      'if [ "$CONDUCTOR_ATTEMPT" = 1 ]; then sleep 600 & wait; fi',
      'echo "attempt $CONDUCTOR_ATTEMPT done"',
    ].join('\n');

    /** Attempt 1 runs, the API goes away: the node stops it (NODE_FAIL, requeued), and runs attempt 2. */
    async function requeuedOnce(id: string): Promise<void> {
      await waitFor('attempt 1 prints', () => (existsSync(join(work, `rq-${id}.out`)) ? true : undefined));
      await waitFor('attempt 1 ready', () => (read(`rq-${id}.out`).includes('started') ? true : undefined));
      await api.pause();
      const status = join(nodes.nodeDir('outs'), 'runs', `${id}-1`, 'status');
      try {
        await waitFor('the daemon stops attempt 1', () => (existsSync(status) ? true : undefined), LEASE_MS * 3);
      } finally {
        await api.resume();
      }
      // Requeued by the node's NODE_FAIL report: the reconciler's sweep puts it in the queue again.
      await waitFor(
        'attempt 2 completed',
        async () => {
          await new Reconciler(api.t.queue).run(api.t.database.db);
          return (await getJob(api.t, id)).state === 'COMPLETED' ? true : undefined;
        },
        LEASE_MS * 5,
      );
      expect(await getJob(api.t, id)).toMatchObject({ attempt: 2 });
    }

    const attempt1 = 'attempt 1 started\nattempt 1 err\nattempt 1 stopped\n';
    const attempt2 = 'attempt 2 started\nattempt 2 err\nattempt 2 done\n';

    it('requeued on the same node, truncate: attempt 2 empties the file, attempt 1 kept in the store', async () => {
      const id = await submit(script, { requeue: true, standard_output: 'rq-%j.out' });
      await requeuedOnce(id);
      expect(read(`rq-${id}.out`)).toBe(attempt2);
      expect(await stored(id, 'stdout', 1)).toBe(attempt1);
      expect(await stored(id, 'stdout', 2)).toBe(attempt2);
    }, 90_000);

    it('requeued on the same node, append: both attempts in the file, each stored apart', async () => {
      const id = await submit(script, { requeue: true, standard_output: 'rq-%j.out', open_mode: 'append' });
      await requeuedOnce(id);
      expect(read(`rq-${id}.out`)).toBe(attempt1 + attempt2);
      expect(await stored(id, 'stdout', 1)).toBe(attempt1);
      expect(await stored(id, 'stdout', 2)).toBe(attempt2);
    }, 90_000);

    it.each(['truncate', 'append'] as const)(
      'the daemon killed mid-run (%s, into a file that had content): the stored stream is what the run wrote',
      async (mode) => {
        writeFileSync(join(work, `killed-${mode}.log`), 'from an earlier job\n');
        const lines = Array.from({ length: 30 }, (_, i) => `line ${i}`);
        const id = await submit(`for i in $(seq 0 29); do echo "line $i"; sleep 0.05; done`, {
          standard_output: `killed-${mode}.log`,
          open_mode: mode,
        });
        const stdout = { cluster: api.clusterId, jobId: Number(id), attempt: 1, stream: 'stdout' as const };
        await waitFor('some output stored', async () => ((await storedEnd(api.logs, stdout)) > 0 ? true : undefined));
        daemon.kill('SIGKILL');
        await daemon.exited;
        daemon = await nodes.start('outs', NODE_ENV);
        await completed(id);
        const written = lines.map((line) => `${line}\n`).join('');
        expect(read(`killed-${mode}.log`)).toBe(mode === 'append' ? `from an earlier job\n${written}` : written);
        expect(await stored(id, 'stdout')).toBe(written);
      },
      60_000,
    );
  });
});
