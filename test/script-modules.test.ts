import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT, renderScriptModule, SCRIPT_MODULES } from '../shared/script-modules.js';
import * as lua from '../shared/queue/redis/scripts/lua.generated.js';

describe('the generated script modules', () => {
  it.each(SCRIPT_MODULES)('$module is what `npm run gen:scripts` writes from the files now', (target) => {
    expect(readFileSync(join(PROJECT_ROOT, target.module), 'utf8')).toBe(renderScriptModule(target));
  });

  it('paste an included file in place of its @include line', () => {
    const putBack = readFileSync(join(PROJECT_ROOT, 'shared/queue/redis/scripts/includes/put-back.lua'), 'utf8');
    for (const source of [lua.release, lua.releaseStale]) {
      expect(source).toContain(putBack);
      expect(source).not.toMatch(/^--- @include/m);
    }
  });
});
