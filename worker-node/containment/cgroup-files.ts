/**
 * Reading and writing cgroup files: each holds one value and is read or written whole (cgroups(7), the kernel's
 * Documentation/admin-guide/cgroup-v2.rst). Synchronous: a cgroup file is in memory, its read or write takes
 * microseconds, and a run's setup is a handful of them.
 */
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processStartTime } from '../process-table.js';

/** The file's text, trimmed; undefined when it is not there (no such cgroup, or no such controller file). */
export function readCgroupFile(dir: string, file: string): string | undefined {
  try {
    return readFileSync(join(dir, file), 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export function writeCgroupFile(dir: string, file: string, value: string): void {
  writeFileSync(join(dir, file), value);
}

/** Makes the cgroup; one already there (a run launched again after a restart) is used as it is. */
export function makeCgroup(dir: string): void {
  try {
    mkdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

/**
 * Removes the cgroup: true once it is gone. False while it is busy: a process still in it, or (v1 memory) the
 * kernel still uncharging the pages of one that just ended.
 */
export function removeCgroup(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return true;
    if (code === 'EBUSY') return false;
    throw error;
  }
}

/**
 * The live processes in the cgroup (its cgroup.procs; a v1 hierarchy's may list a zombie, which has ended and is
 * left out). None when the cgroup is not there.
 */
export function cgroupProcesses(dir: string): number[] {
  const text = readCgroupFile(dir, 'cgroup.procs');
  if (!text) return [];
  return text
    .split('\n')
    .map(Number)
    .filter((pid) => pid > 0 && processStartTime(pid) !== undefined);
}

/** A `key value` line of a flat-keyed cgroup file (memory.events, memory.oom_control): the value, if the key is there. */
export function flatKey(text: string | undefined, key: string): number | undefined {
  const line = text?.split('\n').find((candidate) => candidate.startsWith(`${key} `));
  return line === undefined ? undefined : Number(line.slice(key.length + 1));
}
