/**
 * `conductor partitions` and `conductor partitions apply FILE` (issue 19, item 1): slurm.conf's PartitionName lines
 * read as Slurm reads them, then PUT through a running API by the real launcher.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPartitionLines } from '../cli/slurm-partition-lines.js';
import { startTestApi, type TestApi } from './helpers/test-node.js';
import { runConductor } from './helpers/run-conductor.js';

describe('slurm.conf partition lines', () => {
  it('reads each key into the API field it sets, with PartitionName=DEFAULT lines giving defaults', () => {
    const read = readPartitionLines(
      [
        'ClusterName=lab',
        'NodeName=n[01-04] CPUs=8',
        '# the defaults',
        'PartitionName=DEFAULT MaxTime=2-0 State=UP',
        'PartitionName=batch Nodes=n[01-04] AllowAccounts=physics,chem DefaultTime=1:00:00 Default=YES PriorityTier=2',
        'partitionname=debug maxtime=UNLIMITED maxcpuspernode=4 MaxMemPerNode=8192 AllowAccounts=ALL State=drain',
      ].join('\n'),
    );
    expect(read.errors).toEqual([]);
    expect(read.partitions).toEqual([
      {
        line: 5,
        name: 'batch',
        body: {
          max_time: '2-0',
          state: 'UP',
          allow_accounts: ['physics', 'chem'],
          default_time: '1:00:00',
          default: true,
          priority_tier: 2,
        },
      },
      {
        line: 6,
        name: 'debug',
        body: { max_time: null, state: 'DRAIN', max_cpus_per_job: 4, max_memory_per_job: '8192', allow_accounts: null },
      },
    ]);
    expect(read.warnings).toEqual([
      "line 5: Nodes= ignored: a node joins a partition by serving it (its daemon's partitions)",
      'skipped 2 line(s) that are not PartitionName= lines: 1, 2',
    ]);
  });

  it('refuses unknown keys and unreadable values, each with its line number', () => {
    const read = readPartitionLines(
      'PartitionName=a OverSubscribe=YES\n\nPartitionName=b Default=maybe MaxCPUsPerNode=x',
    );
    expect(read.errors).toEqual([
      'line 1: unknown key OverSubscribe (known: Nodes, State, AllowAccounts, DefaultTime, MaxTime, MaxCPUsPerNode, MaxMemPerNode, PriorityTier, Default)',
      'line 3: Default=maybe: YES or NO',
      'line 3: MaxCPUsPerNode=x: a whole number or UNLIMITED',
    ]);
  });
});

const conductor = (api: TestApi, args: string[]) => runConductor(api.url, tmpdir(), args);

describe('conductor partitions against a running API', () => {
  let api: TestApi;
  const dir = mkdtempSync(join(tmpdir(), 'conductor-partitions-'));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(async () => {
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies a slurm.conf file through the API, and lists the partitions as sinfo -s does', async () => {
    const conf = file(
      'slurm.conf',
      'PartitionName=lab-batch Nodes=n01 State=UP AllowAccounts=physics MaxTime=1-0 DefaultTime=30 Default=YES\n' +
        'PartitionName=lab-debug MaxTime=30:00 MaxCPUsPerNode=2 MaxMemPerNode=4G PriorityTier=5\n',
    );
    const dry = await conductor(api, ['partitions', 'apply', '--dry-run', conf]);
    expect(dry.code).toBe(0);
    expect(dry.stdout.split('\n')[0]).toBe(
      'PUT /v1/partitions/lab-batch {"state":"UP","allow_accounts":["physics"],"max_time":"1-0","default_time":"30","default":true}',
    );
    expect((await api.t.call('GET', '/v1/partitions/lab-batch')).status).toBe(404);

    const applied = await conductor(api, ['partitions', 'apply', conf]);
    expect(applied).toMatchObject({ code: 0, stdout: 'lab-batch: created\nlab-debug: created\n' });
    expect(applied.stderr).toContain('line 1: Nodes= ignored');
    expect(await (await api.t.call('GET', '/v1/partitions/lab-batch')).json()).toMatchObject({
      default: true,
      allow_accounts: ['physics'],
      max_time: '1-00:00:00',
      default_time: '00:30:00',
    });
    expect((await conductor(api, ['partitions', 'apply', conf])).stdout).toBe(
      'lab-batch: replaced\nlab-debug: replaced\n',
    );

    const listed = await conductor(api, ['partitions']);
    expect(listed.code).toBe(0);
    const rows = listed.stdout.trimEnd().split('\n');
    expect(rows[0]!.split(/\s+/)).toEqual([
      'PARTITION',
      'STATE',
      'TIMELIMIT',
      'DEFAULTTIME',
      'MAXCPUS',
      'MAXMEM',
      'ACCOUNTS',
      'TIER',
      'NODES(UP/T)',
      'CPUS',
    ]);
    expect(
      rows
        .find((row) => row.startsWith('lab-debug'))!
        .trim()
        .split(/\s+/),
    ).toEqual(['lab-debug', 'UP', '00:30:00', '-', '2', '4G', 'ALL', '5', '0/0', '0']);
    expect(rows.some((row) => row.startsWith('lab-batch* '))).toBe(true);
    // Put the default back where the suite's other jobs expect it.
    await api.t.call('PUT', '/v1/partitions/default', { body: { default: true } });
  });

  it('names the line and the key of a partition the API refuses, applies the others, and exits 1', async () => {
    const conf = file('bad.conf', 'PartitionName=lab-bad DefaultTime=2:00:00 MaxTime=1:00:00\nPartitionName=lab-ok\n');
    const run = await conductor(api, ['partitions', 'apply', conf]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(
      'lab-bad: refused (line 1): DefaultTime: must not be longer than max_time\nlab-ok: created\n',
    );
  });

  it('applies nothing from a file with an unknown key, naming its line (exit 2)', async () => {
    const conf = file('unknown.conf', 'PartitionName=lab-never\nPartitionName=lab-x Hidden=YES\n');
    const run = await conductor(api, ['partitions', 'apply', conf]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('line 2: unknown key Hidden');
    expect((await api.t.call('GET', '/v1/partitions/lab-never')).status).toBe(404);
  });
});
