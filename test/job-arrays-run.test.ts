/**
 * Job arrays run by a real node daemon (issue 20, items 3 and 6): each task's output file named by %A and %a, its
 * SLURM_ARRAY_* variables, and a %N cap on a node with room for more (8 CPUs for 1-CPU tasks): never more than N
 * tasks run at once, as the tasks themselves see it, and every task runs exactly once.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { queryRows } from '../shared/db/query-rows.js';
import { sql } from 'drizzle-orm';
import { apiWithNode } from './helpers/test-node.js';
import { waitUntil } from './helpers/wait-for.js';

describe('job arrays on a node daemon', () => {
  // 2 cores offered as 8 CPUs: room for 8 one-CPU tasks at once, so only a cap holds them.
  const started = apiWithNode('arr-node', { CONDUCTOR_NODE_CPUS: '2', CONDUCTOR_NODE_OVERSUBSCRIBE: '4' });

  const submit = async (job: Record<string, unknown>, script: string) => {
    const response = await started.api.t.call('POST', '/v1/jobs', {
      body: {
        job: { current_working_directory: started.work, memory_per_node: '10M', time_limit: '5', ...job },
        script: `#!/bin/bash\n${script}`,
      },
    });
    expect(response.status).toBe(201);
    return Number(((await response.json()) as { id: string }).id);
  };
  const states = async (arrayJobId: number) =>
    (
      await queryRows(
        started.api.t.database.db,
        sql`SELECT state FROM jobs WHERE array_job_id = ${arrayJobId} ORDER BY array_task_id`,
      )
    ).map((row) => String(row.state));
  const allCompleted = (arrayJobId: number, count: number) =>
    waitUntil(`array ${arrayJobId} completed`, async () => {
      const now = await states(arrayJobId);
      if (now.some((state) => state !== 'PENDING' && state !== 'RUNNING' && state !== 'COMPLETED'))
        throw new Error(`array ${arrayJobId}: ${now.join(',')}`);
      return now.length === count && now.every((state) => state === 'COMPLETED');
    });

  it('names each task its output file by %A_%a and gives it SLURM_ARRAY_*', async () => {
    const id = await submit(
      { array: '1-5:2', standard_output: 'arr-%A_%a.out' },
      'echo "$SLURM_ARRAY_JOB_ID $SLURM_ARRAY_TASK_ID $SLURM_ARRAY_TASK_COUNT $SLURM_ARRAY_TASK_MIN $SLURM_ARRAY_TASK_MAX $SLURM_ARRAY_TASK_STEP $SLURM_JOB_ID"',
    );
    await allCompleted(id, 3);
    const ids = (
      await queryRows(
        started.api.t.database.db,
        sql`SELECT id, array_task_id FROM jobs WHERE array_job_id = ${id} ORDER BY array_task_id`,
      )
    ).map((row) => [Number(row.array_task_id), Number(row.id)] as const);
    for (const [index, jobId] of ids) {
      const text = readFileSync(join(started.work, `arr-${id}_${index}.out`), 'utf8');
      expect(text.trim()).toBe(`${id} ${index} 3 1 5 2 ${jobId}`);
    }
  });

  it('never runs more than %N tasks at once on a node with room for more, and runs each task once', async () => {
    const running = join(started.work, 'running');
    const script = [
      `mkdir -p ${running}`,
      `touch ${running}/$SLURM_ARRAY_TASK_ID`,
      `ls ${running} | wc -l >> ${started.work}/at-once`,
      // Long enough that tasks free to start would overlap.
      'sleep 0.4',
      `ls ${running} | wc -l >> ${started.work}/at-once`,
      `rm ${running}/$SLURM_ARRAY_TASK_ID`,
      `echo $SLURM_ARRAY_TASK_ID >> ${started.work}/ran`,
    ].join('\n');
    const id = await submit({ array: '0-9%2', standard_output: '/dev/null' }, script);
    await allCompleted(id, 10);
    const atOnce = readFileSync(join(started.work, 'at-once'), 'utf8').trim().split('\n').map(Number);
    expect(Math.max(...atOnce)).toBeLessThanOrEqual(2);
    const ran = readFileSync(join(started.work, 'ran'), 'utf8').trim().split('\n').map(Number);
    expect(ran.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
