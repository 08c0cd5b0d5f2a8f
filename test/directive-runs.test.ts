/**
 * Directives a real daemon honours (issue 14, items 3 and 8): a job whose only time limit is its `#SBATCH -t` is
 * ended TIMEOUT by it, with the CPUs, name and output file its directives asked for. Real daemon, real processes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, testNodes, waitForState, type TestApi, type TestNodes } from './helpers/test-node.js';

describe('directives on a real node', () => {
  let api: TestApi;
  let nodes: TestNodes;
  let work: string;

  beforeAll(async () => {
    api = await startTestApi();
    nodes = testNodes(api);
    work = nodes.dir();
    await nodes.start('dr1', { CONDUCTOR_NODE_CPUS: '2' });
  });
  afterAll(async () => {
    await nodes?.cleanup();
    await api?.close();
  });

  it('ends a job at the time limit its #SBATCH -t set: TIMEOUT, with its -c, -J and --output', async () => {
    const script = [
      '#!/bin/bash',
      '#SBATCH -t 0:00:02',
      '#SBATCH -c 2 -J limited',
      `#SBATCH --output=${work}/%x-%j.out`,
      'echo "cpus $SLURM_CPUS_PER_TASK name $SLURM_JOB_NAME"',
      'sleep 600',
    ].join('\n');
    const id = await api.t.submit({ current_working_directory: work }, script);
    const job = await waitForState(api.t, id, ['COMPLETED', 'FAILED', 'TIMEOUT', 'CANCELLED'], 60_000);
    expect(job).toMatchObject({ state: 'TIMEOUT', cpu_ids: [0, 1] });
    expect(readFileSync(join(work, `limited-${id}.out`), 'utf8')).toBe('cpus 2 name limited\n');
  });
});
