/**
 * The `conductor` command (issue 17, item 2) run as users run it: the real launcher (cli/conductor.mjs) as a child
 * process, against an API served over HTTP with a real node daemon running the jobs.
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT_CANCELLED, EXIT_TIMEOUT } from '../cli/exit-codes.js';
import { ADMIN_TOKEN } from './helpers/test-app.js';
import { apiWithNode, getJob, waitForState } from './helpers/test-node.js';
import { freePort, startChildServer } from './helpers/child-server.js';
import { startRecordingProxy } from './helpers/recording-proxy.js';
import { waitFor } from './helpers/wait-for.js';

const LAUNCHER = new URL('../cli/conductor.mjs', import.meta.url).pathname;
const ROOT = new URL('..', import.meta.url).pathname;
const home = mkdtempSync(join(tmpdir(), 'conductor-cli-home-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A running `conductor`, its output so far readable while it runs. */
function start(args: string[], env: Record<string, string | undefined> = {}, input?: string, program = LAUNCHER) {
  const child = spawn(process.execPath, [program, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: join(home, 'config'), NO_COLOR: '1', ...env },
  });
  const run: Run = { code: null, stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (run.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
  child.stdin.end(input ?? '');
  const done = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ ...run, code })));
  return { run, done, child };
}

describe('conductor against a running API and node daemon', () => {
  const started = apiWithNode('cli-node');
  const api = () => ({ CONDUCTOR_URL: started.api.url, CONDUCTOR_TOKEN: ADMIN_TOKEN });
  const conductor = (args: string[], env: Record<string, string | undefined> = {}, input?: string) =>
    start(args, { ...api(), ...env }, input).done;
  const script = (name: string, text: string) => {
    const path = join(started.work, name);
    writeFileSync(path, text);
    return path;
  };

  it("runs a script with its #SBATCH lines' resources, and flags win over them", async () => {
    const path = script(
      'directives.sh',
      `#!/bin/bash\n#SBATCH -J from-directive\n#SBATCH --cpus-per-task=2\n#SBATCH -t 5\n#SBATCH -D ${started.work}\necho cpus=$SLURM_CPUS_PER_TASK name=$SLURM_JOB_NAME\n`,
    );
    const plain = await conductor(['submit', '--parsable', path]);
    expect(plain).toMatchObject({ code: 0, stderr: '' });
    const id = plain.stdout.trim();
    expect(id).toMatch(/^\d+$/);
    const job = await waitForState(started.api.t, id, ['COMPLETED']);
    expect(job).toMatchObject({ name: 'from-directive', cpus_per_task: 2, time_limit: '0-00:05:00' });
    expect((await conductor(['logs', id])).stdout).toBe('cpus=2 name=from-directive\n');

    const flagged = await conductor(['submit', '--parsable', '-J', 'from-flag', '--time=7', '-c1', path]);
    // sbatch says nothing when its flags override the script's directives.
    expect(flagged).toMatchObject({ code: 0, stderr: '' });
    const other = await waitForState(started.api.t, flagged.stdout.trim(), ['COMPLETED']);
    expect(other).toMatchObject({ name: 'from-flag', cpus_per_task: 1, time_limit: '0-00:07:00' });
  });

  it("--wait exits with the job's exit code: 0, 3, and TIMEOUT's own", async () => {
    const ok = await conductor(['submit', '--wait', '--wrap', 'exit 0', '-D', started.work]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^Submitted batch job \d+\n$/);
    expect(ok.stderr).toMatch(/COMPLETED/);
    expect((await conductor(['submit', '-W', '--parsable', '--wrap', 'exit 3', '-D', started.work])).code).toBe(3);
    const timeout = await conductor([
      'submit',
      '--wait',
      '--parsable',
      '-t',
      '0:01',
      '--wrap',
      'sleep 60',
      '-D',
      started.work,
    ]);
    expect(timeout.code).toBe(EXIT_TIMEOUT);
    expect((await getJob(started.api.t, timeout.stdout.trim())).state).toBe('TIMEOUT');
  });

  it('logs -f prints lines as they come, and ends with the job', async () => {
    const gate = join(started.work, `gate-${Date.now()}`);
    const submitted = await conductor([
      'submit',
      '--parsable',
      '-D',
      started.work,
      '--wrap',
      `echo first; while [ ! -e ${gate} ]; do sleep 0.1; done; echo second`,
    ]);
    const id = submitted.stdout.trim();
    const follow = start(['logs', '-f', id], api());
    // The first line is shown while the job still runs (it waits for the gate)...
    await waitFor('the first line', () => (follow.run.stdout === 'first\n' ? true : undefined));
    expect((await getJob(started.api.t, id)).state).toBe('RUNNING');
    writeFileSync(gate, '');
    // ...and the second once written; the follow ends with the job.
    expect(await follow.done).toEqual({ code: 0, stdout: 'first\nsecond\n', stderr: '' });
  });

  it('queue shows a pending job with its reason; cancel --name cancels only the jobs of that name', async () => {
    // No node serves "other": its jobs wait.
    const tag = `cli${Date.now()}`;
    const submit = (name: string) =>
      conductor(['submit', '--parsable', '-p', 'other', '-J', name, '--wrap', 'true']).then((run) => run.stdout.trim());
    const [a1, a2, b] = [await submit(`${tag}-a`), await submit(`${tag}-a`), await submit(`${tag}-b`)];

    const queue = await conductor(['queue', '-p', 'other', '--name', `${tag}-b`]);
    expect(queue.code).toBe(0);
    const [head, row] = queue.stdout.trimEnd().split('\n');
    expect(head!.split(/\s+/)).toEqual([
      'JOBID',
      'PARTITION',
      'NAME',
      'USER',
      'ST',
      'TIME',
      'NODES',
      'NODELIST(REASON)',
    ]);
    const { job } = JSON.parse((await conductor(['show', b, '--json'])).stdout);
    expect(job.reason).toBeTruthy();
    expect(row!.split(/\s+/)).toEqual([b, 'other', `${tag}-b`, '-', 'PD', '0:00', '1', `(${job.reason})`]);
    // squeue -o and -h: the caller's columns, no header.
    const formatted = await conductor(['queue', '-p', 'other', '--name', `${tag}-b`, '-o', '%i|%T|%r', '--noheader']);
    expect(formatted).toMatchObject({ code: 0, stdout: `${b}|PENDING|${job.reason}\n` });
    // squeue's -h is --noheader, not help.
    const bare = await conductor(['queue', '-p', 'other', '--name', `${tag}-b`, '-h', '-t', 'PD']);
    expect(bare).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(new RegExp(`^\\s+${b}\\s+other\\s[^\\n]*\\n$`)),
    });
    const json = JSON.parse((await conductor(['ls', '--json', '-t', 'PD', '-p', 'other'])).stdout);
    expect(json.map((listed: { id: string }) => listed.id)).toEqual(expect.arrayContaining([a1, a2, b]));

    const cancel = await conductor(['cancel', '--name', `${tag}-a`]);
    expect(cancel).toMatchObject({ code: 0, stdout: `job ${a1}: cancelled\njob ${a2}: cancelled\n` });
    expect((await getJob(started.api.t, a1)).state).toBe('CANCELLED');
    expect((await getJob(started.api.t, a2)).state).toBe('CANCELLED');
    expect((await getJob(started.api.t, b)).state).toBe('PENDING');
    expect((await conductor(['cancel', b, '--json'])).code).toBe(0);
  });

  it("a cancelled job ends --wait with CANCELLED's code", async () => {
    const waiting = start(['submit', '--wait', '--parsable', '-p', 'other', '--wrap', 'true'], api());
    const id = await waitFor('the id', () => waiting.run.stdout.trim() || undefined);
    expect((await conductor(['cancel', id])).code).toBe(0);
    expect((await waiting.done).code).toBe(EXIT_CANCELLED);
  });

  it('never sends variables that look like secrets unless they are named', async () => {
    const env = {
      PLAIN_SETTING: 'visible',
      MY_API_TOKEN: 'secret-1',
      AWS_SECRET_ACCESS_KEY: 'secret-2',
      DB_PASSWORD: 'secret-3',
      NAMED_KEY: 'named',
    };
    const run = await conductor(
      ['submit', '--parsable', '-p', 'other', '--export=ALL,NAMED_KEY', '--wrap', 'true'],
      env,
    );
    const id = run.stdout.trim();
    const shown = JSON.parse((await conductor(['show', id, '--json'])).stdout);
    const environment = shown.job.environment as Record<string, string>;
    expect(environment).toMatchObject({ PLAIN_SETTING: 'visible', NAMED_KEY: 'named' });
    for (const name of ['MY_API_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'DB_PASSWORD', 'CONDUCTOR_TOKEN', 'CONDUCTOR_URL']) {
      expect(environment).not.toHaveProperty(name);
    }
    expect(shown.events[0].to_state).toBe('PENDING');
    const only = await conductor(
      ['submit', '--parsable', '-p', 'other', '--export=PLAIN_SETTING,X=1', '--wrap', 'true'],
      env,
    );
    const exported = JSON.parse((await conductor(['show', only.stdout.trim(), '--json'])).stdout).job.environment;
    expect(exported).toEqual({ PLAIN_SETTING: 'visible', X: '1' });
    await conductor(['cancel', '-p', 'other']);
  });

  it('bad flags, refusals and an unreachable API: one clear line and the documented exit code', async () => {
    const bogus = await conductor(['submit', '--bogus', '--wrap', 'true']);
    expect(bogus).toMatchObject({ code: 2, stdout: '' });
    expect(bogus.stderr).toBe("conductor: unrecognized option '--bogus' (not an sbatch option)\n");
    const gpus = await conductor(['submit', '--gpus=1', '--wrap', 'true']);
    expect(gpus).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^conductor: --gpus=1: not supported: GPUs[^\n]*\n$/),
    });
    const time = await conductor(['submit', '-t', 'soon', '--wrap', 'true']);
    expect(time).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^conductor: -t soon: "soon" is not a Slurm time[^\n]*\n$/),
    });
    expect((await conductor(['queue', '--bogus'])).code).toBe(2);

    const missing = await conductor(['show', '999999999']);
    expect(missing).toMatchObject({ code: 1, stderr: expect.stringMatching(/^conductor: refused \(404 [^\n]*\n$/) });
    const token = await conductor(['tokens', 'create', 'someone', '--kind', 'user']);
    expect(token.code).toBe(1);
    expect(token.stderr).toMatch(/^conductor: refused \(422 validation_failed\): [^\n]*account[^\n]*\n$/);
    const anonymous = await conductor(['queue'], { CONDUCTOR_TOKEN: 'not-a-token' });
    expect(anonymous).toMatchObject({ code: 1, stderr: expect.stringMatching(/^conductor: refused \(401 [^\n]*\n$/) });

    const away = await conductor(['queue'], { CONDUCTOR_URL: 'http://127.0.0.1:9' });
    expect(away).toMatchObject({
      code: 3,
      stderr: expect.stringMatching(/^conductor: the API is unreachable: [^\n]*\n$/),
    });
  });

  it('names a --wrap job "wrap" as sbatch does, unless -J names it', async () => {
    const wrapped = (await conductor(['submit', '--parsable', '-p', 'other', '--wrap', 'true'])).stdout.trim();
    const named = (await conductor(['submit', '--parsable', '-p', 'other', '-J', 'mine', '--wrap', 'true'])).stdout;
    expect(await getJob(started.api.t, wrapped)).toMatchObject({ name: 'wrap' });
    expect(await getJob(started.api.t, named.trim())).toMatchObject({ name: 'mine' });
    await conductor(['cancel', '-p', 'other']);
  });

  it('prints tables without colour codes into a pipe, NO_COLOR unset', async () => {
    const queue = await conductor(['queue'], { NO_COLOR: undefined });
    expect(queue).toMatchObject({ code: 0, stdout: expect.stringMatching(/^JOBID\s+PARTITION/) });
    expect(queue.stdout).not.toContain('\x1b');
  });

  it('prints JSON that parses from every listing', async () => {
    for (const args of [
      ['queue', '--json'],
      ['history', '--json'],
      ['nodes', '--json'],
      ['tokens', 'list', '--json'],
    ]) {
      const run = await conductor(args);
      expect(run.code, args.join(' ')).toBe(0);
      expect(Array.isArray(JSON.parse(run.stdout)), args.join(' ')).toBe(true);
    }
    const history = await conductor(['history', '-s', 'TO']);
    // Elapsed as sacct prints it: HH:MM:SS, days only when there are some.
    expect(history.stdout).toMatch(/TIMEOUT\s+0:15\s+\d\d:\d\d:\d\d\s/);
    // As sacct: the oldest first.
    const ids = (await conductor(['history'])).stdout
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((line) => Number(line.split(/\s+/)[0]));
    expect(ids.length).toBeGreaterThan(1);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const nodes = await conductor(['nodes']);
    expect(nodes.stdout).toMatch(/default\s+UP\s+\d+\/\d+\/0\/\d+\s+\S+\s+cli-node/);
  });

  it('logs in: keeps the token in a 0600 file and uses it by cluster name', async () => {
    const env = { CONDUCTOR_URL: undefined, CONDUCTOR_TOKEN: undefined };
    const login = await conductor(['login', started.api.url, '--name', 'test-cluster'], env, `${ADMIN_TOKEN}\n`);
    expect(login.code).toBe(0);
    const file = join(home, 'config', 'conductor', 'config.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'config', 'conductor')).mode & 0o777).toBe(0o700);
    expect((await conductor(['queue', '--json'], env)).code).toBe(0);
    expect((await conductor(['nodes', '-M', 'test-cluster'], env)).code).toBe(0);
    expect((await conductor(['nodes', '--cluster', 'nowhere'], env)).code).toBe(2);
    const refused = await conductor(['login', started.api.url, '--name', 'bad', '--token', 'wrong'], env);
    expect(refused.code).toBe(1);
    expect(existsSync(file)).toBe(true);
  });

  it('runs the same from its single-file bundle (npm run build:cli)', async () => {
    execFileSync('npm', ['run', 'build:cli'], { cwd: ROOT, stdio: 'pipe' });
    const bundle = join(ROOT, 'dist/conductor.mjs');
    const run = await start(
      ['submit', '--parsable', '-J', 'bundled', '-D', started.work, '--wrap', 'true'],
      api(),
      '',
      bundle,
    ).done;
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(await waitForState(started.api.t, run.stdout.trim(), ['COMPLETED'])).toMatchObject({ name: 'bundled' });
    expect((await start(['submit', '-N', '2'], api(), '', bundle).done).code).toBe(2);
  });

  it('--follow streams the output and exits with the job; --json --wait prints the ended job', async () => {
    const follow = await conductor(['submit', '--follow', '-D', started.work, '--wrap', 'echo one; echo two; exit 4']);
    expect(follow.code).toBe(4);
    expect(follow.stdout).toMatch(/^Submitted batch job \d+\none\ntwo\n$/);
    const json = await conductor(['submit', '--json', '--wait', '-D', started.work, '--wrap', 'true']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ state: 'COMPLETED', exit_code: { status: 0 } });
  });

  it('shows a job as scontrol does; makes, lists and revokes tokens; drains and resumes a node', async () => {
    const id = (
      await conductor(['submit', '--parsable', '-p', 'other', '-J', 'shown', '--wrap', 'true'])
    ).stdout.trim();
    const shown = await conductor(['show', id]);
    expect(shown.stdout).toMatch(new RegExp(`^JobId=${id} JobName=shown\n`));
    expect(shown.stdout).toMatch(/JobState=PENDING Reason=\S+/);
    expect(shown.stdout).toMatch(/PENDING\s+admin/);
    await conductor(['cancel', id]);

    const made = await conductor(['tokens', 'create', 'cli-user', '--account', 'physics', '--user', 'alice', '--json']);
    const token = JSON.parse(made.stdout);
    expect(token).toMatchObject({ kind: 'user', account: 'physics', user: 'alice', token: expect.any(String) });
    expect((await conductor(['tokens', 'list'])).stdout).toMatch(
      new RegExp(`${token.id}\\s+cli-user\\s+user\\s+physics`),
    );
    expect(await conductor(['tokens', 'revoke', token.id])).toMatchObject({
      code: 0,
      stdout: `token ${token.id}: revoked\n`,
    });
    expect((await conductor(['queue'], { CONDUCTOR_TOKEN: token.token })).code).toBe(1);

    // scontrol refuses a drain without a reason: a usage error, nothing sent.
    expect((await conductor(['drain', 'cli-node'])).code).toBe(2);
    expect((await conductor(['drain', 'cli-node', '--reason', ' '])).code).toBe(2);
    const proxy = await startRecordingProxy(started.api.url);
    try {
      const drained = await conductor(['drain', 'cli-node', '--reason', 'disk check'], { CONDUCTOR_URL: proxy.url });
      expect(drained).toMatchObject({ code: 0, stdout: 'node cli-node: draining (disk check)\n' });
      expect(proxy.requests).toHaveLength(1);
      const [sent] = proxy.requests;
      expect(sent).toMatchObject({ method: 'POST', path: '/v1/nodes/cli-node/drain' });
      expect(sent!.headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.parse(sent!.body)).toEqual({ reason: 'disk check' });
    } finally {
      await proxy.close();
    }
    expect((await conductor(['nodes'])).stdout).toMatch(/default\s+DRAINING\s+0\/0\/\d+\/\d+/);
    const reasons = await conductor(['nodes', '-R']);
    expect(reasons.stdout).toMatch(/^REASON\s+USER\s+TIMESTAMP\s+NODELIST\s*\n.*\s+cli-node\s*\n$/);
    expect((await conductor(['resume', 'cli-node'])).code).toBe(0);
    expect((await conductor(['nodes'])).stdout).toMatch(/default\s+UP/);
    expect((await conductor(['nodes', '-R'])).stdout).not.toMatch(/cli-node/);
  });

  it('sinfo -R shows the reason a drain gave, who gave it and when', async () => {
    expect((await conductor(['drain', 'cli-node', '--reason', 'fan noise'])).code).toBe(0);
    try {
      const reasons = await conductor(['nodes', '-R']);
      expect(reasons.stdout).toMatch(/^fan noise\s+\S+\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\s+cli-node\s*$/m);
      expect(reasons.stdout).not.toMatch(/Unknown/);
    } finally {
      await conductor(['resume', 'cli-node']);
    }
  });
});

