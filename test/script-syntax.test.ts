/**
 * The Lua scripts parse as the Lua that Redis runs, 5.1 (Lua 5.4's luac accepts `goto`, `//` and bitwise operators,
 * which Redis refuses), and the job launcher as perl. Without `luac5.1` (Debian: apt-get install lua5.1) or perl the
 * checks are skipped with the reason printed, unless CONDUCTOR_REQUIRE_SERVICES=1 (CI sets it), where they fail.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as lua from '../shared/queue/redis/scripts/lua.generated.js';
import { PROJECT_ROOT } from '../shared/script-modules.js';

const REQUIRE_SERVICES = process.env.CONDUCTOR_REQUIRE_SERVICES === '1';

const CHECKERS = {
  lua: { command: 'luac5.1', args: ['-p', '-'], install: 'apt-get install lua5.1' },
  perl: { command: 'perl', args: ['-c', '-'], install: 'apt-get install perl' },
};
type Language = keyof typeof CHECKERS;

/** What the language's own checker says is wrong with `source`; undefined when it parses. */
function syntaxError(language: Language, source: string): string | undefined {
  const { command, args } = CHECKERS[language];
  const result = spawnSync(command, args, { input: source, encoding: 'utf8' });
  if (result.error) throw result.error;
  return result.status === 0 ? undefined : result.stderr;
}

/** Undefined when the checker runs, else why its checks are skipped (or, under CONDUCTOR_REQUIRE_SERVICES=1, fail). */
function checkerMissing(language: Language): string | undefined {
  const { command, install } = CHECKERS[language];
  const result = spawnSync(command, ['-v'], { encoding: 'utf8' });
  if (!result.error) return undefined;
  const reason = `${command} cannot run (${result.error.message}; Debian: ${install})`;
  if (REQUIRE_SERVICES) throw new Error(`${reason}, and CONDUCTOR_REQUIRE_SERVICES=1`);
  console.warn(`skipping the ${language} syntax checks: ${reason}`);
  return reason;
}

const read = (path: string) => readFileSync(join(PROJECT_ROOT, path), 'utf8');
const scriptsDir = 'shared/queue/redis/scripts';
const luaFiles = readdirSync(join(PROJECT_ROOT, scriptsDir), { recursive: true, encoding: 'utf8' })
  .filter((name) => name.endsWith('.lua'))
  .map((name) => join(scriptsDir, name));
const launcher = 'worker-node/job-launcher.pl';

describe.skipIf(checkerMissing('lua'))('the Lua scripts, checked by luac5.1 -p', () => {
  it('found every file', () => {
    expect(luaFiles).toContain(join(scriptsDir, 'claim.lua'));
    expect(luaFiles).toContain(join(scriptsDir, 'includes/put-back.lua'));
  });

  it.each(luaFiles)('%s parses', (path) => {
    expect(syntaxError('lua', read(path))).toBeUndefined();
  });

  it.each(Object.entries(lua))('%s parses as Redis receives it, includes pasted in', (_name, source) => {
    expect(syntaxError('lua', source)).toBeUndefined();
  });

  it('refuses what Redis refuses: a broken copy, and syntax newer than Lua 5.1', () => {
    const claim = read(join(scriptsDir, 'claim.lua'));
    const withLine = (line: string) => claim.replace(']]\n', `]]\n${line}\n`);
    expect(syntaxError('lua', withLine(''))).toBeUndefined();
    expect(syntaxError('lua', claim.replace('local idle =', 'local idle'))).toMatch(/stdin:\d+:/);
    expect(syntaxError('lua', withLine('local half = 7 // 2'))).toMatch(/unexpected symbol near '\/'/);
    expect(syntaxError('lua', withLine('local low = 7 & 1'))).toMatch(/unexpected symbol near '&'/);
    expect(syntaxError('lua', withLine('goto done'))).toMatch(/'=' expected near 'done'/);
  });
});

describe.skipIf(checkerMissing('perl'))('the job launcher, checked by perl -c', () => {
  it(`${launcher} compiles`, () => {
    expect(syntaxError('perl', read(launcher))).toBeUndefined();
  });

  it('refuses a broken copy', () => {
    const broken = read(launcher).replace('my $status = $?;', 'my $status = ;');
    expect(syntaxError('perl', broken)).toMatch(/syntax error/);
  });
});
