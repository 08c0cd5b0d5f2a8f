/**
 * `conductor why ID` run as users run it (the real launcher, a child process) against an API served over HTTP: the
 * human report (scontrol-style lines, squeue --start's StartTime and SchedNodeList, the jobs ahead, each node) and
 * `--json`, and the API's refusal for a job that is not PENDING.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from './helpers/test-node.js';
import { runConductor } from './helpers/run-conductor.js';
import { beat, json, smallJob, startOn } from './helpers/pending-cluster.js';

describe('conductor why', () => {
  let api: TestApi;
  const home = mkdtempSync(join(tmpdir(), 'conductor-why-home-'));
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(async () => {
    await api?.close();
    rmSync(home, { recursive: true, force: true });
  });

  const conductor = (args: string[]) => runConductor(api.url, home, args);
  const submit = async (extra: Record<string, unknown> = {}) =>
    (
      await json(
        api.t.call('POST', '/v1/jobs', { body: { job: smallJob('p-cli-why', extra), script: '#!/bin/bash\ntrue' } }),
        201,
      )
    ).id as string;

  it('prints the reason, the place, the expected start, the jobs ahead and each node; --json the answer', async () => {
    await beat(api.t, 'n-cli-why', ['p-cli-why'], { cpus: 1, memory_mb: 4000 });
    const running = await submit({ name: 'first' });
    await startOn(api.t, 'n-cli-why', 'p-cli-why', [running], 1, 4000);
    const ahead = await submit({ name: 'ahead' });
    const waiting = await submit({ name: 'waiting' });
    const started = (await json(api.t.call('GET', `/v1/jobs/${running}`), 200)).start_time as string;
    const frees = new Date(Date.parse(started) + 3600_000).toISOString();
    const ahead40 = new Date(Date.parse(started) + 2 * 3600_000).toISOString();

    const human = await conductor(['why', waiting]);
    expect(human).toMatchObject({ code: 0, stderr: '' });
    expect(human.stdout).toContain(`JobId=${waiting} Partition=p-cli-why JobState=PENDING Reason=Priority\n`);
    expect(human.stdout).toContain(
      `   ReasonDetail=jobs of higher priority are ahead of it in partition p-cli-why, job ${ahead} first\n`,
    );
    expect(human.stdout).toContain('   Position=2 JobsAhead=1\n');
    expect(human.stdout).toContain(`   StartTime=${ahead40} SchedNodeList=n-cli-why\n`);
    expect(human.stdout).toMatch(new RegExp(`\\n${ahead}\\s+0\\s+1\\s+1G\\s+0-01:00:00\\s+physics\\s+-\\s+ahead\\n`));
    expect(human.stdout).toMatch(new RegExp(`n-cli-why\\s+UP\\s+busy\\s+0/1\\s+2976/4000\\s+${frees}\\s+busy: `));

    const asJson = await conductor(['why', waiting, '--json']);
    expect(asJson.code).toBe(0);
    expect(JSON.parse(asJson.stdout)).toMatchObject({
      job_id: waiting,
      reason: 'Priority',
      expected_start: { time: ahead40, node: 'n-cli-why' },
    });

    const notPending = await conductor(['why', running]);
    expect(notPending.code).toBe(1);
    expect(notPending.stderr).toContain(`Job ${running} is RUNNING, not PENDING`);
  });
});