describe("the package's bin (cli/conductor.mjs)", () => {
  it('runs the built bundle when it is as new as every source, else the sources through tsx', async () => {
    // A copy of the launcher in a tree of its own, whose bundle and sources each say which they are.
    const tree = mkdtempSync(join(tmpdir(), 'conductor-bin-'));
    try {
      for (const dir of ['cli', 'sdk', 'shared/job', 'dist']) mkdirSync(join(tree, dir), { recursive: true });
      symlinkSync(join(ROOT, 'node_modules'), join(tree, 'node_modules'));
      writeFileSync(join(tree, 'package.json'), '{ "type": "module" }\n');
      copyFileSync(LAUNCHER, join(tree, 'cli/conductor.mjs'));
      const source = join(tree, 'shared/job/some-rule.ts');
      writeFileSync(join(tree, 'cli/main.ts'), "const from: string = 'sources';\nconsole.log(from);\n");
      writeFileSync(join(tree, 'sdk/index.ts'), 'export {};\n');
      writeFileSync(source, 'export {};\n');
      const bundle = join(tree, 'dist/conductor.mjs');
      const runs = () => execFileSync(process.execPath, [join(tree, 'cli/conductor.mjs')], { encoding: 'utf8' });

      expect(runs()).toBe('sources\n');
      writeFileSync(bundle, "console.log('bundle');\n");
      expect(runs()).toBe('bundle\n');
      // As a packed tarball has them: every file of one time (npm's 1985-10-26).
      const packed = new Date('1985-10-26T08:15:00Z');
      const files = [bundle, source, join(tree, 'cli/main.ts'), join(tree, 'sdk/index.ts')];
      for (const file of files) utimesSync(file, packed, packed);
      expect(runs()).toBe('bundle\n');
      // A source edited after the build: the bundle is stale.
      utimesSync(source, packed, new Date(packed.getTime() + 1000));
      expect(runs()).toBe('sources\n');
    } finally {
      rmSync(tree, { recursive: true, force: true });
    }
  });
});

