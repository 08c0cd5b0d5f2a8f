/**
 * Headless Chromium for the console's tests and bench: Debian's `chromium` package (playwright's own browser download
 * cannot work here), driven by playwright-core. `chromiumPath()` answers where it is, or why it is not there, so that
 * a suite skips with that reason; `.ci/run` installs it.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/lib/chromium/chromium'];

/** Chromium's executable (CONDUCTOR_CHROMIUM, or Debian's), or undefined. */
export function chromiumPath(): string | undefined {
  const wanted = process.env.CONDUCTOR_CHROMIUM;
  if (wanted) return existsSync(wanted) ? wanted : undefined;
  return CANDIDATES.find((path) => existsSync(path));
}

/** Why the browser suites skip, or undefined when Chromium is there. Printed once by the suite that skips. */
export function browserMissing(): string | undefined {
  return chromiumPath()
    ? undefined
    : 'Chromium is not installed (apt-get install chromium, or set CONDUCTOR_CHROMIUM): the browser tests are skipped';
}

/**
 * A headless Chromium. Root (CI, this machine) needs --no-sandbox; /dev/shm is small in containers, hence
 * --disable-dev-shm-usage.
 */
export function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error(browserMissing());
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}
