/**
 * Retries on real failures (issue 20), with real daemons running real bash: a daemon SIGKILLed whose node's lease
 * ends, a wrapper lost with its daemon, a launch the node could not make (its cpuset cgroup without CPUs), a time
 * limit, memory over the request (with a factor), exit codes, a job's own launch failure and a job that killed its
 * wrapper; each attempt's output kept, and SLURM_RESTART_COUNT as each attempt sees it. The policy's every branch is in
 * retry-policies.test.ts; this suite shows that the daemon's real reports are classified as that one expects.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Reconciler } from '../api/reconciler.js';
import { DAEMON_LOST_WRAPPER_MESSAGE, WRAPPER_LOST_MESSAGE } from '../worker-node/job-ending.js';
import {
  ENDED,
  getJob,
  getJobEvents,
  startReported,
  startTestApi,
  testNodes,
  waitFor,
  waitForState,
  type TestApi,
  type TestNodes,
} from './helpers/test-node.js';

const LEASE_MS = 6000;
/** A v1 cpuset hierarchy a root daemon makes its node's cgroup in. */
const CPUSET_V1 =
  process.getuid?.() === 0 && existsSync('/sys/fs/cgroup/cpuset/cpuset.cpus') ? '/sys/fs/cgroup/cpuset' : undefined;
const NODE_ENV = { CONDUCTOR_HEARTBEAT_SECONDS: '0.2', CONDUCTOR_NODE_CPUS: '1', CONDUCTOR_MEMORY_POLL_SECONDS: '0.2' };

/** Says which restart this is; the first attempt does what `first` says, the others end at once. */
const restarts = (first: string) => `echo "restart $SLURM_RESTART_COUNT mem $SLURM_MEM_PER_NODE"
if [ "$SLURM_RESTART_COUNT" = 0 ]; then ${first}; fi`;

