/**
 * Runs `load` now and again every `everyMs` after each run ends (never two at once), while the page is shown; runs it
 * at once when the tab comes back into view. `load` gets a signal aborted when the component goes or its inputs
 * change. Errors are the caller's (load handles them); the polling carries on.
 */
import { useEffect } from 'preact/hooks';

export function usePolling(load: (signal: AbortSignal) => Promise<void>, everyMs: number, inputs: unknown[]): void {
  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let running = false;
    const run = async () => {
      clearTimeout(timer);
      if (running || controller.signal.aborted) return;
      running = true;
      try {
        await load(controller.signal);
      } catch {
        // load reports its own errors; a failed run is retried at the next tick.
      } finally {
        running = false;
      }
      if (!controller.signal.aborted && !document.hidden) timer = setTimeout(() => void run(), everyMs);
    };
    const onVisible = () => {
      if (!document.hidden) void run();
    };
    document.addEventListener('visibilitychange', onVisible);
    void run();
    return () => {
      controller.abort();
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, inputs);
}
