/**
 * A root node daemon runs each job as its owner (issue 12, item 2), with real Unix users (test/unix-users-setup.ts)
 * and a real daemon: the job's uid, groups and umask are its owner's, its files are the owner's, its script cannot be
 * read through the run directory; an owner unknown on the node, or below its minimum uid, ends the job FAILED with the
 * reason, once. A daemon that is not root runs in single-user mode, and says so in its heartbeat's `runs_as`.
 * Skipped, with the reason printed, when the run is not root (CI runs as root).
 */
import { chmodSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildServer } from './helpers/child-server.js';
import { startTestApi, testNodes, waitFor, waitForState, type TestApi, type TestNodes } from './helpers/test-node.js';
import { chownTo, unixUsers } from './helpers/unix-users.js';

const users = unixUsers('run-as-owner');

describe.skipIf(!users)('a root daemon runs each job as its owner', () => {
  const { a: alice, group } = users!;
  let api: TestApi;
  let nodes: TestNodes;
  let daemon: ChildServer;
  let nodeDir: string;
  let work: string;

  beforeAll(async () => {
    api = await startTestApi();
    nodes = testNodes(api);
    nodeDir = nodes.nodeDir('ro1');
    daemon = await nodes.start('ro1', { CONDUCTOR_NODE_CPUS: '2', CONDUCTOR_ALLOW_ROOT_JOBS: 'false' });
    work = join(alice.home, 'work');
    mkdirSync(work, { recursive: true });
    chownTo(work, alice);
  });
  afterAll(async () => {
    await nodes?.cleanup();
    await api?.close();
  });

  const submit = (script: string, job: Record<string, unknown> = {}) =>
    api.t.submit(
      { name: 'owned', user: alice.name, current_working_directory: work, ...job },
      `#!/bin/bash\n${script}`,
    );

  it('says at start-up that jobs run as their owners, and tells the API it runs any user but no root jobs', async () => {
    expect(daemon.stdout().join('\n')).toMatch(/jobs run as their owners \(uid 1000 or above\)/);
    const node = await waitFor('node ro1 in /v1/nodes', async () => {
      const { nodes: list } = await (await api.t.call('GET', '/v1/nodes')).json();
      return list.find((n: { name: string }) => n.name === 'ro1');
    });
    expect(node.runs_as).toEqual({ any_user: true, users: [], unnamed: false });
  });

  it("keeps the node's own directories 0700 (its own and its work directory only passable, 0711)", () => {
    const modes = Object.fromEntries(
      ['.', 'journal', 'runs', 'shipped', 'confirming', 'work'].map((name) => [
        name,
        statSync(join(nodeDir, name)).mode & 0o777,
      ]),
    );
    expect(modes).toEqual({ '.': 0o711, journal: 0o700, runs: 0o700, shipped: 0o700, confirming: 0o700, work: 0o711 });
  });

  it("runs as the owner: uid, groups, umask 077, files the owner's, the script unreadable through the run dir", async () => {
    const id = await submit(
      [
        'id -u; id -g; id -G; umask; whoami',
        `cat ${nodeDir}/runs/$CONDUCTOR_JOB_ID-1/script.sh >/dev/null 2>&1 && echo script-read || echo script-refused`,
        `ls ${nodeDir}/runs >/dev/null 2>&1 && echo runs-listed || echo runs-refused`,
        `ls ${nodeDir}/journal >/dev/null 2>&1 && echo journal-listed || echo journal-refused`,
        'touch made-by-job',
      ].join('\n'),
      { standard_error: 'slurm-%j.err' },
    );
    const job = await waitForState(api.t, id, ['COMPLETED', 'FAILED']);
    const out = join(work, `slurm-${id}.out`);
    expect(job, readFileSync(out, 'utf8')).toMatchObject({ state: 'COMPLETED' });
    const [uid, gid, groups, umask, name, ...rest] = readFileSync(out, 'utf8').trim().split('\n');
    expect([uid, gid, umask, name]).toEqual([String(alice.uid), String(alice.gid), '0077', alice.name]);
    expect(groups!.split(' ').map(Number).sort()).toEqual([alice.gid, group.gid].sort());
    expect(rest).toEqual(['script-refused', 'runs-refused', 'journal-refused']);
    for (const file of [out, join(work, `slurm-${id}.err`), join(work, 'made-by-job')]) {
      const found = statSync(file);
      expect({ file, uid: found.uid, gid: found.gid, mode: found.mode & 0o777 }).toEqual({
        file,
        uid: alice.uid,
        gid: alice.gid,
        mode: 0o600,
      });
    }
  });

  it("gives a job naming no working directory one of its own, made for its owner in the node's", async () => {
    const id = await api.t.submit({ name: 'homeless', user: alice.name }, '#!/bin/bash\npwd; id -u');
    await waitForState(api.t, id, ['COMPLETED']);
    const dir = join(nodeDir, 'work', id);
    expect(readFileSync(join(dir, `slurm-${id}.out`), 'utf8')).toBe(`${dir}\n${alice.uid}\n`);
    expect(statSync(dir)).toMatchObject({ uid: alice.uid, mode: expect.any(Number) });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('ends the job of an owner unknown on the node FAILED, naming the user and the node, and never retries it', async () => {
    const ghost = `${alice.name}x`;
    const id = await submit('echo must-not-run', { user: ghost });
    const job = await waitForState(api.t, id, ['COMPLETED', 'FAILED']);
    expect(job).toMatchObject({ state: 'FAILED', attempt: 1, error_msg: `cannot start on ro1: no user ${ghost} here` });
  });

  it('ends the job of an owner below the minimum uid FAILED, with the reason', async () => {
    // daemon: uid 1 on Debian, a system account that exists everywhere.
    const id = await submit('echo must-not-run', { user: 'daemon', current_working_directory: '/tmp' });
    const job = await waitForState(api.t, id, ['COMPLETED', 'FAILED']);
    expect(job).toMatchObject({
      state: 'FAILED',
      attempt: 1,
      error_msg: 'cannot start on ro1: uid 1 of daemon is below the minimum 1000',
    });
  });
});

describe.skipIf(!users)('a daemon that is not root runs in single-user mode', () => {
  const { a: alice, b: bob } = users!;
  let api: TestApi;
  let nodes: TestNodes;
  let daemon: ChildServer;

  beforeAll(async () => {
    api = await startTestApi();
    nodes = testNodes(api);
    // Everything the daemon writes is its own: its directories, the core records, the log store it shares with the API.
    const own = (path: string) => {
      chownTo(path, bob);
      return path;
    };
    own(api.logDir);
    own(nodes.nodeDir('su1'));
    const cores = own(nodes.dir());
    chmodSync(cores, 0o700);
    daemon = await nodes.start(
      'su1',
      { HOME: bob.home, CONDUCTOR_CORE_LOCK_DIR: cores, CONDUCTOR_NODE_CPUS: '1' },
      { uid: bob.uid, gid: bob.gid },
    );
  });
  afterAll(async () => {
    await nodes?.cleanup();
    await api?.close();
  });

  it("says so at start-up and in its runs_as, runs its own user's jobs as itself and leaves others' queued", async () => {
    expect(daemon.stdout().join('\n')).toMatch(new RegExp(`single-user mode .*only ${bob.name}'s jobs`));
    const node = await waitFor('node su1 in /v1/nodes', async () => {
      const { nodes: list } = await (await api.t.call('GET', '/v1/nodes')).json();
      return list.find((n: { name: string; runs_as: unknown }) => n.name === 'su1');
    });
    expect(node.runs_as).toEqual({ any_user: false, users: [bob.name], unnamed: true });
    // Alice's first: the node passes it over for Bob's, which runs as Bob.
    const theirs = await api.t.submit({ name: 'alices', user: alice.name, current_working_directory: '/tmp' });
    const own = await api.t.submit(
      { name: 'bobs', user: bob.name, current_working_directory: bob.home },
      '#!/bin/bash\nid -u',
    );
    await waitForState(api.t, own, ['COMPLETED']);
    expect(readFileSync(join(bob.home, `slurm-${own}.out`), 'utf8')).toBe(`${bob.uid}\n`);
    const pending = (await (await api.t.call('GET', `/v1/jobs/${theirs}`)).json()) as { state: string };
    expect(pending.state).toBe('PENDING');
    expect((await api.t.call('POST', `/v1/jobs/${theirs}/cancel`)).status).toBe(200);
  });
});
