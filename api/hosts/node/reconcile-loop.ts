/**
 * Runs the reconciler every few seconds. A failed run (Redis or Postgres away) is reported and tried again at the
 * next tick, never thrown out of the loop; stop() waits for a run in progress.
 */
import type { Reconciler } from '../../reconciler.js';

export function startReconcileLoop(reconciler: Reconciler, everyMs: number, log: (line: string) => void) {
  let running: Promise<void> = Promise.resolve();
  let failing = false;
  const tick = () => {
    running = reconciler.run().then(
      ({ pushed, swept, released }) => {
        if (pushed || swept || released) {
          log(`reconciler: pushed ${pushed} not-enqueued and ${swept} missing refs, released ${released} stale claims`);
        }
        if (failing) log('reconciler: recovered');
        failing = false;
      },
      (error: Error) => {
        // Said once per outage, not at every tick.
        if (!failing) log(`reconciler: ${error.message}; retrying every ${everyMs / 1000} s`);
        failing = true;
      },
    );
  };
  const timer = setInterval(tick, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
