/** The node's own directories (worker-node/private-dirs.ts): made with their mode, narrowed, and the way to them. */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import {
  assertExecutable,
  ensureDirectory,
  PASSABLE,
  PRIVATE,
  UnsafeDirectory,
  unpassableAncestor,
} from '../worker-node/private-dirs.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("the node's own directories", () => {
  it('are made with their mode, and one found otherwise is set to it, saying what changed', () => {
    const root = mkdtempSync(join(tmpdir(), 'conductor-dirs-'));
    dirs.push(root);
    expect(ensureDirectory(join(root, 'journal'), PRIVATE)).toBeUndefined();
    expect(statSync(join(root, 'journal')).mode & 0o777).toBe(0o700);
    mkdirSync(join(root, 'runs'), { mode: 0o755 });
    chmodSync(join(root, 'runs'), 0o755);
    expect(ensureDirectory(join(root, 'runs'), PRIVATE)).toBe(`${join(root, 'runs')}: mode 755 made 700`);
    expect(statSync(join(root, 'runs')).mode & 0o777).toBe(0o700);
  });

  it('tell the first directory on the way that others cannot pass through', () => {
    const root = mkdtempSync(join(tmpdir(), 'conductor-dirs-'));
    dirs.push(root);
    ensureDirectory(join(root, 'node', 'work'), PASSABLE);
    chmodSync(root, 0o700);
    // The temporary directory itself (sticky, world-passable) is on the way too.
    expect(unpassableAncestor(join(root, 'node', 'work'))).toBe(root);
    chmodSync(root, PASSABLE);
    chmodSync(join(root, 'node'), PASSABLE);
    expect(unpassableAncestor(join(root, 'node', 'work'))).toBeUndefined();
  });

  it('refuse a runs directory where programs cannot run (mounted noexec): job scripts are executed from it', (ctx) => {
    if (process.getuid?.() !== 0) return ctx.skip(); // mounting needs root (CI runs as root)
    const root = mkdtempSync(join(tmpdir(), 'conductor-dirs-'));
    dirs.push(root);
    assertExecutable(root);
    expect(readdirSync(root)).toEqual([]); // the probe is gone
    const noexec = join(root, 'noexec');
    mkdirSync(noexec);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'noexec,size=1m', 'tmpfs', noexec]);
    try {
      expect(() => assertExecutable(noexec)).toThrow(UnsafeDirectory);
      expect(() => assertExecutable(noexec)).toThrow(`programs cannot run from ${noexec}`);
    } finally {
      execFileSync('umount', [noexec]);
    }
  });
});
