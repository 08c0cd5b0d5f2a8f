/**
 * One pass of webhook delivery, as each host runs it (the Node host's loop, the Worker's Cron run): queue the new
 * events, then send what is due, a batch at a time, at most `maxBatches` batches so that a pass is bounded.
 */
import type { Database } from '../../shared/db/database.js';
import { fanOutWebhooks } from './webhook-fanout.js';
import { sendDueWebhooks, type SenderOptions } from './webhook-sender.js';

export interface DeliveryPass {
  queued: number;
  attempted: number;
  /** A batch limit cut the pass short: run another soon. */
  more: boolean;
}

const FAN_OUT_LIMIT = 1000;

export async function deliverWebhooks(db: Database, options: SenderOptions, maxBatches: number): Promise<DeliveryPass> {
  const queued = await fanOutWebhooks(db, options.now(), FAN_OUT_LIMIT);
  let attempted = 0;
  for (let batch = 0; batch < maxBatches; batch++) {
    const sent = await sendDueWebhooks(db, options);
    attempted += sent;
    if (sent < options.batch) return { queued, attempted, more: false };
  }
  return { queued, attempted, more: true };
}
