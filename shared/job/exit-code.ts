/**
 * Exit codes kept Slurm-style: the exit status and the terminating signal are separate, since a job killed by
 * SIGKILL has no exit status of its own. Shown as "status:signal", as sacct does.
 */
export function formatExitCode(status: number | null, signal: number | null): string | null {
  if (status === null && signal === null) return null;
  return `${status ?? 0}:${signal ?? 0}`;
}
