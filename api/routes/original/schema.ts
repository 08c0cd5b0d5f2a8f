/** The original SCNS-Conductor's response shapes, kept field for field so its clients keep working. */
import { z } from '@hono/zod-openapi';
import { idParam } from '../../http/id-param.js';
import { JobState, timestamp as timestampSchema } from '../v1/jobs/schema.js';

const timestamp = timestampSchema.nullable();

export const OriginalJobIdParam = idParam('job_id', 'a job id');

export const SubmitResponse = z
  .object({ job_id: z.string().openapi({ example: '42' }) })
  .openapi('OriginalSubmitResponse');

export const QueryResponse = z
  .object({
    job_id: z.string(),
    state: JobState,
    error_msg: z.string().nullable(),
    time: z.object({
      submit_time: timestamp,
      eligible_time: timestamp,
      start_time: timestamp,
      end_time: timestamp,
      elapsed_time: z.string().openapi({ description: 'D-HH:MM:SS', example: '0-00:01:05' }),
      limit_time: z.string().openapi({ description: 'D-HH:MM:SS, or "UNLIMITED"', example: '0-01:00:00' }),
    }),
    job_log: z.object({
      stdout: z.string().nullable().openapi({
        description:
          "The latest attempt's output as text: all of it below 1 MiB, else its last 1,000 lines (at most 8 MiB) after a marker line. null when the API has no log store, or it did not answer.",
      }),
      stderr: z.string().nullable(),
    }),
    detail: z.object({
      job_name: z.string(),
      user: z.string(),
      partition: z.string(),
      allocated_cpus: z.number().int(),
      allocated_nodes: z.number().int(),
      node_list: z.string(),
      exit_code: z.string().openapi({ description: '"status:signal"', example: '0:0' }),
      work_dir: z.string(),
      data_source: z.string(),
      account: z.string(),
    }),
  })
  .openapi('OriginalQueryResponse');

export const CancelResponse = z.object({ msg: z.string() }).openapi('OriginalCancelResponse');
