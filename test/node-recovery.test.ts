/**
 * Faults around the node daemon, with real processes: kill -9 of the daemon while jobs run, the API away while jobs
 * end, a journal that names a pid now used by another process, a graceful stop, and two daemons on one machine.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { processStartTime } from '../worker-node/process-table.js';
import { Journal } from '../worker-node/journal.js';
import type { NodeJob } from '../shared/protocol/confirm.js';
import { runKey, type RunRecord } from '../worker-node/run-record.js';
import { DAEMON_LOST_WRAPPER_MESSAGE } from '../worker-node/job-ending.js';
import {
  ENDED,
  getJob,
  startTestApi,
  testNodes,
  waitFor,
  waitForState,
  type TestApi,
  type TestNodes,
} from './helpers/test-node.js';

describe('the node daemon survives faults', () => {
  let api: TestApi;
  let nodes: TestNodes;
  let work: string;

  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(async () => {
    await api.close();
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
  /** Each job writes its id to one file when it starts: a job run twice shows twice. */
  const startsLogged = () =>
    (existsSync(join(work, 'starts')) ? readFileSync(join(work, 'starts'), 'utf8') : '')
      .trim()
      .split('\n')
      .filter(Boolean)
      .sort();

  /** A job that runs until the test makes file `end-<name>` in the work directory. */
  const untilEnd = (name: string) => `while [ ! -e ${work}/end-${name} ]; do sleep 0.05; done`;
  const end = (name: string) => writeFileSync(join(work, `end-${name}`), '');

  /** Run `id` (attempt 1) of node `node` has ended: its launcher wrote its exit status, daemon or not. */
  const runEnded = (node: string, id: string) =>
    waitFor(`job ${id}'s exit status on ${node}`, () =>
      existsSync(join(nodes.nodeDir(node), 'runs', `${id}-1`, 'status')) ? true : undefined,
    );

  const waitForStartReported = (id: string) =>
    waitFor(`job ${id}'s start reported`, async () => {
      const { events } = (await (await api.t.call('GET', `/v1/jobs/${id}/events`)).json()) as {
        events: { reason: string | null }[];
      };
      return events.some((event) => event.reason?.startsWith('process ')) ? true : undefined;
    });

  it('kill -9 of the daemon while 5 jobs run: a restart re-adopts them, settles the ones that ended meanwhile, runs none twice', async () => {
    const env = { CONDUCTOR_NODE_CPUS: '2', CONDUCTOR_NODE_OVERSUBSCRIBE: '4' };
    const daemon = await nodes.start('crashy', env);
    // Two end while the daemon is away, three outlive it; each with its own exit status. Each ends when the test
    // says (a file appears), not after a time: on a busy machine a timed job ends too early or too late.
    const plan = [
      { until: 'away', exit: 0 },
      { until: 'away', exit: 3 },
      { until: 'back', exit: 0 },
      { until: 'back', exit: 4 },
      { until: 'back', exit: 0 },
    ];
    const ids: string[] = [];
    for (const { until, exit } of plan) {
      ids.push(
        await submit(`echo $CONDUCTOR_JOB_ID >> ${work}/starts\n${untilEnd(until)}\nexit ${exit}`, {
          memory_per_node: '100M',
        }),
      );
    }
    await waitFor('5 jobs started', () => (startsLogged().length === 5 ? true : undefined));
    await Promise.all(ids.map((id) => waitForStartReported(id)));

    daemon.kill('SIGKILL');
    expect(await daemon.exited).toBe('signal SIGKILL');
    // The first two end meanwhile.
    end('away');
    await Promise.all(ids.slice(0, 2).map((id) => runEnded('crashy', id)));

    const again = await nodes.start('crashy', env);
    // The re-adopted runs are under the daemon's control again: a cancel reaches one.
    await waitFor('the restarted node UP', () => (again.stdout().join('\n').includes('is UP') ? true : undefined));
    await waitFor('the three left running re-adopted', () =>
      ids.slice(2).every((id) => again.stdout().join('\n').includes(`job ${id}: re-adopted`)) ? true : undefined,
    );
    expect((await api.t.call('POST', `/v1/jobs/${ids[4]}/cancel`)).status).toBe(200);
    // Killed before the others are let go: a cancel that came too late would let it end on its own.
    await runEnded('crashy', ids[4]!);
    end('back');
    const ended = await Promise.all(ids.map((id) => waitForState(api.t, id, ENDED)));
    expect(ended.map((job) => [job.state, job.exit_code?.status, job.attempt])).toEqual([
      ...plan.slice(0, 4).map(({ exit }) => [exit === 0 ? 'COMPLETED' : 'FAILED', exit, 1]),
      ['CANCELLED', null, 1],
    ]);
    expect(startsLogged()).toEqual([...ids].sort());
    const log = again.stdout().join('\n');
    expect(log).toContain('5 run(s) from the journal');
    for (const id of ids.slice(0, 2)) expect(log).toContain(`job ${id}: ended while the daemon was away`);
    for (const id of ids.slice(2)) expect(log).toContain(`job ${id}: re-adopted`);
  });

  it('the API away while jobs end: their ends arrive once it is back', async () => {
    const daemon = await nodes.start('patient', { CONDUCTOR_NODE_CPUS: '2' });
    const ids = [await submit(`${untilEnd('away')}\nexit 0`), await submit(`${untilEnd('away')}\nexit 7`)];
    // Both really running (their starts reported), so that both end while the API is away.
    await Promise.all(ids.map((id) => waitForStartReported(id)));
    await api.pause();
    end('away');
    // Both ended, and the daemon has tried to report it and failed.
    await Promise.all(ids.map((id) => runEnded('patient', id)));
    await waitFor('a report refused', () =>
      daemon.stdout().join('\n').includes('events not delivered') ? true : undefined,
    );
    await api.resume();
    const ended = await Promise.all(ids.map((id) => waitForState(api.t, id, ENDED)));
    expect(ended.map((job) => [job.state, job.exit_code?.status])).toEqual([
      ['COMPLETED', 0],
      ['FAILED', 7],
    ]);
    // The daemon says so once the answer is in: maybe a moment after the API has applied them.
    await waitFor('the daemon to see its events delivered', () =>
      daemon.stdout().join('\n').includes('events delivered again') ? true : undefined,
    );
    expect(daemon.stdout().join('\n')).toContain('events not delivered, retrying');
  });

  it('a journal entry whose pid now names an unrelated process is not adopted, and that process is left alone', async () => {
    // A job RUNNING on the node as attempt 1, as the daemon would have confirmed it before its crash.
    // Not retried (a run lost while its daemon was down is the node's failure, retried by default): its end stands.
    const id = await submit('sleep 600', { requeue: false });
    const token = await api.t.token('node', 'reused');
    const capacity = { partitions: ['default'], cpus: 1, memory_mb: 4096 };
    await api.t.call('POST', '/v1/nodes/reused/heartbeat', { token, body: capacity });
    await api.t.call('POST', '/v1/nodes/reused/claim', {
      token,
      body: { ...capacity, free_cpus: 1, free_memory_mb: 4096 },
    });
    const confirmed = await api.t.call('POST', '/v1/nodes/reused/confirm', { token, body: { job_ids: [id] } });
    const [job] = ((await confirmed.json()) as { jobs: NodeJob[] }).jobs;
    expect(job?.id).toBe(id);

    // The pid the journal names is now another process's: same number, another start time.
    const stranger = spawn('sleep', ['600'], { detached: true, stdio: 'ignore' });
    try {
      const pid = stranger.pid!;
      const startTime = await waitFor('the stranger to start', () => processStartTime(pid));
      const record: RunRecord = {
        job: job!,
        jobId: Number(id),
        attempt: 1,
        dir: join(nodes.nodeDir('reused'), 'runs', `${id}-1`),
        slots: [0],
        cpuIds: [0],
        outputBase: { stdout: 0, stderr: 0 },
        pid,
        startTime: startTime - 1,
        startedAt: Date.now(),
        outbox: [],
      };
      await new Journal<RunRecord>(join(nodes.nodeDir('reused'), 'journal')).write(runKey(record), record);

      const daemon = await nodes.start('reused', { CONDUCTOR_NODE_CPUS: '1' });
      const ended = await waitForState(api.t, id, ENDED);
      expect(ended).toMatchObject({ state: 'NODE_FAIL', error_msg: DAEMON_LOST_WRAPPER_MESSAGE });
      expect(daemon.stdout().join('\n')).not.toContain('re-adopted');
      expect(processStartTime(pid)).toBe(startTime);
    } finally {
      stranger.kill('SIGKILL');
    }
  });

  it('SIGTERM stops claiming and leaves jobs running; the next start re-adopts and settles them', async () => {
    const daemon = await nodes.start('gentle', { CONDUCTOR_NODE_CPUS: '1' });
    const running = await submit(`echo $CONDUCTOR_JOB_ID >> ${work}/starts\n${untilEnd('gentle')}`);
    await waitForState(api.t, running, ['RUNNING']);
    expect(await daemon.stop()).toBe('code 0');
    expect(daemon.stdout().join('\n')).toContain('1 job(s) left running');
    // Nothing claims now: a new job waits.
    const waiting = await submit(`echo $CONDUCTOR_JOB_ID >> ${work}/starts`);
    expect((await getJob(api.t, waiting)).state).toBe('PENDING');
    expect((await getJob(api.t, running)).state).toBe('RUNNING');

    await nodes.start('gentle', { CONDUCTOR_NODE_CPUS: '1' });
    end('gentle');
    expect(await waitForState(api.t, running, ENDED)).toMatchObject({ state: 'COMPLETED', attempt: 1 });
    expect(await waitForState(api.t, waiting, ENDED)).toMatchObject({ state: 'COMPLETED', attempt: 1 });
    expect(startsLogged()).toEqual([running, waiting].sort());
  });

  it('two daemons on one machine never share a core, and a third finds none free', async () => {
    await nodes.start('left', { CONDUCTOR_NODE_CPUS: '1' });
    await nodes.start('right', { CONDUCTOR_NODE_CPUS: '1' });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await submit('grep Cpus_allowed_list /proc/self/status; sleep 1'));
    const jobs = await Promise.all(ids.map((id) => waitForState(api.t, id, ENDED)));
    const coresOf = (node: string) =>
      new Set(
        jobs
          .filter((job) => job.node === node)
          .map(
            (job) =>
              readFileSync(join(work, `slurm-${job.id}.out`), 'utf8')
                .trim()
                .split('\t')[1],
          ),
      );
    const [left, right] = [coresOf('left'), coresOf('right')];
    expect(left.size).toBe(1);
    expect(right.size).toBe(1);
    expect([...left][0]).not.toBe([...right][0]);

    await expect(nodes.start('third', { CONDUCTOR_NODE_CPUS: '1' })).rejects.toThrow(
      /1 cores wanted, 0 free on this machine \(the others are held by left, right\)/,
    );
    await expect(nodes.start('left', { CONDUCTOR_NODE_CPUS: '1' })).rejects.toThrow(
      /node left already runs on this machine/,
    );
  });

  it("a crashed daemon's cores stay its own while its jobs run: another daemon may not take them", async () => {
    const first = await nodes.start('fallen', { CONDUCTOR_NODE_CPUS: '2' });
    const id = await submit('sleep 3');
    await waitForStartReported(id);
    first.kill('SIGKILL');
    await first.exited;
    await expect(nodes.start('usurper', { CONDUCTOR_NODE_CPUS: '2' })).rejects.toThrow(/held by fallen/);
    // Once its job has ended, nothing runs on them: they are free.
    await waitFor('the job to end', () =>
      existsSync(join(nodes.nodeDir('fallen'), 'runs', `${id}-1`, 'status')) ? true : undefined,
    );
    await nodes.start('usurper', { CONDUCTOR_NODE_CPUS: '2' });
  });
});