describe('conductor completion', () => {
  it('prints bash and zsh scripts that the shells read, offering the commands and sbatch options', async () => {
    for (const shell of ['bash', 'zsh']) {
      const run = await start(['completion', shell]).done;
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('complete -F _conductor conductor');
      expect(run.stdout).toMatch(/submit\) words="[^"]*--cpus-per-task/);
      execFileSync('bash', ['-n'], { input: run.stdout });
    }
    // Loaded by bash as ~/.bashrc would (`source <(conductor completion bash)`), then asked as a Tab would ask it.
    const file = join(home, 'conductor-completion.bash');
    writeFileSync(file, (await start(['completion', 'bash']).done).stdout);
    const offered = execFileSync(
      'bash',
      [
        '-euc',
        `source "$1"; COMP_WORDS=(conductor qu); COMP_CWORD=1; _conductor; echo "\${COMPREPLY[*]}"
         COMP_WORDS=(conductor submit --par); COMP_CWORD=2; _conductor; echo "\${COMPREPLY[*]}"`,
        'bash',
        file,
      ],
      { encoding: 'utf8' },
    );
    expect(offered).toBe('queue\n--partition --parsable\n');
    expect((await start(['completion', 'fish']).done).code).toBe(2);
  });
});

describe('conductor into a pipe closed early', () => {
  it('ends quietly, as `conductor help | head -1` expects', async () => {
    const { child, done } = start(['help']);
    // The reader is gone before the command writes: its writes meet a closed pipe.
    child.stdout.destroy();
    const run = await done;
    expect(run.code).toBe(0);
    expect(run.stderr).not.toMatch(/EPIPE|node:events/);
  });
});

