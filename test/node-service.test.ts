/**
 * The node daemon installed as a service (issue 16, item 6): `npm run build:node`'s one file run with plain node from
 * a directory with no checkout and no node_modules, its token read from a file, its start line naming what it talks
 * to, and deploy/conductor-node.service checked by systemd-analyze (this machine runs no systemd to start it).
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLine } from '../worker-node/start-line.js';
import { startTestApi, testNodes, waitForState, type TestApi, type TestNodes } from './helpers/test-node.js';

const ROOT = new URL('..', import.meta.url).pathname;
const UNIT = join(ROOT, 'deploy/conductor-node.service');
const SYSTEMD_ANALYZE = '/usr/bin/systemd-analyze';
const run = promisify(execFile);
const BUILD_SCRIPT = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
).scripts['build:node']!;
/** The build script's esbuild arguments, so the test builds what `npm run build:node` builds, where it says. */
const BUNDLE_ARGS = BUILD_SCRIPT.match(/"[^"]*"|\S+/g)!
  .slice(1)
  .map((arg) => arg.replace(/^"|"$/g, ''));
const OUTFILE = BUNDLE_ARGS.find((arg) => arg.startsWith('--outfile='))!.slice('--outfile='.length);

/** `dir` and every directory above it has no node_modules: what runs from there needs none. */
function noNodeModulesUp(dir: string): boolean {
  for (let at = dir; ; at = dirname(at)) {
    if (existsSync(join(at, 'node_modules'))) return false;
    if (at === dirname(at)) return true;
  }
}

