/**
 * Runs the `conductor` CLI as a user runs it (its bin, cli/conductor.mjs) against a test API, as an admin, with its
 * own HOME (so no config file of this machine's is read), no colour, and UTC as its local time (what it prints in
 * Slurm's local-time format is then known).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ADMIN_TOKEN } from './test-app.js';

const LAUNCHER = new URL('../../cli/conductor.mjs', import.meta.url).pathname;
const ROOT = new URL('../..', import.meta.url).pathname;

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `conductor ARGS…` with `home` as its HOME against the API at `url`; resolves when it exits. */
export function runConductor(url: string, home: string, args: string[]): Promise<CliRun> {
  const child = spawn(process.execPath, [LAUNCHER, ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: home,
      XDG_CONFIG_HOME: join(home, 'config'),
      NO_COLOR: '1',
      TZ: 'UTC',
      CONDUCTOR_URL: url,
      CONDUCTOR_TOKEN: ADMIN_TOKEN,
    },
  });
  const run: CliRun = { code: null, stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (run.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
  child.stdin.end();
  return new Promise((resolve) => child.on('close', (code) => resolve({ ...run, code })));
}
