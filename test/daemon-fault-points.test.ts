/**
 * The daemon's narrow windows (issue 15, item 1), each hit by its fault point (worker-node/fault-points.ts): the daemon
 * SIGKILLs itself there, is started again without it, and the outcome is exact: the job ran once (its own ledger),
 * one start and one end in its events, its output stored whole. And a built daemon has no fault point at all.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DAEMON_FAULT_POINTS } from '../worker-node/fault-points.js';
import { startTestApi, testNodes, waitForState, type TestApi, type TestNodes } from './helpers/test-node.js';

const ROOT = new URL('..', import.meta.url).pathname;

describe('the daemon killed in a narrow window', () => {
  let api: TestApi;
  let nodes: TestNodes;
  let work: string;

  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api?.close());
  beforeEach(() => {
    nodes = testNodes(api);
    work = nodes.dir();
  });
  afterEach(() => nodes?.cleanup());

  const eventsOf = async (id: string) =>
    ((await (await api.t.call('GET', `/v1/jobs/${id}/events`)).json()) as { events: { to_state: string }[] }).events;

  it.each(DAEMON_FAULT_POINTS)('at %s: the restarted daemon runs the job once and reports it once', async (point) => {
    const env = { CONDUCTOR_NODE_CPUS: '1' };
    const crashing = await nodes.start('windows', { ...env, CONDUCTOR_TEST_CRASH_AT: point });
    // Each start of the job appends to its ledger; its output is 3 lines it can be checked against.
    const id = await api.t.submit(
      { name: 'windowed', current_working_directory: work, standard_output: 'out-%j' },
      `#!/bin/bash\necho "$SLURM_JOB_ID $CONDUCTOR_ATTEMPT" >> ${work}/ledger\nprintf 'one\\ntwo\\nthree\\n'`,
    );
    expect(await crashing.exited).toBe('signal SIGKILL');
    await nodes.start('windows', env);
    const job = await waitForState(api.t, id, ['COMPLETED', 'FAILED', 'NODE_FAIL']);

    expect(job).toMatchObject({ state: 'COMPLETED', attempt: 1, exit_code: { status: 0, signal: null } });
    expect(readFileSync(join(work, 'ledger'), 'utf8')).toBe(`${id} 1\n`);
    const states = (await eventsOf(id)).map((event) => event.to_state);
    expect(states.filter((state) => state === 'COMPLETED')).toHaveLength(1);
    expect(states.slice(0, 2)).toEqual(['PENDING', 'RUNNING']);
    expect(states.lastIndexOf('PENDING')).toBe(0);
    const stored = await api.t.call('GET', `/v1/jobs/${id}/logs/stdout`);
    expect(await stored.text()).toBe('one\ntwo\nthree\n');
    expect(readFileSync(join(work, `out-${id}`), 'utf8')).toBe('one\ntwo\nthree\n');
  });
});

describe('a built daemon', () => {
  it('has no fault point: npm run build:node defines CONDUCTOR_TEST_CRASH_AT away', async () => {
    const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
      .scripts['build:node']!;
    const define = /--define:([^=\s]+)=(\S+)/.exec(script);
    expect(define, script).not.toBeNull();
    const dir = mkdtempSync(join(tmpdir(), 'conductor-fault-build-'));
    try {
      const outfile = join(dir, 'fault-points.mjs');
      await build({
        entryPoints: [join(ROOT, 'worker-node/fault-points.ts')],
        bundle: true,
        platform: 'node',
        format: 'esm',
        outfile,
        define: { [define![1]!]: define![2]! },
        logLevel: 'silent',
      });
      const probe = join(dir, 'probe.mjs');
      writeFileSync(
        probe,
        `import { faultPoint } from './fault-points.mjs';\nfaultPoint('run.ended');\nconsole.log('alive');\n`,
      );
      // Told to crash there, and it does not.
      const out = execFileSync(process.execPath, [probe], {
        env: { ...process.env, CONDUCTOR_TEST_CRASH_AT: 'run.ended' },
        encoding: 'utf8',
      });
      expect(out).toBe('alive\n');
      expect(existsSync(outfile)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