describe('retries on real failures', () => {
  let api: TestApi;
  let nodes: TestNodes;
  let work: string;

  beforeAll(async () => {
    api = await startTestApi({ nodeLeaseMs: LEASE_MS });
  });
  afterAll(async () => {
    await api?.close();
  });
  beforeEach(() => {
    nodes = testNodes(api);
    work = nodes.dir();
  });
  afterEach(async () => {
    await nodes.cleanup();
  });

  const submit = (script: string, job: Record<string, unknown> = {}) =>
    api.t.submit({ name: 'job', current_working_directory: work, ...job }, `#!/bin/bash\n${script}`);
  const reconcile = () => new Reconciler(api.t.queue).run(api.t.database.db);
  const output = async (id: string, attempt: number) => {
    const response = await api.t.call('GET', `/v1/jobs/${id}/logs/stdout?attempt=${attempt}`);
    expect(response.status).toBe(200);
    return response.text();
  };
  const retryEvents = async (id: string) =>
    (await getJobEvents(api.t, id)).filter((e) => e.from_state === 'RUNNING' && e.to_state === 'PENDING');

  it('a daemon SIGKILLed, its node timed out: retried by default on another node; each attempt’s output kept', async () => {
    const daemon = await nodes.start('gone', NODE_ENV);
    const id = await submit(restarts('exec sleep 600'));
    await startReported(api.t, id, 1);
    await waitFor('attempt 1 wrote its line', async () => ((await output(id, 1)) ? true : undefined));
    daemon.kill('SIGKILL');
    expect(await daemon.exited).toBe('signal SIGKILL');
    await waitFor(
      'the API settles the lost node',
      async () => ((await reconcile()).nodesDown.includes('gone') ? true : undefined),
      LEASE_MS * 3,
    );
    expect((await retryEvents(id)).map((e) => e.reason)).toEqual([
      'node gone lost: retried (node_fail) as attempt 2 of 6',
    ]);
    await nodes.start('other', NODE_ENV);
    const job = await waitForState(api.t, id, ENDED);
    expect(job).toMatchObject({ state: 'COMPLETED', attempt: 2 });
    expect(await output(id, 1)).toBe('restart 0 mem 1024\n');
    expect(await output(id, 2)).toBe('restart 1 mem 1024\n');
  });

  it('a wrapper lost with its daemon (both killed) is the node’s failure: retried; one its job killed is not', async () => {
    const daemon = await nodes.start('crash', NODE_ENV);
    const id = await submit(restarts('exec sleep 600'));
    await startReported(api.t, id, 1);
    const [, , wrapper] = readFileSync(join(nodes.nodeDir('crash'), 'runs', `${id}-1`, 'pid'), 'utf8').split(' ');
    // As a service manager that kills the daemon's whole group would: the job, in its own group, lives on.
    daemon.kill('SIGKILL');
    expect(await daemon.exited).toBe('signal SIGKILL');
    process.kill(Number(wrapper), 'SIGKILL');
    await nodes.start('crash', NODE_ENV);
    expect(await waitForState(api.t, id, ENDED)).toMatchObject({ state: 'COMPLETED', attempt: 2 });
    expect((await retryEvents(id)).map((e) => e.reason)).toEqual([
      `${DAEMON_LOST_WRAPPER_MESSAGE}: retried (node_fail) as attempt 2 of 6`,
    ]);
    expect(await output(id, 2)).toBe('restart 1 mem 1024\n');

    // It kills its wrapper once its start is reported (a wrapper killed before it said the job's pid is another case).
    const own = await submit(
      restarts(`while [ ! -e ${work}/go ]; do sleep 0.05; done; kill -KILL $PPID; exec sleep 600`),
    );
    await startReported(api.t, own, 1);
    writeFileSync(join(work, 'go'), '');
    expect(await waitForState(api.t, own, ENDED)).toMatchObject({
      state: 'FAILED',
      attempt: 1,
      error_msg: WRAPPER_LOST_MESSAGE,
    });
    expect(await retryEvents(own)).toEqual([]);
  });

  it.skipIf(!CPUSET_V1)(
    'a launch its node could not make (its cpuset cgroup broken) is retried by default',
    async () => {
      await nodes.start('cpusetless', NODE_ENV);
      const [dir] = execFileSync('find', [
        CPUSET_V1!,
        '-maxdepth',
        '8',
        '-type',
        'd',
        '-path',
        '*/conductor/cpusetless.*',
      ])
        .toString()
        .split('\n');
      const cpus = readFileSync(join(dir!, 'cpuset.cpus'), 'utf8');
      // The node's own cpuset left with no CPU (an admin's mistake, a hotplugged core): no run's cgroup can take one.
      writeFileSync(join(dir!, 'cpuset.cpus'), '\n');
      let id: string;
      try {
        id = await submit(restarts('true'), { retry: { backoff_seconds: 1 } });
        await waitFor('the failed launch retried', async () => ((await retryEvents(id)).length ? true : undefined));
      } finally {
        writeFileSync(join(dir!, 'cpuset.cpus'), cpus);
      }
      expect((await retryEvents(id)).map((e) => e.reason)).toEqual([
        expect.stringMatching(
          /^cannot start on cpusetless: cannot set up the run's cgroup at .*: retried \(node_launch_failed\) as attempt 2 of 6, after 1 s$/,
        ),
      ]);
      expect(await getJob(api.t, id)).toMatchObject({ state: 'PENDING', reason: 'BeginTime' });
      await waitFor('the backoff ends', async () => ((await reconcile()).begun > 0 ? true : undefined));
      expect(await waitForState(api.t, id, ENDED)).toMatchObject({ state: 'COMPLETED', attempt: 2 });
      expect(await output(id, 2)).toBe('restart 1 mem 1024\n');
    },
  );

  describe('on one node', () => {
    beforeEach(async () => {
      await nodes.start('n1', NODE_ENV);
    });

    it('an application failure (exit 1) is not retried by default; a job’s own launch failure neither', async () => {
      const failed = await submit(restarts('exit 1'));
      expect(await waitForState(api.t, failed, ENDED)).toMatchObject({ state: 'FAILED', attempt: 1 });
      writeFileSync(join(work, 'a-file'), '');
      const own = await submit('true', { current_working_directory: join(work, 'a-file', 'below') });
      const job = await waitForState(api.t, own, ENDED);
      expect(job).toMatchObject({ state: 'FAILED', attempt: 1, exit_code: { status: 0, signal: null } });
      expect(await retryEvents(failed)).toEqual([]);
      expect(await retryEvents(own)).toEqual([]);
    });

    it('exit codes named are retried until max_attempts; SLURM_RESTART_COUNT counts the restarts', async () => {
      const tempfail = await submit(restarts('exit 75'), { retry: { exit_codes: [75] } });
      expect(await waitForState(api.t, tempfail, ENDED)).toMatchObject({ state: 'COMPLETED', attempt: 2 });
      expect(await output(tempfail, 1)).toBe('restart 0 mem 1024\n');
      expect(await output(tempfail, 2)).toBe('restart 1 mem 1024\n');
      expect((await retryEvents(tempfail)).map((e) => e.reason)).toEqual([
        'exit status 75: retried (exit code 75) as attempt 2 of 6',
      ]);
      const always = await submit('echo "restart $SLURM_RESTART_COUNT"; exit 75', {
        retry: { exit_codes: [75], max_attempts: 3 },
      });
      const job = await waitForState(api.t, always, ENDED);
      expect(job).toMatchObject({ state: 'FAILED', attempt: 3, exit_code: { status: 75, signal: null } });
      expect(await output(always, 3)).toBe('restart 2\n');
      expect(await retryEvents(always)).toHaveLength(2);
    });

    it('a time limit is retried when asked', async () => {
      const id = await submit(restarts('exec sleep 600'), { time_limit: '0:02', retry: { on: ['timeout'] } });
      expect(await waitForState(api.t, id, ENDED)).toMatchObject({ state: 'COMPLETED', attempt: 2 });
      expect((await retryEvents(id)).map((e) => e.reason)).toEqual([
        'time limit of 2 s reached: retried (timeout) as attempt 2 of 6',
      ]);
    });

    it('an OOM with oom_memory_factor: the second attempt asks for more memory, and fits', async () => {
      const id = await submit(
        `echo "restart $SLURM_RESTART_COUNT mem $SLURM_MEM_PER_NODE"
python3 -c "a = bytearray(150 * 1024 * 1024); import time; time.sleep(1)"`,
        { memory_per_node: '100M', retry: { on: ['oom'], oom_memory_factor: 2 } },
      );
      const job = await waitForState(api.t, id, ENDED, 30_000);
      expect(job).toMatchObject({ state: 'COMPLETED', attempt: 2, memory_per_node: '200M' });
      // Then bash's own line for its child the memory limit killed.
      expect(await output(id, 1)).toMatch(/^restart 0 mem 100\n/);
      expect(await output(id, 2)).toBe('restart 1 mem 200\n');
      expect((await retryEvents(id)).map((e) => e.reason)).toEqual([
        'used more than its 100 MB of memory: retried (oom) as attempt 2 of 6, with 200 MB of memory (was 100 MB)',
      ]);
    });

    it('a backoff waits (reason BeginTime) until the reconciler finds its time come, then runs', async () => {
      const id = await submit(restarts('exit 75'), { retry: { exit_codes: [75], backoff_seconds: 1 } });
      // The reconciler has not run: the job waits out of the queue whatever the time.
      const retried = await waitFor('the retry', async () => {
        const job = await getJob(api.t, id);
        return job.state === 'PENDING' && job.attempt === 1 ? job : undefined;
      });
      expect(retried).toMatchObject({ reason: 'BeginTime' });
      await waitFor('the backoff ends', async () => ((await reconcile()).begun > 0 ? true : undefined));
      expect(await waitForState(api.t, id, ENDED)).toMatchObject({ state: 'COMPLETED', attempt: 2 });
    });

    it('requeue false: an exit code, a time limit, nothing is retried', async () => {
      const id = await submit(restarts('exec sleep 600'), { time_limit: '0:02', requeue: false });
      expect(await waitForState(api.t, id, ENDED)).toMatchObject({ state: 'TIMEOUT', attempt: 1 });
    });
  });
});
