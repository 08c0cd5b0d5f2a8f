/**
 * Test-only fault points: the narrow windows where a crash or a failure must still leave the outcome exact, each
 * named. The app calls its injector at each; only a test passes one (`createApp({ faults })`), no host reads any
 * setting for it, so a deployed API has none and every point is a call to a no-op.
 *
 * - `submit.committed`: a job is committed, its ref not yet pushed to the queue (nor marked not enqueued);
 * - `confirm.committed`: a confirm's jobs are RUNNING as new attempts, the node not yet answered;
 * - `events.committed`: a node's events are applied, the node not yet answered;
 * - `hold.committed`: a hold is committed, the job's ref not yet taken out of the queue.
 */
export const FAULT_POINTS = ['submit.committed', 'confirm.committed', 'events.committed', 'hold.committed'] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

/**
 * Called at each point. To fail the request there, as if the process died after its commit, it throws (the client
 * sees a 500 and nothing after the point runs); to hold it there, it waits.
 */
export type FaultInjector = (point: FaultPoint) => Promise<void>;

export const NO_FAULTS: FaultInjector = async () => {};
