/** The priority recompute's script, kept beside queue-scripts.ts rather than in it: see scripts/reprioritise.lua. */
import type { RedisScript } from './redis-script.js';
import * as lua from './scripts/lua.generated.js';

export const reprioritiseScript: RedisScript = { name: 'reprioritise', source: lua.reprioritise };
