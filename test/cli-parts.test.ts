/**
 * The `conductor` command's pure parts, in milliseconds: its sbatch command line, `--export`'s secrets rule, the
 * API and token it picks, the arguments given to a script, the exit codes of `--wait`, and sinfo -R's table.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../cli/cli-error.js';
import { reasonsTable } from '../cli/commands/nodes.js';
import { LOCAL_URL, resolveClientConfig } from '../cli/client-config.js';
import { writeConfigFile } from '../cli/config-file.js';
import { EXIT_CANCELLED, EXIT_NODE_FAIL, EXIT_OUT_OF_MEMORY, EXIT_TIMEOUT, jobExitCode } from '../cli/exit-codes.js';
import { exportedEnvironment, looksSecret } from '../cli/export-environment.js';
import { jobFieldsOf } from '../cli/sbatch-flags.js';
import { readScript } from '../cli/script-source.js';
import { formatSqueue, parseSqueueFormat, SQUEUE_DEFAULT_FORMAT } from '../cli/squeue-format.js';
import { readSubmitArgv } from '../cli/submit-argv.js';

const longs = (argv: string[]) => readSubmitArgv(argv).options.map(({ option, value }) => [option.long, value]);

describe("submit's command line, read as sbatch reads its own", () => {
  it('takes short and long forms, attached and separate values, abbreviations, and stops at the script', () => {
    expect(
      longs(['-J', 'a', '-c2', '--mem=1G', '--time', '5', '--cpus-per-t=3', '-vW', 'job.sh', '-J', 'arg']),
    ).toEqual([
      ['job-name', 'a'],
      ['cpus-per-task', '2'],
      ['mem', '1G'],
      ['time', '5'],
      ['cpus-per-task', '3'],
      ['verbose', null],
      ['wait', null],
    ]);
    expect(readSubmitArgv(['-J', 'a', 'job.sh', '-J', 'arg']).operands).toEqual(['job.sh', '-J', 'arg']);
    expect(readSubmitArgv(['-p', 'x', '--', '-weird.sh']).operands).toEqual(['-weird.sh']);
    // An optional value only with "=", as getopt_long: the next word is the script.
    expect(readSubmitArgv(['--exclusive', 'job.sh']).operands).toEqual(['job.sh']);
  });

  it("refuses what sbatch refuses, in getopt's words", () => {
    expect(() => readSubmitArgv(['--bogus'])).toThrow(
      new UsageError("unrecognized option '--bogus' (not an sbatch option)"),
    );
    expect(() => readSubmitArgv(['--no'])).toThrow(/option '--no' is ambiguous; possibilities: '--no-requeue'/);
    expect(() => readSubmitArgv(['-y'])).toThrow("invalid option -- 'y'");
    expect(() => readSubmitArgv(['-t'])).toThrow('option -t needs a value');
    expect(() => readSubmitArgv(['--parsable=yes'])).toThrow('option --parsable takes no value');
  });

  it('reads flags into job fields with the directive reader, naming the flag as typed when refused', () => {
    const fields = (argv: string[]) => jobFieldsOf(readSubmitArgv(argv).options);
    expect(
      fields(['-J', 'it\'s #1 \\ "x"', '-n', '2', '-c', '2', '--mem-per-cpu=100M', '-N1', '--open-mode=a']),
    ).toEqual({
      name: 'it\'s #1 \\ "x"',
      ntasks_per_node: 2,
      cpus_per_task: 2,
      memory_per_node: '400M',
      open_mode: 'append',
    });
    expect(() => fields(['-c', 'two'])).toThrow(new UsageError('-c two: "two" is not a whole number'));
    expect(() => fields(['-N', '2'])).toThrow(/^-N 2: not supported: a job runs on one node here/);
    expect(() => fields(['-D', 'relative'])).toThrow(/^-D relative: "relative" is relative/);
    expect(fields(['-a', '1-7:2%2'])).toEqual({ array: '1-7:2%2' });
    expect(() => fields(['--array=3-1'])).toThrow(/^--array=3-1: "3-1": the range ends before it starts/);
  });
});

describe('--export', () => {
  const env = {
    HOME: '/home/a',
    GITHUB_TOKEN: 't',
    AWS_PROFILE: 'p',
    MY_SECRET_X: 's',
    API_KEY: 'k',
    CONDUCTOR_URL: 'u',
  };

  it('sends everything but what looks like a secret by default (ALL), and a secret only when named', () => {
    expect(exportedEnvironment(null, env)).toEqual({ HOME: '/home/a' });
    expect(exportedEnvironment('ALL,API_KEY,EXTRA=1', env)).toEqual({ HOME: '/home/a', API_KEY: 'k', EXTRA: '1' });
    expect(exportedEnvironment('AWS_PROFILE', env)).toEqual({ AWS_PROFILE: 'p' });
    expect(exportedEnvironment('NONE', env)).toEqual({});
    expect(() => exportedEnvironment('NONE,HOME', env)).toThrow(UsageError);
    for (const name of [
      'DB_PASSWORD',
      'GOOGLE_APPLICATION_CREDENTIALS',
      'AZURE_CLIENT_ID',
      'ssh_key',
      'CONDUCTOR_TOKEN',
    ]) {
      expect(looksSecret(name), name).toBe(true);
    }
    expect(looksSecret('PATH')).toBe(false);
  });
});

describe('which API and token', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const scratch = () => {
    const dir = mkdtempSync(join(tmpdir(), 'conductor-cli-config-'));
    dirs.push(dir);
    return dir;
  };

  it('takes flags, then the environment, then the config file, then the local instance and its token file', () => {
    const dir = scratch();
    const data = join(dir, 'data');
    mkdirSync(data);
    writeFileSync(join(data, 'admin-token'), 'local-token\n');
    const env = { XDG_CONFIG_HOME: join(dir, 'config'), CONDUCTOR_DATA_DIR: data };
    expect(resolveClientConfig({}, env)).toEqual({
      url: LOCAL_URL,
      token: 'local-token',
      source: 'the local instance',
    });

    writeConfigFile(join(dir, 'config', 'conductor', 'config.json'), {
      current: 'prod',
      clusters: { prod: { url: 'https://prod.example', token: 'p' }, lab: { url: 'https://lab.example', token: 'l' } },
    });
    expect(resolveClientConfig({}, env)).toEqual({ url: 'https://prod.example', token: 'p', source: 'cluster prod' });
    expect(resolveClientConfig({ cluster: 'lab' }, env)).toMatchObject({ url: 'https://lab.example', token: 'l' });
    // A URL given takes the token kept for it.
    expect(resolveClientConfig({}, { ...env, CONDUCTOR_URL: 'https://lab.example/' })).toMatchObject({ token: 'l' });
    expect(resolveClientConfig({ url: 'https://x', token: 't' }, { ...env, CONDUCTOR_URL: 'https://y' })).toEqual({
      url: 'https://x',
      token: 't',
      source: '--url',
    });
    expect(() => resolveClientConfig({ cluster: 'nope' }, env)).toThrow(/no cluster "nope" .*there are: prod, lab/);
  });

  it('refuses, as a usage error naming where it came from, a URL that is not http or https', () => {
    const env = { XDG_CONFIG_HOME: join(scratch(), 'config') };
    expect(() => resolveClientConfig({ url: 'ht!tp://x' }, env)).toThrow(
      new UsageError('--url: "ht!tp://x" is not an http:// or https:// URL'),
    );
    expect(() => resolveClientConfig({}, { ...env, CONDUCTOR_URL: 'cluster.example:8080' })).toThrow(
      /^CONDUCTOR_URL: "cluster.example:8080" is not an http/,
    );
    expect(resolveClientConfig({ url: 'HTTPS://cluster.example' }, env).url).toBe('HTTPS://cluster.example');
  });
});

describe("a script's arguments", () => {
  it('become its positional parameters after its directives', () => {
    const script = '#!/bin/bash\n#SBATCH -J x\n\n# note\necho "$@"\n';
    expect(readScript(['-', 'a b', "it's"], null, () => script)).toBe(
      `#!/bin/bash\n#SBATCH -J x\n\n# note\nset -- 'a b' 'it'\\''s'\necho "$@"\n`,
    );
    expect(() => readScript(['-', 'a'], null, () => '#!/usr/bin/env python3\nprint(1)\n')).toThrow(UsageError);
    expect(readScript([], 'hostname', () => '')).toMatch(/^#!\/bin\/sh\n[^]*\nhostname\n$/);
  });
});

describe("--wait's exit code", () => {
  it("is the job's status, 128+N for a signal, and one of its own for each ending that is not the script's", () => {
    expect(jobExitCode({ state: 'COMPLETED', exit_code: { status: 0, signal: null } })).toBe(0);
    expect(jobExitCode({ state: 'FAILED', exit_code: { status: 3, signal: null } })).toBe(3);
    expect(jobExitCode({ state: 'FAILED', exit_code: { status: null, signal: 11 } })).toBe(139);
    expect(jobExitCode({ state: 'FAILED', exit_code: null })).toBe(1);
    expect(jobExitCode({ state: 'TIMEOUT', exit_code: { status: null, signal: 15 } })).toBe(EXIT_TIMEOUT);
    expect(jobExitCode({ state: 'CANCELLED', exit_code: null })).toBe(EXIT_CANCELLED);
    expect(jobExitCode({ state: 'OUT_OF_MEMORY', exit_code: null })).toBe(EXIT_OUT_OF_MEMORY);
    expect(jobExitCode({ state: 'NODE_FAIL', exit_code: null })).toBe(EXIT_NODE_FAIL);
  });
});

describe("queue's --format, as squeue's -o", () => {
  const job = {
    id: '1234567',
    display_id: '1234567',
    array_job_id: null,
    array_task_id: null,
    name: 'a-rather-long-job-name',
    account: 'physics',
    user: 'alice',
    partition: 'batch',
    state: 'PENDING',
    reason: 'Resources',
    node: null,
    cpus: 4,
    memory_per_node: '16G',
    time_limit: '1-00:00:00',
    priority: 0,
    submit_time: '2026-11-30T10:00:00.000Z',
    start_time: null,
    end_time: null,
    current_working_directory: '/home/alice',
  } as unknown as Parameters<typeof formatSqueue>[1][number];

  it("prints squeue's default columns: right-justified to their size, cut past it, the reason for a pending job", () => {
    const [head, row] = formatSqueue(parseSqueueFormat(SQUEUE_DEFAULT_FORMAT), [job], true);
    expect(head).toBe('             JOBID PARTITION     NAME     USER ST       TIME  NODES NODELIST(REASON)');
    expect(row).toBe('           1234567     batch a-rather    alice PD       0:00      1 (Resources)');
  });

  it('takes left-justified fields, literal text and %%, and no header when asked', () => {
    const pieces = parseSqueueFormat('%8i|%5C%%|%m %l %T');
    expect(formatSqueue(pieces, [job], false)).toEqual(['1234567 |4    %|16G 1-00:00:00 PENDING']);
  });

  it("shows an array task's ids as squeue does: %i 123_7, %F the array's id, %K the index", () => {
    const task = { ...job, id: '130', display_id: '123_7', array_job_id: '123', array_task_id: 7 };
    expect(formatSqueue(parseSqueueFormat('%i %A %F %K'), [task, job], false)).toEqual([
      '123_7 130 123 7',
      '1234567 1234567 1234567 N/A',
    ]);
  });

  it('refuses a field it does not have, naming it', () => {
    expect(() => parseSqueueFormat('%i %b')).toThrow(UsageError);
    expect(() => parseSqueueFormat('%i %b')).toThrow(/%b is not a field here/);
    expect(() => parseSqueueFormat('%')).toThrow(/a lone %/);
  });
});

describe('nodes -R, as sinfo -R', () => {
  const node = {
    name: 'n1',
    state: 'UP' as const,
    partitions: ['default'],
    cpus: 4,
    memory_mb: 1024,
    cpus_allocated: 0,
    memory_allocated_mb: 0,
    last_heartbeat: null,
    lease_expires_at: null,
    registered_at: '2026-11-30T10:00:00.000Z',
    daemon_version: null,
    protocol: null,
    containment: null,
    runs_as: null,
  } as unknown as Parameters<typeof reasonsTable>[0][number];

  it('lists the nodes not UP or with a reason: the reason, who gave it, when (local time), the node', () => {
    const setAt = '2026-11-30T12:34:56.000Z';
    const local = new Date(setAt);
    const pad = (n: number) => String(n).padStart(2, '0');
    const when = `${local.getFullYear()}-${pad(local.getMonth() + 1)}-${pad(local.getDate())}T${pad(local.getHours())}:${pad(local.getMinutes())}:${pad(local.getSeconds())}`;
    const lines = reasonsTable([
      node,
      {
        ...node,
        name: 'n2',
        state: 'DRAINING',
        reason: 'disk check',
        reason_set_by: 'admin:ops',
        reason_set_at: setAt,
      },
      { ...node, name: 'n3', state: 'DOWN' },
      { ...node, name: 'n4', state: 'DRAINING' },
    ])
      .split('\n')
      .map((line) => line.trimEnd().split(/\s{2,}/));
    expect(lines).toEqual([
      ['REASON', 'USER', 'TIMESTAMP', 'NODELIST'],
      ['disk check', 'admin:ops', when, 'n2'],
      ['Not responding', 'Unknown', 'Unknown', 'n3'],
      ['none', 'Unknown', 'Unknown', 'n4'],
    ]);
  });
});