describe('the daemon bundle (npm run build:node) installed away from the checkout', () => {
  let api: TestApi;
  let nodes: TestNodes;
  let install: string;
  let bundle: string;
  let tokenFile: string;

  beforeAll(async () => {
    api = await startTestApi();
    nodes = testNodes(api);
    // As /opt/conductor/ on a compute machine: the one file, nothing beside it.
    install = nodes.dir();
    bundle = join(install, OUTFILE.split('/').pop()!);
    await run(
      'npx',
      ['esbuild', ...BUNDLE_ARGS.filter((arg) => !arg.startsWith('--outfile=')), `--outfile=${bundle}`],
      { cwd: ROOT },
    );
    tokenFile = join(nodes.dir(), 'node-token');
    writeFileSync(tokenFile, `${await api.t.token('node', 'svc1')}\n`, { mode: 0o600 });
  });
  afterAll(async () => {
    await nodes?.cleanup();
    await api?.close();
  });

  it('runs a job that uses srun, with plain node, its token from a file, and says it claims through the API', async () => {
    expect(noNodeModulesUp(install), `${install} must have no node_modules above it`).toBe(true);
    const daemon = await nodes.start(
      'svc1',
      // readConfig takes an empty variable for unset: the token is the file's alone.
      { CONDUCTOR_NODE_TOKEN: '', CONDUCTOR_NODE_TOKEN_FILE: tokenFile },
      undefined,
      { script: bundle, cwd: install },
    );
    expect(daemon.stdout().join('\n')).toContain(`claiming through the API at ${api.url}/`);
    const work = nodes.dir();
    // The perl launcher and the node's srun come from inside the bundle: there is nothing else to read them from.
    const id = await api.t.submit(
      { name: 'svc', current_working_directory: work, ntasks_per_node: 2 },
      "#!/bin/bash\nsrun bash -c 'echo task $SLURM_PROCID' | sort",
    );
    const job = await waitForState(api.t, id, ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT']);
    expect(job).toMatchObject({ state: 'COMPLETED', node: 'svc1' });
    expect(readFileSync(join(work, `slurm-${id}.out`), 'utf8')).toBe('task 0\ntask 1\n');
  });

  const startRefused = async (env: Record<string, string>) => {
    const started = run(process.execPath, [bundle], {
      cwd: install,
      env: { PATH: process.env.PATH, CONDUCTOR_API_URL: api.url, CONDUCTOR_LOG_DIR: api.logDir, ...env },
    });
    return started.then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
  };

  it('refuses a token file others may read, as ssh refuses such a key, naming the variable and the cure', async () => {
    const open = join(nodes.dir(), 'open-token');
    writeFileSync(open, readFileSync(tokenFile));
    chmodSync(open, 0o640);
    const failure = await startRefused({ CONDUCTOR_NODE_TOKEN_FILE: open });
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toContain(`CONDUCTOR_NODE_TOKEN_FILE: ${open} is open to others (mode 0640): chmod 600 it`);
  });

  it.each([
    ['no token at all', () => ({}), 'CONDUCTOR_NODE_TOKEN: required'],
    [
      'both a token and a file',
      () => ({ CONDUCTOR_NODE_TOKEN: 'node-token-0123456789abcdef', CONDUCTOR_NODE_TOKEN_FILE: tokenFile }),
      'CONDUCTOR_NODE_TOKEN: set CONDUCTOR_NODE_TOKEN or CONDUCTOR_NODE_TOKEN_FILE, not both',
    ],
    [
      'a file that is not there',
      () => ({ CONDUCTOR_NODE_TOKEN_FILE: '/nonexistent/node-token' }),
      'CONDUCTOR_NODE_TOKEN_FILE: cannot read /nonexistent/node-token: ENOENT',
    ],
  ])('refuses %s, naming the variable', async (_, env, said) => {
    const failure = await startRefused(env());
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toContain(said);
  });
});

describe("the daemon's start line", () => {
  it('names the queue it claims from and the API it reports to, never a password', () => {
    expect(startLine({ apiUrl: 'https://api.example.com', redisUrl: 'redis://:s3cret@queue-host:6379/2' })).toBe(
      'claiming from Redis at redis://queue-host:6379/2, reporting to the API at https://api.example.com/',
    );
    expect(startLine({ apiUrl: 'https://api.example.com', upstashUrl: 'https://eu1-x.upstash.io' })).toBe(
      'claiming from Upstash at https://eu1-x.upstash.io/, reporting to the API at https://api.example.com/',
    );
    expect(startLine({ apiUrl: 'https://node:s3cret@api.example.com' })).toBe(
      'claiming through the API at https://api.example.com/',
    );
  });
});

describe('deploy/conductor-node.service', () => {
  const unit = readFileSync(UNIT, 'utf8');
  const settings = (key: string) =>
    unit
      .split('\n')
      .filter((line) => line.startsWith(`${key}=`))
      .map((line) => line.slice(key.length + 1));

  it('keeps jobs through a daemon restart, hands it its cgroups, restarts it on failure, and runs the bundle', () => {
    expect(settings('KillMode')).toEqual(['process']);
    expect(settings('Delegate')).toEqual(['yes']);
    expect(settings('Restart')).toEqual(['on-failure']);
    expect(settings('ExecStart')).toEqual([`/usr/bin/node /opt/conductor/${OUTFILE.split('/').pop()}`]);
    // The token as a credential, never in the environment file.
    expect(settings('LoadCredential')).toEqual(['node-token:/etc/conductor/node-token']);
    expect(settings('Environment')).toContain('CONDUCTOR_NODE_TOKEN_FILE=%d/node-token');
  });

  const verifiable = existsSync(SYSTEMD_ANALYZE);
  if (!verifiable) console.log(`skipping systemd-analyze verify: no ${SYSTEMD_ANALYZE} on this machine`);

  it.skipIf(!verifiable)('passes systemd-analyze verify without a warning (and a broken copy does not)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'conductor-unit-'));
    try {
      // verify wants ExecStart's program to exist: this machine's node where the unit says /usr/bin/node.
      const copy = join(dir, 'conductor-node.service');
      const here = unit.replace('/usr/bin/node ', `${process.execPath} `);
      writeFileSync(copy, here);
      const verified = await run(SYSTEMD_ANALYZE, ['verify', copy]);
      expect(verified.stderr).toBe('');
      // A misspelt key is only a warning to systemd: the empty stderr above is what says the unit is clean.
      writeFileSync(copy, here.replace('Delegate=yes', 'Delegat=yes'));
      const broken = await run(SYSTEMD_ANALYZE, ['verify', copy]);
      expect(broken.stderr).toContain("Unknown key 'Delegat'");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