describe('conductor migrate and api', () => {
  it('runs the programs npm run migrate and npm start run: migrations applied; an API alone, stopped by SIGTERM', async () => {
    const data = mkdtempSync(join(tmpdir(), 'conductor-cli-data-'));
    try {
      const env = { PATH: process.env.PATH, HOME: home, CONDUCTOR_DATA_DIR: data };
      const migrated = await start(['migrate'], env).done;
      expect(migrated).toMatchObject({ code: 0, stdout: expect.stringMatching(/^applied: 0001_initial/) });
      const port = await freePort('127.0.0.1');
      const api = await startChildServer('conductor api', LAUNCHER, ROOT, { ...env, PORT: String(port) }, undefined, [
        'api',
      ]);
      expect(api.url).toBe(`http://127.0.0.1:${port}`);
      // No node daemon in it: the API alone.
      expect(api.stdout().join('\n')).not.toMatch(/claiming/);
      const nodes = await start(['nodes', '--json'], {
        CONDUCTOR_URL: api.url,
        CONDUCTOR_TOKEN: readFileSync(join(data, 'admin-token'), 'utf8').trim(),
      }).done;
      expect(JSON.parse(nodes.stdout)).toEqual([]);
      api.kill('SIGTERM');
      expect(await api.exited).toBe('code 0');
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });
});
