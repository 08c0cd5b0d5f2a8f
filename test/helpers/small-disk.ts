/**
 * A small disk the test fills, for the node's disk-full faults (issue 15): a tmpfs of `size` mounted on a directory
 * of the test's (needs root, as CI runs). `fill()` takes every free byte with one file, so that the next write of
 * anyone (the daemon's journal, a job's wrapper, a job) fails with ENOSPC; `free()` gives them back.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface SmallDisk {
  dir: string;
  fill(): void;
  free(): void;
  unmount(): void;
}

const FILLER = '.filler';

/** Mounts a tmpfs of `size` (mount(8)'s form: `2m`) on `dir`, which must exist and be empty. */
export function mountSmallDisk(dir: string, size: string): SmallDisk {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir]);
  return {
    dir,
    fill() {
      const fd = openSync(join(dir, FILLER), 'a');
      const block = Buffer.alloc(4096, 'x');
      try {
        for (;;) writeSync(fd, block);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      } finally {
        closeSync(fd);
      }
    },
    free() {
      rmSync(join(dir, FILLER), { force: true });
    },
    unmount() {
      // Lazily: a process of a failed test may still hold a file open in it.
      execFileSync('umount', ['-l', dir]);
    },
  };
}
