/**
 * `conductor accounts` and `conductor accounts set` (sacctmgr-like) against a running API: set changes only the
 * limits it names, `none` clears one, the list shows each limit beside its usage.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_USAGE } from '../cli/exit-codes.js';
import { startTestApi, type TestApi } from './helpers/test-node.js';
import { runConductor } from './helpers/run-conductor.js';

describe('conductor accounts', () => {
  let api: TestApi;
  const home = mkdtempSync(join(tmpdir(), 'conductor-cli-home-'));
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(async () => {
    await api?.close();
    rmSync(home, { recursive: true, force: true });
  });

  const conductor = (args: string[]) => runConductor(api.url, home, args);
  const account = async (name: string) => (await api.t.call('GET', `/v1/accounts/${name}`)).json();

  it('sets the limits it names and keeps the others; none clears one; the list shows usage beside each limit', async () => {
    const first = await conductor(['accounts', 'set', 'chem', '--max-running-cpus', '8', '--max-stored-output', '2G']);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toMatch(/chem\s+0\/8\s/);
    expect(await conductor(['accounts', 'set', 'chem', '--max-pending-jobs', '3', '--fairshare', '4'])).toMatchObject({
      code: 0,
    });
    expect(await account('chem')).toMatchObject({
      max_running_cpus: 8,
      max_pending_jobs: 3,
      max_stored_output_bytes: 2 * 2 ** 30,
      fairshare_shares: 4,
    });
    expect((await conductor(['accounts', 'set', 'chem', '--max-running-cpus', 'none'])).code).toBe(0);
    expect(await account('chem')).toMatchObject({ max_running_cpus: null, max_pending_jobs: 3 });
    const list = await conductor(['accounts']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/ACCOUNT\s+RUN CPUS\s+RUN JOBS\s+PENDING/);
    expect(list.stdout).toMatch(/chem\s+0\/-\s+0\/-\s+0\/3\s/);
    const bad = await conductor(['accounts', 'set', 'chem', '--max-running-jobs', 'lots']);
    expect(bad.code).toBe(EXIT_USAGE);
    expect(bad.stderr).toContain('--max-running-jobs lots');
    expect((await conductor(['accounts', 'delete', 'chem'])).code).toBe(0);
    // Nothing else names it: without its limits, the account is gone.
    expect((await api.t.call('GET', '/v1/accounts/chem')).status).toBe(404);
  });
});
