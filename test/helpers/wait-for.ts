/**
 * Waiting on a condition instead of sleeping a fixed time: a loaded machine makes the wait longer, never the test
 * wrong. The only fixed delay is the polling interval between two looks.
 */

/** How long a wait may take before it fails; below vitest's testTimeout (60 s) so the failure names the condition. */
export const WAIT_TIMEOUT_MS = 45_000;

const POLL_MS = 20;

/** Polls until `check` answers something other than undefined, or fails after `timeoutMs` naming `what`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = WAIT_TIMEOUT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Polls until `check` is true; `waitFor` for conditions with nothing to answer. */
export async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs?: number) {
  await waitFor(what, async () => ((await check()) ? true : undefined), timeoutMs);
}
