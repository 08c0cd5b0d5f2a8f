/** `npm run gen:scripts`: embeds the Lua and perl files in their generated modules (see script-modules.ts). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT, renderScriptModule, SCRIPT_MODULES } from './script-modules.js';

for (const target of SCRIPT_MODULES) {
  const file = join(PROJECT_ROOT, target.module);
  writeFileSync(file, renderScriptModule(target));
  console.log(`wrote ${file}`);
}
