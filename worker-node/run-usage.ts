/**
 * What a run used, for the finished event (shared/protocol/run-usage.ts): from its cgroups where they count it (every
 * process the job started), else from what its wrapper wrote beside its exit status (job-launcher.pl: getrusage(2) of
 * the children it and the job waited for, and the wall time from the job's fork to its reaping). Both outlive a
 * daemon's crash (the cgroups stay until the run is forgotten, the file until its directory goes), so a run settled by
 * a restarted daemon is accounted the same way.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunUsage } from '../shared/protocol/run-usage.js';
import type { CgroupUsage } from './containment/run-containment.js';
import { RUN_FILES } from './job-process.js';

/** The wrapper's usage file: CPU times in µs, max RSS in KiB (undefined: unknown), wall time in ms. */
export interface WrapperUsage {
  userUs: number;
  systemUs: number;
  maxRssKib: number | undefined;
  wallMs: number;
}

/** The run's usage file as its wrapper wrote it (`<user µs> <system µs> <max RSS KiB or -> <wall ms>`), if it did. */
export function readWrapperUsage(dir: string): WrapperUsage | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, RUN_FILES.usage), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const match = /^(\d+) (\d+) (\d+|-) (\d+)\n$/.exec(text);
  if (!match) return undefined;
  const [, user, system, rss, wall] = match;
  return {
    userUs: Number(user),
    systemUs: Number(system),
    maxRssKib: rss === '-' ? undefined : Number(rss),
    wallMs: Number(wall),
  };
}

/**
 * The run's usage: each quantity from its cgroups first, else from its wrapper. `fallbackWallMs` is the wall time
 * when the wrapper left no file (it was lost): then only a cgroup can tell the rest. Undefined when neither source
 * says anything (no cgroup, no file).
 */
export function runUsage(
  cgroup: CgroupUsage,
  wrapper: WrapperUsage | undefined,
  fallbackWallMs: number,
): RunUsage | undefined {
  const cpu = cgroup.cpu ?? (wrapper && { userMs: wrapper.userUs / 1000, systemMs: wrapper.systemUs / 1000 });
  if (!cpu) return undefined;
  const rusageRss = wrapper?.maxRssKib === undefined ? undefined : wrapper.maxRssKib * 1024;
  const maxRss = cgroup.maxRssBytes ?? rusageRss;
  return {
    cpu_user_ms: Math.round(cpu.userMs),
    cpu_system_ms: Math.round(cpu.systemMs),
    max_rss_bytes: maxRss ?? null,
    wall_ms: Math.max(0, Math.round(wrapper?.wallMs ?? fallbackWallMs)),
    cpu_source: cgroup.cpu ? 'cgroup' : 'rusage',
    memory_source: cgroup.maxRssBytes !== undefined ? 'cgroup' : rusageRss !== undefined ? 'rusage' : null,
  };
}
