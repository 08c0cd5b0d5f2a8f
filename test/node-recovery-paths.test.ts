/**
 * The daemon's less travelled recovery paths, with real processes: a confirm whose answer was lost in a crash, a run
 * confirmed but never started, a kill cut short by a crash, the heartbeat's `stop` list, and a drained node. Where
 * what the daemon sends is the point, it talks to the API through a small recording proxy of this file's own, which
 * can also refuse requests or swallow an answer after the API has applied the request.
 */
import { sql } from 'drizzle-orm';
import { Agent, createServer, request, type ServerResponse } from 'node:http';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Reconciler } from '../api/reconciler.js';
import { groupAlive } from '../worker-node/job-process.js';
import { Journal } from '../worker-node/journal.js';
import type { KillReason } from '../worker-node/job-ending.js';
import type { NodeJob } from '../shared/protocol/confirm.js';
import type { NodeEvent } from '../shared/protocol/events.js';
import { processStartTime } from '../worker-node/process-table.js';
import { runKey, type RunRecord } from '../worker-node/run-record.js';
import {
  ENDED,
  getJob,
  processTree,
  sleep,
  startTestApi,
  testNodes,
  treePids,
  waitFor,
  waitForState,
  type TestApi,
  type TestNodes,
} from './helpers/test-node.js';

const TEST_TIMEOUT_MS = 60_000;

type Fault = 'pass' | 'refuse' | 'hold';

interface RecordingProxy {
  url: string;
  /** Every request that reached the proxy, in order: its path and its JSON body. */
  requests: { path: string; body: unknown }[];
  /** What to do with a request: pass it on; refuse it (503, the API never sees it); or pass it on and never answer. */
  fault: (path: string) => Fault;
  /** How many answers were swallowed. */
  held: number;
  close(): Promise<void>;
}

