/**
 * What the daemon reads of the machine's processes, from /proc: one parser of /proc/<pid>/stat for naming a process
 * (pid and start time), telling whether a process group still lives, and measuring a group's resident memory (how a
 * job's memory request is enforced where no cgroup is used). A process that leaves its job's group (setsid,
 * setpgid) is not counted; the README says so.
 */
import { readdirSync, readFileSync } from 'node:fs';

const PAGE_BYTES = 4096;

interface ProcessStat {
  /** A zombie has ended; only its exit status waits to be collected. */
  zombie: boolean;
  parent: number;
  group: number;
  /** In clock ticks since boot: with the pid, it names the process even after the pid is reused. */
  startTime: number;
  residentBytes: number;
}

/** Undefined when no such process is there (gone, or gone meanwhile), or its stat cannot be read. */
function readStat(pid: number | string): ProcessStat | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return parseStat(stat);
}

function parseStat(stat: string): ProcessStat {
  // The command name (field 2) may hold spaces and parentheses: count fields after its closing one. From there:
  // state (0), ppid, pgrp (2), ... start time (19), vsize, rss in pages (21).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    zombie: fields[0] === 'Z',
    parent: Number(fields[1]),
    group: Number(fields[2]),
    startTime: Number(fields[19]),
    residentBytes: Number(fields[21]) * PAGE_BYTES,
  };
}

function* everyProcess(): Generator<ProcessStat> {
  for (const [, stat] of everyProcessById()) yield stat;
}

function* everyProcessById(): Generator<[number, ProcessStat]> {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(entry);
    if (stat) yield [Number(entry), stat];
  }
}

/** The process's start time, or undefined when no such process is alive (a zombie is not). */
export function processStartTime(pid: number): number | undefined {
  const stat = readStat(pid);
  return stat && !stat.zombie ? stat.startTime : undefined;
}

/**
 * What became of a process named by pid and start time: `alive`; `zombie` (it has ended, and its parent has not
 * collected its exit status yet); `gone` (no process has the pid, or another process has it now). Only a process
 * known gone is: a stat that cannot be read for another reason than its absence (EACCES, a /proc mounted with hidepid)
 * answers `alive`, since the process may well be there.
 */
export type ProcessState = 'alive' | 'zombie' | 'gone';

export function processState(pid: number, startTime: number): ProcessState {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ESRCH' ? 'gone' : 'alive';
  }
  const stat = parseStat(text);
  if (stat.startTime !== startTime) return 'gone';
  return stat.zombie ? 'zombie' : 'alive';
}

/** Whether any live (not zombie) process of the group is there. */
export function groupHasLiveProcess(group: number): boolean {
  for (const stat of everyProcess()) if (stat.group === group && !stat.zombie) return true;
  return false;
}

/** The process group of a process; undefined when it is gone. */
export function processGroup(pid: number): number | undefined {
  return readStat(pid)?.group;
}

/** The parent of a process; undefined when it is gone. */
export function parentProcess(pid: number): number | undefined {
  return readStat(pid)?.parent;
}

/**
 * Whether a process catches or ignores a signal now (bit `signal - 1` of SigCgt or SigIgn in /proc/<pid>/status): a
 * signal whose default action would end it then runs its handler, or does nothing. False when it is gone.
 */
export function handlesSignal(pid: number, signal: number): boolean {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return false;
  }
  const mask = (name: string) => BigInt(`0x${new RegExp(`^${name}:\\s*([0-9a-f]+)$`, 'm').exec(status)?.[1] ?? '0'}`);
  return ((mask('SigCgt') | mask('SigIgn')) >> BigInt(signal - 1)) % 2n === 1n;
}

/** The live (not zombie) processes of the group. */
export function groupMembers(group: number): number[] {
  const pids: number[] = [];
  for (const [pid, stat] of everyProcessById()) if (stat.group === group && !stat.zombie) pids.push(pid);
  return pids;
}

/**
 * The process's arguments as the kernel holds them (/proc/<pid>/cmdline: for a script run by its `#!` line, the
 * interpreter, then the script's path); undefined when it is gone or cannot be read.
 */
export function commandLine(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  } catch {
    return undefined;
  }
}

/** Bytes resident per process group id, for the groups asked about. */
export function residentBytesByGroup(groups: Set<number>): Map<number, number> {
  const bytes = new Map<number, number>();
  if (groups.size === 0) return bytes;
  for (const stat of everyProcess()) {
    if (groups.has(stat.group)) bytes.set(stat.group, (bytes.get(stat.group) ?? 0) + stat.residentBytes);
  }
  return bytes;
}
