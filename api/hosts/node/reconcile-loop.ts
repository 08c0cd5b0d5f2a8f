/**
 * Runs the reconciler every few seconds, one run at a time: the next starts `everyMs` after the last one ended. A
 * tick whose `runOnce` answers null ran nothing (another process's reconciler holds the lease: reconciler-lease.ts). A
 * failed run (Redis or Postgres away) is reported once per outage and tried again at the next tick, never thrown out
 * of the loop; stop() waits for a run in progress. `ran` hears of each run: whether it succeeded, and its seconds.
 */
import type { Reconciler } from '../../reconciler.js';
import { faultReport } from '../../http/fault-report.js';
import type { Logger } from '../../../shared/log/logger.js';

type RunResult = Awaited<ReturnType<Reconciler['run']>>;

export function startReconcileLoop(
  runOnce: () => Promise<RunResult | null>,
  everyMs: number,
  log: Logger,
  ran: (ok: boolean, seconds: number) => void = () => {},
) {
  let stopped = false;
  let failing = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> = Promise.resolve();

  const report = ({ nodesDown, requeued, pushed, swept, released, outputsPurged, jobsPurged }: RunResult) => {
    if (nodesDown.length)
      log.warn(`reconciler: nodes DOWN (silent too long): ${nodesDown.join(', ')}; ${requeued} jobs requeued`, {
        nodes: nodesDown,
        requeued,
      });
    if (pushed || swept || released) {
      log.info(
        `reconciler: pushed ${pushed} not-enqueued and ${swept} missing refs, released ${released} stale claims`,
        { pushed, swept, released },
      );
    }
    if (outputsPurged || jobsPurged) {
      log.info(`reconciler: retention deleted the output of ${outputsPurged} jobs and the rows of ${jobsPurged}`);
    }
  };

  const tick = async () => {
    const started = performance.now();
    const took = () => (performance.now() - started) / 1000;
    try {
      const result = await runOnce();
      if (result !== null) {
        report(result);
        ran(true, took());
      }
      if (failing) log.info('reconciler: recovered');
      failing = false;
    } catch (error) {
      ran(false, took());
      if (!failing) log.error(`reconciler: ${faultReport(error).split('\n')[0]}; retrying every ${everyMs / 1000} s`);
      failing = true;
    }
    if (!stopped) timer = setTimeout(() => void (running = tick()), everyMs);
  };
  timer = setTimeout(() => void (running = tick()), everyMs);

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
