/**
 * Accounting's decisions without processes: which source each figure of a run's usage comes from, the wrapper's
 * usage file as read, seff's efficiencies and its report's lines. The real measurements are in run-accounting.test.ts
 * (daemons and jobs) and run-containment.test.ts (cgroups).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { seffMemory, seffReport } from '../cli/seff-report.js';
import type { components } from '../sdk/index.js';
import { runEfficiency } from '../shared/job/run-efficiency.js';
import { readWrapperUsage, runUsage, type WrapperUsage } from '../worker-node/run-usage.js';

const dir = mkdtempSync(join(tmpdir(), 'run-usage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the wrapper's usage file", () => {
  it('reads µs, KiB and ms; "-" is an unknown max RSS; no file or a torn one is none', () => {
    writeFileSync(join(dir, 'usage'), '1820000 208000 205000 7261\n');
    expect(readWrapperUsage(dir)).toEqual({ userUs: 1820000, systemUs: 208000, maxRssKib: 205000, wallMs: 7261 });
    writeFileSync(join(dir, 'usage'), '10000 0 - 5\n');
    expect(readWrapperUsage(dir)).toMatchObject({ maxRssKib: undefined });
    writeFileSync(join(dir, 'usage'), '10000 0');
    expect(readWrapperUsage(dir)).toBeUndefined();
    expect(readWrapperUsage(join(dir, 'none'))).toBeUndefined();
  });
});

describe("a run's usage", () => {
  const wrapper: WrapperUsage = { userUs: 1_800_000, systemUs: 200_000, maxRssKib: 204_800, wallMs: 7000 };

  it('takes each figure from the cgroup where it counts it, else from the wrapper; the wall time from the wrapper', () => {
    expect(runUsage({ cpu: { userMs: 1900.4, systemMs: 100.6 }, maxRssBytes: 300 }, wrapper, 99)).toEqual({
      cpu_user_ms: 1900,
      cpu_system_ms: 101,
      max_rss_bytes: 300,
      wall_ms: 7000,
      cpu_source: 'cgroup',
      memory_source: 'cgroup',
    });
    expect(runUsage({ cpu: { userMs: 1, systemMs: 2 } }, wrapper, 99)).toMatchObject({
      max_rss_bytes: 204_800 * 1024,
      cpu_source: 'cgroup',
      memory_source: 'rusage',
    });
    expect(runUsage({}, wrapper, 99)).toEqual({
      cpu_user_ms: 1800,
      cpu_system_ms: 200,
      max_rss_bytes: 204_800 * 1024,
      wall_ms: 7000,
      cpu_source: 'rusage',
      memory_source: 'rusage',
    });
  });

  it('says an unknown max RSS as null; without the wrapper, the wall time is the fallback; without either, none', () => {
    expect(runUsage({}, { ...wrapper, maxRssKib: undefined }, 99)).toMatchObject({
      max_rss_bytes: null,
      memory_source: null,
    });
    expect(runUsage({ cpu: { userMs: 1, systemMs: 2 } }, undefined, 99)).toMatchObject({ wall_ms: 99 });
    expect(runUsage({ maxRssBytes: 5 }, undefined, 99)).toBeUndefined();
  });
});

describe("seff's efficiencies", () => {
  it('CPU: (user + system) / (wall × CPUs); memory: max RSS / memory asked for; in %, two decimals', () => {
    const usage = { cpuUserMs: 1500, cpuSystemMs: 500, wallMs: 4000, maxRssBytes: 200 * 2 ** 20 };
    expect(runEfficiency(usage, { cpus: 2, memoryMb: 1024 })).toEqual({ cpu_percent: 25, memory_percent: 19.53 });
  });

  it('none for a run that took no wall time, or whose max RSS is unknown', () => {
    const usage = { cpuUserMs: 0, cpuSystemMs: 0, wallMs: 0, maxRssBytes: null };
    expect(runEfficiency(usage, { cpus: 1, memoryMb: 1024 })).toEqual({ cpu_percent: null, memory_percent: null });
  });
});

describe("seff's report", () => {
  const job = {
    display_id: '42',
    state: 'COMPLETED',
    exit_code: { status: 0, signal: null },
    cpus: 2,
    memory_per_node: '1G',
    usage: {
      cpu_user_ms: 1500,
      cpu_system_ms: 500,
      max_rss_bytes: 200 * 2 ** 20,
      wall_ms: 4000,
      cpu_source: 'cgroup',
      memory_source: 'cgroup',
      attempt: 1,
      node: 'n1',
    },
    efficiency: { cpu_percent: 25, memory_percent: 19.53 },
  } as unknown as components['schemas']['JobDetail'];

  it("prints seff's lines", () => {
    expect(seffReport(job).split('\n')).toEqual([
      'Job ID: 42',
      'State: COMPLETED (exit code 0)',
      'Cores: 2',
      'CPU Utilized: 00:00:02',
      'CPU Efficiency: 25.00% of 00:00:08 core-walltime',
      'Job Wall-clock time: 00:00:04',
      'Memory Utilized: 200.00 MB',
      'Memory Efficiency: 19.53% of 1.00 GB',
      '',
    ]);
  });

  it('says so for a job none of whose runs has ended', () => {
    const pending = { ...job, state: 'PENDING' as const, exit_code: null, usage: null, efficiency: null };
    expect(seffReport(pending)).toContain('Efficiency not available');
  });

  it('prints memory as seff does: two decimals, 1024-based units', () => {
    expect(seffMemory(512 * 1024)).toBe('512.00 KB');
    expect(seffMemory(1.5 * 2 ** 30)).toBe('1.50 GB');
  });
});
