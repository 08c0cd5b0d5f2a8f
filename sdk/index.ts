/**
 * The SCNS-Conductor SDK: a typed client of the API generated from its OpenAPI document (`npm run gen:sdk`), with
 * submits made once (an idempotency key by default) and log follows that resume after a disconnect.
 *
 *   import { createConductorClient, submitJob, followLogs } from 'scns-conductor/sdk';
 *   const api = createConductorClient({ url: 'http://127.0.0.1:8080', token });
 *   const job = await submitJob(api, { job: { partition: 'default' }, script: '#!/bin/bash\necho hi' });
 *   for await (const bytes of followLogs(api, job.id)) process.stdout.write(bytes);
 */
export { ConductorApiError, type Problem } from './api-error.js';
export { createConductorClient, type ConductorClient, type ConductorClientOptions } from './conductor-client.js';
export { followLogs, type FollowOptions } from './follow-logs.js';
export type { components, operations, paths } from './openapi.generated.js';
export { submitJob, type SubmitOptions, type SubmitRequest, type SubmittedJob } from './submit-job.js';
export { verifyWebhookSignature } from './webhook-signature.js';
