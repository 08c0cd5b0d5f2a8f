/**
 * Directives a real daemon honours (issue 14, items 3 and 8): a job whose only time limit is its `#SBATCH -t` is
 * ended TIMEOUT by it, with the CPUs, name and output file its directives asked for. Real daemon, real processes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiWithNode, waitForState } from './helpers/test-node.js';

describe('directives on a real node', () => {
  const c = apiWithNode('dr1', { CONDUCTOR_NODE_CPUS: '2' });

  it('ends a job at the time limit its #SBATCH -t set: TIMEOUT, with its -c, -J and --output', async () => {
    const script = [
      '#!/bin/bash',
      '#SBATCH -t 0:00:02',
      '#SBATCH -c 2 -J limited',
      `#SBATCH --output=${c.work}/%x-%j.out`,
      'echo "cpus $SLURM_CPUS_PER_TASK name $SLURM_JOB_NAME"',
      'sleep 600',
    ].join('\n');
    const id = await c.api.t.submit({ current_working_directory: c.work }, script);
    const job = await waitForState(c.api.t, id, ['COMPLETED', 'FAILED', 'TIMEOUT', 'CANCELLED'], 60_000);
    expect(job).toMatchObject({ state: 'TIMEOUT', cpu_ids: [0, 1] });
    expect(readFileSync(join(c.work, `limited-${id}.out`), 'utf8')).toBe('cpus 2 name limited\n');
  });
});
