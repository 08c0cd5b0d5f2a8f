/**
 * vitest globalSetup: two real Unix users for the suites that run jobs as their owners (run-as-owner, tenancy
 * probes), made once per run and removed at its end. Only root can make them (and only a root daemon switches
 * users): when not root it provides none, and those suites skip with the reason. CI runs as root, so there they run.
 * Each user has a home directory and its own group; both are also in one shared supplementary group, so a test sees
 * the supplementary groups a job gets (initgroups(3)).
 */
import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The two users' login names and their shared group's; null when the run is not root. */
    unixUsers: { a: string; b: string; group: string } | null;
  }
}

const run = (command: string, args: string[]) => execFileSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });

export default function setup(project: TestProject): (() => void) | undefined {
  if (process.getuid?.() !== 0) {
    project.provide('unixUsers', null);
    return undefined;
  }
  // The pid keeps two runs on one machine apart; `cndt` marks what a crashed run left, for a person to remove.
  const names = { a: `cndt${process.pid}a`, b: `cndt${process.pid}b`, group: `cndt${process.pid}g` };
  const made: string[] = [];
  run('groupadd', [names.group]);
  try {
    for (const user of [names.a, names.b]) {
      // -K UID_MIN: owners are ordinary users (CONDUCTOR_MIN_UID's default is 1000), whatever login.defs says.
      run('useradd', ['--create-home', '--user-group', '-K', 'UID_MIN=1000', '--groups', names.group, user]);
      made.push(user);
    }
  } catch (error) {
    removeUsers(made, names.group);
    throw error;
  }
  project.provide('unixUsers', names);
  return () => removeUsers([names.a, names.b], names.group);
}

/** Their suites end their jobs: a process of theirs still running keeps userdel from removing them, and says so. */
function removeUsers(users: string[], group: string): void {
  for (const user of users) {
    try {
      run('userdel', ['--remove', user]);
    } catch (error) {
      console.warn(`unix-users-setup: ${user} not removed: ${(error as { stderr?: Buffer }).stderr ?? error}`);
    }
  }
  try {
    run('groupdel', [group]);
  } catch {
    // Likewise.
  }
}
