/**
 * The Node host's webhook sender: a delivery pass (webhook-deliverer.ts) when an event commits (wake(), from the
 * host's LISTEN on conductor_events) and every `everyMs`, which covers retries coming due and events the horizon held
 * back. One pass at a time; a failed pass is reported once per outage and tried again, never thrown out of the loop.
 */
import type { Database } from '../../../shared/db/database.js';
import { errorFields, type Logger } from '../../../shared/log/logger.js';
import { deliverWebhooks } from '../../webhooks/webhook-deliverer.js';
import type { SenderOptions } from '../../webhooks/webhook-sender.js';

const MAX_BATCHES = 16;

export function startWebhookLoop(db: Database, options: SenderOptions, everyMs: number, log: Logger) {
  let stopped = false;
  let failing = false;
  let woken = false;
  let wakeNow: (() => void) | undefined;

  const run = async () => {
    while (!stopped) {
      woken = false;
      let more = false;
      try {
        more = (await deliverWebhooks(db, options, MAX_BATCHES)).more;
        if (failing) log.info('webhooks: recovered');
        failing = false;
      } catch (error) {
        if (!failing) {
          log.warn(`webhooks: deliveries failing; retrying every ${everyMs / 1000} s`, errorFields(error));
        }
        failing = true;
      }
      if (more || woken || stopped) continue;
      await new Promise<void>((resume) => {
        const timer = setTimeout(done, everyMs);
        function done() {
          clearTimeout(timer);
          wakeNow = undefined;
          resume();
        }
        wakeNow = done;
      });
    }
  };
  const running = run();

  return {
    wake() {
      woken = true;
      wakeNow?.();
    },
    async stop() {
      stopped = true;
      wakeNow?.();
      await running;
    },
  };
}
