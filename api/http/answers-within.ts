/**
 * Whether a service answers in time, for the probes a load balancer sends: a stuck database or queue must not hold
 * the probe up for longer than the balancer waits.
 */

// Long enough for a loaded database to answer, short enough that a stuck one still tells a load balancer in time.
export const PROBE_TIMEOUT_MS = 2000;

/**
 * Resolves true when `check` settles successfully within `ms` milliseconds, false when it fails or takes longer.
 * Never rejects; the check is left running when it times out (its own client times it out later).
 */
export async function answersWithin(check: () => Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((done) => {
    timer = setTimeout(() => done(false), ms);
  });
  try {
    return await Promise.race([check().then(() => true as const), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
