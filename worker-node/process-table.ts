/**
 * Resident memory per process group, from one pass over /proc: how the daemon enforces a job's memory request where
 * it cannot use a cgroup. A process that leaves its job's group (setsid, setpgid) is not counted; the README says so.
 */
import { readdirSync, readFileSync } from 'node:fs';

const PAGE_BYTES = 4096;

/** Bytes resident per process group id, for the groups asked about. */
export function residentBytesByGroup(groups: Set<number>): Map<number, number> {
  const bytes = new Map<number, number>();
  if (groups.size === 0) return bytes;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // After the command: state (0), ppid, pgrp (2) ... rss in pages (21).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const group = Number(fields[2]);
    if (groups.has(group)) bytes.set(group, (bytes.get(group) ?? 0) + Number(fields[21]) * PAGE_BYTES);
  }
  return bytes;
}
