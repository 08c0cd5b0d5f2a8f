/** What can go wrong containing a run: typed, so the supervisor can tell them apart and log them. */

/** A run's cgroup could not be made or limited (its hierarchy went read-only, a limit file refused the value). */
export class CgroupSetupFailed extends Error {
  constructor(
    readonly path: string,
    cause: Error,
  ) {
    super(`cannot set up the run's cgroup at ${path}: ${cause.message}`, { cause });
  }
}

/** Some of a run's processes were still there after every kill and the wait for them (stuck in the kernel). */
export class ContainmentKillFailed extends Error {
  constructor(
    readonly run: string,
    readonly survivors: number[],
    waitedMs: number,
  ) {
    super(`run ${run}: ${survivors.length} process(es) outlived SIGKILL for ${waitedMs} ms: ${survivors.join(' ')}`);
  }
}
