/**
 * The node's `srun` (srun.pl says what it does): written by the daemon at start-up into a directory of its own in the
 * node's directory, which every job finds first on its PATH (job-environment.ts). The directory is the daemon's and
 * only passable by others (0711), the program readable and executable by all (0755, perl reads it by its path) and
 * writable by the daemon alone: a job can run it, not change it. Written aside and renamed, so a job starting it while
 * a restarted daemon writes it again never reads half a file.
 */
import { chmodSync, existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as perl from './perl.generated.js';

/** The directory put first on every job's PATH: `<node dir>/bin`. */
export const programsDir = (nodeDir: string) => join(nodeDir, 'bin');

/** The path of the node's srun: how the daemon tells a job's steps (their srun processes) from its other processes. */
export const srunPath = (nodeDir: string) => join(programsDir(nodeDir), 'srun');

/** The interpreter srun.pl's `#!` line names: the kernel runs it for a job, whatever the job's PATH. */
const PERL = '/usr/bin/perl';

/**
 * Writes the node's srun into `programsDir(nodeDir)`, which must exist. Throws what the filesystem says.
 * @returns a line for the start-up log when srun cannot run here (no /usr/bin/perl), else undefined
 */
export function installSrun(nodeDir: string): string | undefined {
  const path = srunPath(nodeDir);
  const aside = `${path}.new`;
  writeFileSync(aside, perl.srun, { mode: 0o755 });
  // The daemon's umask may have narrowed the mode it was made with.
  chmodSync(aside, 0o755);
  renameSync(aside, path);
  return existsSync(PERL) ? undefined : `${PERL} is missing: jobs calling srun will fail ("bad interpreter")`;
}
