/**
 * What one run used, as its node measured it once it ended (protocol 6): the accounting Slurm keeps per step and
 * shows in sacct (UserCPU, SystemCPU, MaxRSS, Elapsed) and seff. Each quantity says where it came from: the run's
 * cgroup (every process the job started, waited for or not), else its wrapper's getrusage(2) of the children it and
 * the job waited for (a process the job left behind unwaited is not counted there).
 */
import { z } from '@hono/zod-openapi';

export const USAGE_SOURCES = ['cgroup', 'rusage'] as const;
export type UsageSource = (typeof USAGE_SOURCES)[number];

// A bigint column holds it; no run uses more than 2^53 - 1 of anything in these units.
const amount = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const RunUsage = z
  .object({
    cpu_user_ms: amount.openapi({ description: "CPU time in user mode, ms (sacct's UserCPU)." }),
    cpu_system_ms: amount.openapi({ description: "CPU time in the kernel for the job, ms (sacct's SystemCPU)." }),
    max_rss_bytes: amount.nullable().openapi({
      description:
        "The most memory the run held at once, bytes (sacct's MaxRSS): its cgroup's peak (v1 counts page cache too), " +
        'else the largest RSS of one of its processes. Null where neither could be read.',
    }),
    wall_ms: amount.openapi({ description: "Wall time from the job's start to its end, ms (sacct's Elapsed)." }),
    cpu_source: z.enum(USAGE_SOURCES).openapi({ description: 'Where the CPU times were read.' }),
    memory_source: z.enum(USAGE_SOURCES).nullable().openapi({ description: 'Where max_rss_bytes was read.' }),
  })
  .strict()
  .openapi('RunUsage');
export type RunUsage = z.infer<typeof RunUsage>;
