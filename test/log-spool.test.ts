/**
 * The log store full or refusing (issue 15): a filesystem log store on a small tmpfs the test fills
 * (test/helpers/small-disk.ts; root only, as CI runs), so that every upload fails with ENOSPC until it is freed. The
 * output stays in the jobs' files on the node and is shipped once the store takes it again: nothing is lost, and a job
 * is not reported ended before its output is stored. Past CONDUCTOR_LOG_SPOOL_BYTES of output waiting, the node
 * claims no new job (its running jobs go on) until the store has taken enough.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountSmallDisk, type SmallDisk } from './helpers/small-disk.js';
import { ENDED, getJob, startTestApi, testNodes, waitFor, waitForState, type TestApi } from './helpers/test-node.js';

const root = process.getuid?.() === 0;
const SPOOL_BYTES = 65_536;
// One core, two CPUs: the second job would fit beside the first; only the spool bound keeps it out.
const NODE_ENV = {
  CONDUCTOR_HEARTBEAT_SECONDS: '0.2',
  CONDUCTOR_NODE_CPUS: '1',
  CONDUCTOR_NODE_OVERSUBSCRIBE: '2',
  CONDUCTOR_LOG_SPOOL_BYTES: String(SPOOL_BYTES),
};

describe.skipIf(!root)('the log store full or refusing', () => {
  let api: TestApi;
  let disk: SmallDisk;
  let logDir: string;

  beforeAll(async () => {
    logDir = mkdtempSync(join(tmpdir(), 'conductor-logs-'));
    const mounted = join(logDir, 'store');
    mkdirSync(mounted);
    disk = mountSmallDisk(mounted, '4m');
    api = await startTestApi({ logDir: mounted });
  });
  afterAll(async () => {
    await api?.close();
    disk?.unmount();
    rmSync(logDir, { recursive: true, force: true });
  });

  it('output waits on the node until the store takes it; past the spool bound no new job is taken', async () => {
    const nodes = testNodes(api);
    try {
      const work = nodes.dir();
      const daemon = await nodes.start('spooling', NODE_ENV);
      const submit = (script: string) =>
        api.t.submit({ name: 'job', current_working_directory: work }, `#!/bin/bash\n${script}`);
      const heartbeat = async () => {
        const { nodes: all } = (await (await api.t.call('GET', '/v1/nodes')).json()) as {
          nodes: { name: string; last_heartbeat: string }[];
        };
        return all.find((node) => node.name === 'spooling')!.last_heartbeat;
      };

      disk.fill();
      // More than the spool bound, and then it ends: its output cannot be stored, so it is not reported ended.
      const big = await submit('yes 0123456789abcdef | head -c 300000');
      await waitFor('the spool past its bound', () =>
        daemon.stdout().some((line) => line.includes('past CONDUCTOR_LOG_SPOOL_BYTES')) ? true : undefined,
      );
      expect(daemon.stdout().join('\n')).toContain(`job ${big}: output not stored, retrying`);
      const next = await submit('echo next');
      // Several heartbeats (and claim passes) later, the job is still waiting in the queue, and the first not ended.
      for (let beats = 0; beats < 3; beats++) {
        const seen = await heartbeat();
        await waitFor('a newer heartbeat', async () => ((await heartbeat()) > seen ? true : undefined));
      }
      expect((await getJob(api.t, next)).state).toBe('PENDING');
      expect((await getJob(api.t, big)).state).toBe('RUNNING');

      disk.free();
      expect(await waitForState(api.t, big, ENDED)).toMatchObject({ state: 'COMPLETED' });
      const stored = await (await api.t.call('GET', `/v1/jobs/${big}/logs/stdout?limit=1000000`)).text();
      // All of it, as its file holds it.
      expect(stored.length).toBeGreaterThanOrEqual(300_000);
      expect(stored).toBe(readFileSync(join(work, `slurm-${big}.out`), 'utf8'));
      await waitFor('claims to resume', () =>
        daemon.stdout().some((line) => line.includes('back under CONDUCTOR_LOG_SPOOL_BYTES')) ? true : undefined,
      );
      expect(await waitForState(api.t, next, ENDED)).toMatchObject({ state: 'COMPLETED', attempt: 1 });
      expect(await (await api.t.call('GET', `/v1/jobs/${next}/logs/stdout`)).text()).toBe('next\n');
    } finally {
      disk.free();
      await nodes.cleanup();
    }
  });
});
