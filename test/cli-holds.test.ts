/**
 * `conductor submit -H/--begin`, `conductor hold`, `conductor release` and `conductor update` against a running API
 * (issue 20, item 4): each prints what it did, a refusal exits 1 naming the job and why.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_REFUSED, EXIT_USAGE } from '../cli/exit-codes.js';
import { startTestApi, type TestApi } from './helpers/test-node.js';
import { runConductor } from './helpers/run-conductor.js';

describe('conductor hold, release, update', () => {
  let api: TestApi;
  const home = mkdtempSync(join(tmpdir(), 'conductor-cli-home-'));
  const script = join(home, 'job.sh');
  writeFileSync(script, '#!/bin/bash\ntrue\n');
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(async () => {
    await api?.close();
    rmSync(home, { recursive: true, force: true });
  });

  const conductor = (args: string[]) => runConductor(api.url, home, args);
  const job = async (id: string) => (await api.t.call('GET', `/v1/jobs/${id}`)).json();

  it('submits held (-H) and with a begin time (--begin), and releases', async () => {
    const held = await conductor(['submit', '--parsable', '-H', '-p', 'batch', script]);
    expect(held).toMatchObject({ code: 0, stderr: '' });
    const id = held.stdout.trim();
    expect((await job(id)).reason).toBe('JobHeldUser');
    const later = await conductor(['submit', '--parsable', '--begin=now+1hour', '-p', 'batch', script]);
    expect((await job(later.stdout.trim())).reason).toBe('BeginTime');

    expect(await conductor(['release', id, later.stdout.trim()])).toMatchObject({
      code: 0,
      stdout: `job ${id}: released (Priority)\njob ${later.stdout.trim()}: already not held (BeginTime)\n`,
    });
    expect(await conductor(['hold', id])).toMatchObject({ code: 0, stdout: `job ${id}: held (JobHeldAdmin)\n` });
    expect(await conductor(['hold', '--user', id])).toMatchObject({
      code: 0,
      stdout: `job ${id}: held (JobHeldUser)\n`,
    });
    expect(await conductor(['hold', id])).toMatchObject({ code: 0, stdout: `job ${id}: held (JobHeldAdmin)\n` });
    const refused = await conductor(['hold', '999999', id]);
    expect(refused.code).toBe(EXIT_REFUSED);
    expect(refused.stdout).toBe(`job ${id}: already held (JobHeldAdmin)\n`);
    expect(refused.stderr).toMatch(/job 999999: refused \(404/);
  });

  it("show prints a waiting job's remaining dependency, as scontrol show job", async () => {
    const parent = (await conductor(['submit', '--parsable', '-H', '-p', 'batch', script])).stdout.trim();
    const child = (await conductor(['submit', '--parsable', '-d', `afterok:${parent}`, '-p', 'batch', script])).stdout;
    const shown = await conductor(['show', child.trim()]);
    expect(shown.stdout).toMatch(new RegExp(`Reason=Dependency Dependency=afterok:${parent}\\(unfulfilled\\)`));
    expect((await conductor(['show', parent])).stdout).toMatch(/Dependency=\(null\)/);
  });

  it('updates a pending job, printing each change, and refuses a bad value', async () => {
    const id = (await conductor(['submit', '--parsable', '-H', '-p', 'batch', '-t', '60', script])).stdout.trim();
    const updated = await conductor(['update', id, '--time-limit', '30', '--nice', '5', '--name', 'renamed']);
    expect(updated).toMatchObject({ code: 0, stderr: '' });
    expect(updated.stdout).toBe(
      `job ${id}: time_limit: 0-01:00:00 -> 0-00:30:00\njob ${id}: nice: 0 -> 5\njob ${id}: name: job -> renamed\n`,
    );
    expect(await job(id)).toMatchObject({ time_limit: '0-00:30:00', name: 'renamed' });
    const shown = await conductor(['show', id]);
    expect(shown.stdout).toMatch(/updated; name job -> renamed; nice 0 -> 5; time_limit 3600 -> 1800/);
    // A begin time as squeue prints times (the job is held: its reason stays), not the API's ISO instant.
    const begun = await conductor(['update', id, '--begin', '2030-01-02T03:04:05', '--time-limit', 'UNLIMITED']);
    expect(begun).toMatchObject({ code: 0, stderr: '' });
    expect(begun.stdout).toMatch(
      new RegExp(
        `^job ${id}: time_limit: 0-00:30:00 -> UNLIMITED\njob ${id}: begin: \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d -> 2030-01-02T03:04:05\n$`,
      ),
    );
    // A dependency replaced and cleared (scontrol update Dependency=): the job is held, so its reason stays.
    const parent = (await conductor(['submit', '--parsable', '-H', '-p', 'batch', script])).stdout.trim();
    expect(Number(parent)).toBeGreaterThan(0);
    const child = (await conductor(['submit', '--parsable', '-H', '-p', 'batch', script])).stdout.trim();
    expect(await conductor(['update', child, '--dependency', `afterok:${parent}`])).toMatchObject({
      code: 0,
      stdout: `job ${child}: dependency: (null) -> afterok:${parent}\n`,
    });
    expect((await conductor(['update', child, '-d', ''])).stdout).toBe(
      `job ${child}: dependency: afterok:${parent} -> (null)\n`,
    );
    const cycle = await conductor(['update', parent, '-d', `afterok:${child}`]);
    expect(cycle.code).toBe(EXIT_REFUSED);
    expect(cycle.stderr).toMatch(/submitted after job/);
    const refused = await conductor(['update', id, '--partition', 'nowhere']);
    expect(refused.code).toBe(EXIT_REFUSED);
    expect(refused.stderr).toMatch(/partition "nowhere" does not exist/);
    expect((await conductor(['update', id])).code).toBe(EXIT_USAGE);
  });

  it("holds, releases and updates every PENDING task of an array given the array's id, printing how many", async () => {
    const id = (await conductor(['submit', '--parsable', '--array=0-4', '-p', 'batch', '-t', '60', script])).stdout;
    const array = id.trim().replace(/_.*$/, '');
    expect(await conductor(['hold', array])).toMatchObject({
      code: 0,
      stdout: `job ${array}: array: 5 PENDING task(s) held, 0 already so\n`,
    });
    expect((await job(`${array}_4`)).reason).toBe('JobHeldAdmin');
    expect(await conductor(['update', array, '--time-limit', '30'])).toMatchObject({
      code: 0,
      stdout: `job ${array}: array: 5 PENDING task(s) updated, 0 unchanged\n`,
    });
    expect((await job(`${array}_4`)).time_limit).toBe('0-00:30:00');
    const released = await conductor(['release', '--json', array]);
    expect(JSON.parse(released.stdout)).toEqual([
      { id: array, effect: 'released', array_tasks: { changed: 5, unchanged: 0 } },
    ]);
    // Back in the queue: its reason is decided as it is read (no node serves the partition here).
    expect((await job(`${array}_4`)).reason).not.toMatch(/^JobHeld/);
    await api.t.call('POST', `/v1/jobs/${array}/cancel`);
  });
});
