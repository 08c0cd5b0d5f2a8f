/**
 * How well a node contains its jobs, per concern, as its heartbeat says it and `GET /v1/nodes` shows it. The levels,
 * best first, and what each limits: worker-node/containment/containment-levels.ts and the README's containment
 * section.
 */
import { z } from '@hono/zod-openapi';

export const MEMORY_LEVELS = ['cgroup2', 'cgroup1', 'polled'] as const;
export const CPU_LEVELS = ['cgroup2', 'cgroup1', 'affinity'] as const;
export const KILL_LEVELS = ['cgroup2', 'cgroup1-freezer', 'marker-sweep', 'process-group'] as const;
export const PIDS_LEVELS = ['cgroup2', 'cgroup1', 'none'] as const;

export const ContainmentLevels = z
  .object({
    memory: z.enum(MEMORY_LEVELS).openapi({ description: 'How its memory limit is held: a cgroup, or polled RSS.' }),
    cpus: z.enum(CPU_LEVELS).openapi({ description: 'How it is kept on its cores: a cpuset, or affinity (taskset).' }),
    kill: z.enum(KILL_LEVELS).openapi({
      description:
        'How all its processes are ended: cgroup.kill, a v1 freezer, the process group plus a sweep for its marker variable, or (containment off) the process group only.',
    }),
    pids: z.enum(PIDS_LEVELS).openapi({ description: 'How its process count is limited: a pids cgroup, or not.' }),
  })
  .strict()
  .openapi('ContainmentLevels');
export type ContainmentLevels = z.infer<typeof ContainmentLevels>;
