import { inject } from 'vitest';

/**
 * A program as test/global-setup.ts bundled it for this run (`nodeBundle`: the daemon, `hostBundle`: the Node API
 * host), or `source` (run through tsx) where there is no such setup, as under the benches.
 */
export function bundled(name: 'nodeBundle' | 'hostBundle', source: string): string {
  try {
    return inject(name) ?? source;
  } catch {
    return source; // not under vitest
  }
}