/** An HTTP proxy in front of the API, for the daemon: it records what the daemon sends and can fail it. */
async function startProxy(target: string): Promise<RecordingProxy> {
  const agent = new Agent({ keepAlive: false });
  const held: ServerResponse[] = [];
  const server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = incoming.url ?? '/';
      proxy.requests.push({ path, body: body.length ? JSON.parse(body.toString('utf8')) : undefined });
      const fault = proxy.fault(path);
      if (fault === 'refuse') return void response.writeHead(503, { 'Content-Type': 'text/plain' }).end('refused');
      const headers: Record<string, string> = { 'Content-Length': String(body.length) };
      for (const name of ['authorization', 'content-type', 'conductor-protocol']) {
        const value = incoming.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      const upstream = request(`${target}${path}`, { method: incoming.method, headers, agent }, (answer) => {
        const parts: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => parts.push(chunk));
        answer.on('end', () => {
          if (fault === 'hold') {
            // Applied by the API; the answer never reaches the daemon.
            held.push(response);
            proxy.held++;
            return;
          }
          const forwarded: Record<string, string> = {};
          for (const name of ['content-type', 'conductor-protocol']) {
            const value = answer.headers[name];
            if (typeof value === 'string') forwarded[name] = value;
          }
          response.writeHead(answer.statusCode ?? 502, forwarded);
          response.end(Buffer.concat(parts));
        });
      });
      upstream.on('error', () => response.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const proxy: RecordingProxy = {
    url: `http://127.0.0.1:${port}`,
    requests: [],
    fault: () => 'pass',
    held: 0,
    async close() {
      for (const response of held.splice(0)) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      agent.destroy();
    },
  };
  return proxy;
}

describe('the node daemon recovers on its rarer paths', () => {
  let api: TestApi;
  let nodes: TestNodes;
  let work: string;
  let proxy: RecordingProxy;
  const nodeNames = new Set<string>();

  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(async () => {
    await api.close();
  });
  beforeEach(async () => {
    nodes = testNodes(api);
    work = nodes.dir();
    proxy = await startProxy(api.url);
  });
  afterEach(async () => {
    // A test that failed half-way may leave a job running: daemons leave jobs running when they stop.
    for (const name of nodeNames) killLeftoverJobs(nodes.nodeDir(name));
    nodeNames.clear();
    await nodes.cleanup();
    await proxy.close();
  });

  /** Starts (or restarts) a daemon; `viaProxy` puts the recording proxy between it and the API. */
  const startNode = (name: string, env: Record<string, string>, viaProxy = false) => {
    nodeNames.add(name);
    return nodes.start(name, {
      CONDUCTOR_NODE_CPUS: '1',
      ...(viaProxy ? { CONDUCTOR_API_URL: proxy.url } : {}),
      ...env,
    });
  };

  const submit = (script: string, job: Record<string, unknown> = {}) =>
    api.t.submit({ name: 'job', current_working_directory: work, ...job }, `#!/bin/bash\n${script}`);

  /** Each job writes its id to one file when it starts: a job run twice shows twice. */
  const logStart = () => `echo $CONDUCTOR_JOB_ID >> ${work}/starts`;
  const startsLogged = () =>
    (existsSync(join(work, 'starts')) ? readFileSync(join(work, 'starts'), 'utf8') : '')
      .trim()
      .split('\n')
      .filter(Boolean);

  /**
   * The runs in a node's journal, read only: Journal.readAll() clears temporary files, and so would break a write of
   * the daemon's under way.
   */
  const readJournal = (name: string): RunRecord[] => {
    const dir = join(nodes.nodeDir(name), 'journal');
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((file) => file.endsWith('.json'))
      .flatMap((file) => {
        try {
          return [JSON.parse(readFileSync(join(dir, file), 'utf8')) as RunRecord];
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []; // forgotten meanwhile
          throw error;
        }
      });
  };

  /** What the daemon reported to the API, from the proxy's record. */
  const eventsSent = () =>
    proxy.requests
      .filter((seen) => seen.path.endsWith('/events'))
      .flatMap((seen) => (seen.body as { events: NodeEvent[] }).events);

  /** Confirms a job for a node by hand, as its daemon would have before a crash: RUNNING there as attempt 1. */
  const confirmByHand = async (node: string, id: string): Promise<NodeJob> => {
    const token = await api.t.token('node', node);
    const capacity = { partitions: ['default'], cpus: 1, memory_mb: 4096 };
    await api.t.call('POST', `/v1/nodes/${node}/heartbeat`, { token, body: capacity });
    await api.t.call('POST', `/v1/nodes/${node}/claim`, {
      token,
      body: { ...capacity, free_cpus: 1, free_memory_mb: 4096 },
    });
    const confirmed = await api.t.call('POST', `/v1/nodes/${node}/confirm`, { token, body: { job_ids: [id] } });
    const [job] = ((await confirmed.json()) as { jobs: NodeJob[] }).jobs;
    expect(job).toMatchObject({ id, attempt: 1 });
    return job!;
  };

  const alive = (pids: number[]) => pids.filter((pid) => processStartTime(pid) !== undefined);

  it(
    'a crash after the API applied a confirm whose answer never came: the restart asks again, and the job runs once',
    async () => {
      const id = await submit(`${logStart()}\nexit 0`);
      // The API applies the confirm; its answer never reaches the daemon, which dies waiting for it.
      // (Its start-up confirm, of no ids, passes: it only learns the node's confirm sequence.)
      proxy.fault = (path) =>
        path.endsWith('/confirm') && (proxy.requests.at(-1)!.body as { job_ids: string[] }).job_ids.length > 0
          ? 'hold'
          : 'pass';
      const daemon = await startNode('amnesiac', {}, true);
      await waitFor('the confirm applied and its answer swallowed', () => (proxy.held === 1 ? true : undefined));
      daemon.kill('SIGKILL');
      expect(await daemon.exited).toBe('signal SIGKILL');

      // What the crash left: the job RUNNING here with no process, the claimed ids journaled, no run journaled.
      expect(await getJob(api.t, id)).toMatchObject({ state: 'RUNNING', node: 'amnesiac', attempt: 1 });
      const confirming = readFileSync(join(nodes.nodeDir('amnesiac'), 'confirming', 'confirming.json'), 'utf8');
      expect(JSON.parse(confirming)).toEqual([Number(id)]);
      expect(readJournal('amnesiac')).toEqual([]);
      expect(startsLogged()).toEqual([]);

      proxy.fault = () => 'pass';
      const again = await startNode('amnesiac', {}, true);
      expect(await waitForState(api.t, id, ENDED)).toMatchObject({
        state: 'COMPLETED',
        attempt: 1,
        exit_code: { status: 0, signal: null },
      });
      expect(startsLogged()).toEqual([id]);
      expect(again.stdout().join('\n')).toContain('0 run(s) from the journal');
    },
    TEST_TIMEOUT_MS,
  );

  // The launch at start-up must keep the process alive until its wrapper says the pid (nothing else holds the event
  // loop yet): a daemon that exited there, silently, left the run unreported until its next start.
  it.each([
    ['before its run directory was made', false],
    ['after its script was written, before its wrapper said its pid', true],
  ])(
    'a run journaled but never started (crash %s): the restart starts it, once',
    async (_when, scriptWritten) => {
      const name = scriptWritten ? 'unstarted-script' : 'unstarted';
      const id = await submit(`${logStart()}\necho ran\nexit 0`);
      const job = await confirmByHand(name, id);
      const record: RunRecord = {
        job,
        jobId: Number(id),
        attempt: 1,
        dir: join(nodes.nodeDir(name), 'runs', `${id}-1`),
        slots: [0],
        cpuIds: [0],
        outputBase: { stdout: 0, stderr: 0 },
        outbox: [],
      };
      await new Journal<RunRecord>(join(nodes.nodeDir(name), 'journal')).write(runKey(record), record);
      if (scriptWritten) {
        await mkdir(record.dir, { recursive: true });
        await writeFile(join(record.dir, 'script.sh'), job.script, { mode: 0o700 });
      }

      try {
        const daemon = await startNode(name, {});
        expect(await waitForState(api.t, id, ENDED)).toMatchObject({
          state: 'COMPLETED',
          attempt: 1,
          node: name,
          exit_code: { status: 0, signal: null },
        });
        expect(startsLogged()).toEqual([id]);
        const log = daemon.stdout().join('\n');
        expect(log).toContain('1 run(s) from the journal');
        expect(log).toContain(`job ${id}: confirmed but never started before the restart; starting it now`);
        // Reported and forgotten: nothing of it is left to resume at the next start.
        await waitFor('the run forgotten', () => (readJournal(name).length === 0 ? true : undefined));
      } finally {
        // A daemon that died launching it leaves the job to its wrapper: let that finish before the directory goes.
        await waitFor('the run settled or forgotten', () =>
          !existsSync(record.dir) || existsSync(join(record.dir, 'status')) ? true : undefined,
        ).catch(() => {});
      }
    },
    TEST_TIMEOUT_MS,
  );

  it.each<[KillReason, string]>([
    ['TIMEOUT', 'time limit of 1 s reached'],
    ['CANCELLED', 'cancelled'],
  ])(
    'a kill (%s) cut short by a crash goes on after the restart: the job ends so and its process group is gone',
    async (reason, errorMsg) => {
      const name = `killer-${reason.toLowerCase()}`;
      // A long grace period, and a job that ignores SIGTERM: the kill is still waiting to SIGKILL when the daemon dies.
      const daemon = await startNode(name, { CONDUCTOR_KILL_GRACE_SECONDS: '120' });
      const id = await submit(processTree(true), reason === 'TIMEOUT' ? { time_limit: '0:01' } : {});
      const pids = await treePids(work, id);
      if (reason === 'CANCELLED') expect((await api.t.call('POST', `/v1/jobs/${id}/cancel`)).status).toBe(200);
      const [record] = await waitFor(`the ${reason} kill journaled`, () => {
        const records = readJournal(name);
        return records[0]?.kill === reason ? records : undefined;
      });
      await waitFor('the kill under way', () =>
        daemon.stdout().join('\n').includes(`job ${id}: ending it (${reason})`) ? true : undefined,
      );
      daemon.kill('SIGKILL');
      expect(await daemon.exited).toBe('signal SIGKILL');
      // A window for what must not happen (the tree ending); a busy machine only makes it see less.
      await sleep(300);
      // The SIGTERM did nothing, the SIGKILL never came: the whole tree still runs, and the API still says RUNNING.
      expect(alive(pids)).toEqual(pids);
      expect(groupAlive(record!.pid!)).toBe(true);
      expect((await getJob(api.t, id)).state).toBe('RUNNING');

      const again = await startNode(name, {});
      const ended = await waitForState(api.t, id, ENDED);
      expect(ended).toMatchObject({
        state: reason,
        attempt: 1,
        exit_code: { status: null, signal: 9 },
        error_msg: errorMsg,
      });
      expect(alive(pids)).toEqual([]);
      expect(groupAlive(record!.pid!)).toBe(false);
      expect(again.stdout().join('\n')).toContain(`job ${id}: re-adopted (pid ${record!.pid})`);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "the heartbeat's stop list: a run the API settled while the node was DOWN is killed and not reported",
    async () => {
      const name = 'outvoted';
      const daemon = await startNode(name, { CONDUCTOR_HEARTBEAT_SECONDS: '0.1' }, true);
      // Not retried (a lost node's run is, by default): it stays NODE_FAIL for the node to be told to stop it.
      const id = await submit(processTree(), { requeue: false });
      const pids = await treePids(work, id);
      await waitFor(`job ${id}'s start reported`, () =>
        eventsSent().some((event) => event.kind === 'started' && event.job_id === id) ? true : undefined,
      );

      // The node falls silent; the reconciler marks it DOWN and ends its job NODE_FAIL.
      // Silent by the database's clock once a heartbeat was refused (the one before it has been answered: the daemon
      // sends them one at a time): its last one is put an hour back instead of waiting for the silence to pass.
      const heartbeats = () => proxy.requests.filter((seen) => seen.path.endsWith('/heartbeat')).length;
      const beforeRefusing = heartbeats();
      proxy.fault = (path) => (path.endsWith('/heartbeat') ? 'refuse' : 'pass');
      await waitFor('a heartbeat refused', () => (heartbeats() > beforeRefusing ? true : undefined));
      await api.t.database.db.execute(
        sql`UPDATE nodes SET last_heartbeat = now() - interval '1 hour', lease_expires_at = now() - interval '1 ms' WHERE name = ${name}`,
      );
      const { nodesDown } = await new Reconciler(api.t.queue).run(api.t.database.db);
      expect(nodesDown).toContain(name);
      expect((await getJob(api.t, id)).state).toBe('NODE_FAIL');
      expect(alive(pids)).toEqual(pids);

      // It speaks again: the API tells it to stop the run, which is no longer its own.
      proxy.fault = () => 'pass';
      await waitFor('the daemon to stop the run', () =>
        daemon.stdout().join('\n').includes(`job ${id}: ending it (STOPPED)`) ? true : undefined,
      );
      await waitFor('the process tree gone', () => (alive(pids).length === 0 ? true : undefined), 10_000);
      // Forgotten only once its events are acknowledged: whatever it was going to send has been sent.
      await waitFor('the run forgotten', () =>
        readJournal(name).length === 0 && !existsSync(join(nodes.nodeDir(name), 'runs', `${id}-1`)) ? true : undefined,
      );
      expect(eventsSent().filter((event) => event.kind === 'finished')).toEqual([]);
      expect(await getJob(api.t, id)).toMatchObject({ state: 'NODE_FAIL', attempt: 1 });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a run its node no longer has (confirmed, then its journal lost): the next heartbeat settles it FAILED',
    async () => {
      const name = 'forgetful';
      const lost = await submit(`${logStart()}\nexit 0`);
      // RUNNING on the node, which never journals it: as if its journal and its confirm's ids were wiped.
      await confirmByHand(name, lost);
      await startNode(name, { CONDUCTOR_HEARTBEAT_SECONDS: '0.1' }, true);
      expect(await waitForState(api.t, lost, ENDED)).toMatchObject({
        state: 'FAILED',
        node: name,
        attempt: 1,
        error_msg: `node ${name} no longer has this run (its heartbeat does not list it): the run was lost there`,
      });
      // Its start-up confirm (an empty batch) told the daemon the sequence it now says in its heartbeats.
      const confirms = proxy.requests.filter((seen) => seen.path.endsWith('/confirm'));
      expect(confirms[0]!.body).toEqual({ job_ids: [] });
      expect(
        proxy.requests.some(
          (seen) => seen.path.endsWith('/heartbeat') && (seen.body as { confirmed_through?: number }).confirmed_through,
        ),
      ).toBe(true);
      // Work confirmed to it afterwards runs, once, whatever heartbeat crosses its confirm.
      const next = await submit(`${logStart()}\nexit 0`);
      expect(await waitForState(api.t, next, ENDED)).toMatchObject({ state: 'COMPLETED', node: name, attempt: 1 });
      expect(startsLogged()).toEqual([next]);
    },
    TEST_TIMEOUT_MS,
  );

  // Forgetting a run also forgets its shipped-output offsets, in a journal that has no directory until some run on
  // the node had output stored: a run that printed nothing must be forgotten all the same.
  it(
    'a run whose job wrote no output is forgotten once its end is acknowledged',
    async () => {
      const name = 'silent';
      const daemon = await startNode(name, {});
      const id = await submit('exit 0');
      expect(await waitForState(api.t, id, ENDED)).toMatchObject({ state: 'COMPLETED', node: name });
      await waitFor(
        'the run forgotten',
        () =>
          readJournal(name).length === 0 && !existsSync(join(nodes.nodeDir(name), 'runs', `${id}-1`))
            ? true
            : undefined,
        5000,
      );
      expect(daemon.stdout().join('\n')).not.toContain('events not delivered');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a drained node claims nothing: a job submitted after the drain waits PENDING, and starts after the resume',
    async () => {
      const name = 'drained';
      const daemon = await startNode(name, { CONDUCTOR_HEARTBEAT_SECONDS: '0.1' }, true);
      const log = () => daemon.stdout().join('\n');
      await waitFor('the node UP', () => (log().includes(`node ${name} is UP`) ? true : undefined));
      await waitFor('a claim', () => (proxy.requests.some((seen) => seen.path.endsWith('/claim')) ? true : undefined));

      const drained = await api.t.call('POST', `/v1/nodes/${name}/drain`);
      expect(drained.status).toBe(200);
      expect(await drained.json()).toMatchObject({ state: 'DRAINING' });
      await waitFor('the daemon to see the drain', () =>
        log().includes(`node ${name} is DRAINING`) ? true : undefined,
      );
      // Windows counted in the daemon's own heartbeats (an idle one beats every 1 s of its own time: ten times
      // CONDUCTOR_HEARTBEAT_SECONDS), not in the test's time: a busy machine slows the daemon's loops alike. A claim
      // already on its way when the heartbeat answered may still arrive: count from the next heartbeat on.
      const heartbeats = () => proxy.requests.filter((seen) => seen.path.endsWith('/heartbeat')).length;
      const heartbeatsGoBy = async (count: number) => {
        const from = heartbeats();
        await waitFor(`${count} heartbeats`, () => (heartbeats() >= from + count ? true : undefined));
      };
      await heartbeatsGoBy(1);
      const claims = () => proxy.requests.filter((seen) => seen.path.endsWith('/claim')).length;
      const claimsWhileDrained = claims();

      const id = await submit(`${logStart()}\nexit 0`);
      // An idle daemon claims every 0.3 s at most (CONDUCTOR_CLAIM_IDLE_MAX_SECONDS): several chances to claim.
      await heartbeatsGoBy(1);
      expect(await getJob(api.t, id)).toMatchObject({ state: 'PENDING', node: null });
      expect(claims()).toBe(claimsWhileDrained);
      expect(startsLogged()).toEqual([]);

      expect((await api.t.call('POST', `/v1/nodes/${name}/resume`)).status).toBe(200);
      expect(await waitForState(api.t, id, ENDED)).toMatchObject({ state: 'COMPLETED', node: name, attempt: 1 });
      expect(claims()).toBeGreaterThan(claimsWhileDrained);
      expect(startsLogged()).toEqual([id]);
    },
    TEST_TIMEOUT_MS,
  );
});

/** Ends the process groups of a node's jobs that still run, named by the pid files their wrappers wrote. */
function killLeftoverJobs(nodeDir: string): void {
  const runs = join(nodeDir, 'runs');
  if (!existsSync(runs)) return;
  for (const run of readdirSync(runs)) {
    let pid: number, startTime: number;
    try {
      [pid, startTime] = readFileSync(join(runs, run, 'pid'), 'utf8')
        .trim()
        .split(' ')
        .map(Number) as [number, number];
    } catch {
      continue;
    }
    if (processStartTime(pid) !== startTime) continue;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
}
