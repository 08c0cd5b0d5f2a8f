/**
 * Two owners' jobs on one root daemon (issue 12, items 4 and 9): Bob's job tries each way into Alice's job and into
 * the node, and each fails, while Alice's job runs on untouched. The same read probes, run by a root job (the
 * protection removed: the job not switched to its owner), succeed: that shows each probe can see a breach.
 * Skipped, with the reason printed, when the run is not root (CI runs as root).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildServer } from './helpers/child-server.js';
import { startTestApi, testNodes, waitFor, waitForState, type TestApi, type TestNodes } from './helpers/test-node.js';
import { chownTo, unixUsers, type UnixUser } from './helpers/unix-users.js';

const users = unixUsers('tenancy-probes');

/** Each probe prints `<name> refused` or `<name> BREACH`; they read, never change anything. */
const READ_PROBES = [
  'probe() { local name=$1; shift; if "$@" >/dev/null 2>&1; then echo "$name BREACH"; else echo "$name refused"; fi; }',
  'probe daemon-environ cat /proc/$DAEMON_PID/environ',
  'probe api-environ cat /proc/$API_PID/environ',
  'probe journal-list ls $NODE_DIR/journal',
  'probe journal-read cat $NODE_DIR/journal/$A_KEY.json',
  'probe run-script cat $NODE_DIR/runs/$A_KEY/script.sh',
  'probe run-pid-file cat $NODE_DIR/runs/$A_KEY/pid',
  'probe a-script-fd cat /proc/$A_PID/fd/3',
  'probe a-environ cat /proc/$A_PID/environ',
  'probe a-output-read cat $A_OUT',
  'probe log-store-list ls $LOG_DIR',
  'probe core-locks-list ls $CORE_DIR',
];

/** What changes things: appending to A's output, writing to the log store, killing A, and every process it may. */
const WRITE_PROBES = [
  'probe a-output-append sh -c "echo forged >> $A_OUT"',
  'probe log-store-write sh -c "echo forged > $LOG_DIR/forged"',
  'probe kill-a kill -KILL $A_PID',
  // As an ordinary user, kill(2) of -1 reaches only its own processes (none but this shell, which it spares).
  'kill -KILL -1; echo kill-all done',
];

describe.skipIf(!users)("one owner's job cannot reach another's, nor the node's secrets", () => {
  const { a: alice, b: bob } = users!;
  let api: TestApi;
  let nodes: TestNodes;
  let daemon: ChildServer;
  let nodeDir: string;
  let aliceWork: string;
  let bobWork: string;
  let aliceJob: string;
  let alicePid: number;
  let coreDir: string;

  const workOf = (user: UnixUser) => {
    const dir = join(user.home, 'probes');
    mkdirSync(dir, { recursive: true });
    chownTo(dir, user);
    return dir;
  };

  beforeAll(async () => {
    api = await startTestApi();
    nodes = testNodes(api);
    nodeDir = nodes.nodeDir('tp1');
    coreDir = join(nodes.dir(), 'cores');
    daemon = await nodes.start('tp1', {
      CONDUCTOR_CORE_LOCK_DIR: coreDir,
      CONDUCTOR_NODE_CPUS: '2',
      CONDUCTOR_NODE_OVERSUBSCRIBE: '2',
      DAEMON_SECRET: 'daemon-secret-that-no-job-may-see',
    });
    aliceWork = workOf(alice);
    bobWork = workOf(bob);
    // Alice's job runs until the test lets it end, with a secret of its own in its environment.
    aliceJob = await api.t.submit(
      {
        name: 'alice',
        user: alice.name,
        current_working_directory: aliceWork,
        environment: { ALICE_SECRET: 'alice-secret' },
      },
      '#!/bin/bash\necho $$ > a.pid\necho alive\nwhile [ ! -e stop ]; do sleep 0.05; done\necho done',
    );
    await waitForState(api.t, aliceJob, ['RUNNING']);
    alicePid = await waitFor("alice's pid", () => {
      try {
        const pid = Number(readFileSync(join(aliceWork, 'a.pid'), 'utf8'));
        return pid > 0 ? pid : undefined;
      } catch {
        return undefined;
      }
    });
  });
  afterAll(async () => {
    if (aliceWork) writeFileSync(join(aliceWork, 'stop'), '');
    if (aliceJob) await waitForState(api.t, aliceJob, ['COMPLETED', 'FAILED', 'CANCELLED']).catch(() => undefined);
    await nodes?.cleanup();
    await api?.close();
  });

  /** Runs the probes as a job (of `user`, or naming none: as root) and answers each probe's word. */
  async function probe(user: string | undefined, probes: string[]): Promise<Record<string, string>> {
    const environment = {
      DAEMON_PID: String(daemon.pid),
      API_PID: String(process.pid),
      NODE_DIR: nodeDir,
      A_KEY: `${aliceJob}-1`,
      A_PID: String(alicePid),
      A_OUT: join(aliceWork, `slurm-${aliceJob}.out`),
      LOG_DIR: api.logDir,
      CORE_DIR: coreDir,
    };
    const id = await api.t.submit(
      { name: 'probe', ...(user ? { user } : {}), current_working_directory: bobWork, environment },
      `#!/bin/bash\n${probes.join('\n')}`,
    );
    const job = await waitForState(api.t, id, ['COMPLETED', 'FAILED']);
    const out = readFileSync(join(bobWork, `slurm-${id}.out`), 'utf8');
    expect(job.state, out).toBe('COMPLETED');
    return Object.fromEntries(
      out
        .trim()
        .split('\n')
        .map((line) => line.split(' ') as [string, string]),
    );
  }

  it("refuses every probe of Bob's job, and leaves Alice's job and the daemon running", async () => {
    const seen = await probe(bob.name, [...READ_PROBES, ...WRITE_PROBES]);
    expect(seen).toEqual({
      'daemon-environ': 'refused',
      'api-environ': 'refused',
      'journal-list': 'refused',
      'journal-read': 'refused',
      'run-script': 'refused',
      'run-pid-file': 'refused',
      'a-script-fd': 'refused',
      'a-environ': 'refused',
      'a-output-read': 'refused',
      'log-store-list': 'refused',
      'core-locks-list': 'refused',
      'a-output-append': 'refused',
      'log-store-write': 'refused',
      'kill-a': 'refused',
      'kill-all': 'done',
    });
    // kill -KILL -1 reached neither the daemon nor Alice's job.
    expect(() => process.kill(daemon.pid, 0)).not.toThrow();
    expect(() => process.kill(alicePid, 0)).not.toThrow();
    expect((await api.t.call('GET', `/v1/jobs/${aliceJob}`)).status).toBe(200);
    writeFileSync(join(aliceWork, 'stop'), '');
    await waitForState(api.t, aliceJob, ['COMPLETED']);
    expect(readFileSync(join(aliceWork, `slurm-${aliceJob}.out`), 'utf8')).toBe('alive\ndone\n');
  });

  it('sees a breach in each read probe when the job runs as root (the protection removed)', async () => {
    // Alice's job is done by now: the probes that need her running process are run against the daemon's instead.
    const seen = await probe(
      undefined,
      READ_PROBES.map((line) => line.replaceAll('$A_PID', '$DAEMON_PID')),
    );
    expect(seen).toMatchObject({
      'daemon-environ': 'BREACH',
      'api-environ': 'BREACH',
      'journal-list': 'BREACH',
      'a-environ': 'BREACH',
      'a-output-read': 'BREACH',
      'log-store-list': 'BREACH',
      'core-locks-list': 'BREACH',
    });
  });
});
