/** A secret read from a file named in the environment, so it stays out of the environment (and `ps e`, unit files). */
import { readFileSync, statSync } from 'node:fs';

/**
 * The secret in the file at `path`: its text without the one trailing line break an editor or `echo` adds. Refuses a
 * file that group or others may read or write (any bit in 0o077), as ssh refuses such a private key ("UNPROTECTED
 * PRIVATE KEY FILE": ssh(1), sshkey_perm_ok in OpenSSH's authfile.c). Throws an Error saying what is wrong and the
 * cure; the caller names the variable.
 */
export function readSecretFile(path: string): string {
  let mode: number;
  let text: string;
  try {
    mode = statSync(path).mode;
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if ((mode & 0o077) !== 0) {
    const shown = (mode & 0o777).toString(8).padStart(4, '0');
    throw new Error(`${path} is open to others (mode ${shown}): chmod 600 it, owned by the user the daemon runs as`);
  }
  return text.replace(/\r?\n$/, '');
}
