/**
 * What a job's event records (GET /v1/jobs/{id}/events): a state transition, or a change made to a job while it waits
 * (issue 20): a hold or a release (scontrol hold / uhold / release) and an update of its fields (scontrol update).
 */
export const JOB_EVENT_KINDS = ['transition', 'hold', 'release', 'update'] as const;
export type JobEventKind = (typeof JOB_EVENT_KINDS)[number];

/** The fields a change set, each with its value before and after (as the API shows them: seconds, words). */
export type JobChanges = Record<string, { from: unknown; to: unknown }>;
