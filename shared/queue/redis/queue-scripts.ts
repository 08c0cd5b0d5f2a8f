/** The Redis queue's scripts. Each is a .lua file in scripts/ whose header says its contract; see script-modules.ts. */
import type { RedisScript } from './redis-script.js';
import * as lua from './scripts/lua.generated.js';

export const claimScript: RedisScript = { name: 'claim', source: lua.claim };
export const enqueueScript: RedisScript = { name: 'enqueue', source: lua.enqueue };
export const inspectScript: RedisScript = { name: 'inspect', source: lua.inspect };
export const pauseScript: RedisScript = { name: 'pause', source: lua.pause };
export const releaseScript: RedisScript = { name: 'release', source: lua.release };
export const releaseStaleScript: RedisScript = { name: 'release-stale', source: lua.releaseStale };
export const removeScript: RedisScript = { name: 'remove', source: lua.remove };
export const settleScript: RedisScript = { name: 'settle', source: lua.settle };
