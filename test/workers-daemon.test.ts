/**
 * A real node daemon against the Workers host in workerd: the daemon claims from the Worker's Redis keys, runs real
 * bash jobs, reports to the Worker and ships their output to an S3 server (s3rver), which the Worker reads through its
 * `CONDUCTOR_S3_*` variables: the output is read back through the Worker (range, tail, follow of a running job). And
 * what a job costs each service there, counted at the fixtures (test/fixtures/workers-cost.ts; `npm run
 * bench:requests` prints the same table).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkerDeployment, type WorkerDeployment } from './fixtures/worker-deployment.js';
import { startWorkerNode, type WorkerNode } from './fixtures/worker-node.js';
import { measureJobCost, measureReconcilerRun, printJobCost, s3Kind } from './fixtures/job-cost.js';
import { backends } from './helpers/test-databases.js';
import { redisUnreachable } from './helpers/test-redis.js';
import { waitFor } from './helpers/wait-for.js';

const [, postgres] = await backends();
const serversAway = postgres!.skip ?? (await redisUnreachable());

interface Job {
  id: string;
  state: string;
  node: string | null;
  exit_code: { status: number | null; signal: number | null } | null;
}

describe.skipIf(serversAway)('a real node daemon against the Workers host in workerd', () => {
  let d: WorkerDeployment;
  let node: WorkerNode;
  beforeAll(async () => {
    d = await startWorkerDeployment('workers_daemon', { args: ['--test-scheduled'] });
    node = await startWorkerNode(d, 'w1');
  }, 120_000);
  afterAll(async () => {
    await node?.stop();
    await d?.stop();
  }, 60_000);

  const submit = async (script: string, job: Record<string, unknown> = {}) =>
    (
      await d.json<{ id: string }>(201, 'POST', '/v1/jobs', {
        body: {
          job: { name: 'real', partition: 'default', current_working_directory: node.work, ...job },
          script: `#!/bin/bash\n${script}`,
        },
      })
    ).id;
  const getJob = (id: string) => d.json<Job>(200, 'GET', `/v1/jobs/${id}`);
  const ended = (id: string) =>
    waitFor(`job ${id}'s end`, async () => {
      const job = await getJob(id);
      return ['PENDING', 'RUNNING'].includes(job.state) ? undefined : job;
    });
  const file = (id: string) => readFileSync(join(node.work, `slurm-${id}.out`), 'utf8');

  it('runs a real job to COMPLETED, and its output, shipped to S3, reads back through the Worker', async () => {
    const id = await submit('for i in $(seq 1 40); do echo "line $i of job $CONDUCTOR_JOB_ID"; done');
    expect(await ended(id)).toMatchObject({ state: 'COMPLETED', node: 'w1', exit_code: { status: 0, signal: null } });
    const written = file(id);
    expect(written.split('\n')).toHaveLength(41);

    const whole = await d.call('GET', `/v1/jobs/${id}/logs/stdout`);
    expect(whole.status).toBe(200);
    expect(await whole.text()).toBe(written);
    expect(whole.headers.get('Conductor-Log-Complete')).toBe('true');

    const range = await d.call('GET', `/v1/jobs/${id}/logs/stdout?offset=10&limit=20`);
    expect(await range.text()).toBe(written.slice(10, 30));
    expect(range.headers.get('Conductor-Log-Offset')).toBe('10');
    expect(range.headers.get('Conductor-Next-Offset')).toBe('30');
    expect(range.headers.get('Conductor-Log-Complete')).toBe('false');

    const tail = await d.call('GET', `/v1/jobs/${id}/logs/stdout?tail_lines=2`);
    expect(await tail.text()).toBe(`line 39 of job ${id}\nline 40 of job ${id}\n`);
    const original = await d.json<{ job_log: { stdout: string } }>(200, 'GET', `/jobs/query/${id}`);
    expect(original.job_log.stdout).toBe(written);

    // The node wrote the output to the S3 server; the Worker only read it there.
    expect(node.s3.requests().some((r) => r.method === 'PUT' && r.url.includes(`/jobs/${id}/`))).toBe(true);
    expect(d.apiS3.requests().some((r) => r.method === 'GET' && r.url.includes(`jobs/${id}/`))).toBe(true);
    expect(d.apiS3.requests().filter((r) => s3Kind(r) !== 'GET' && s3Kind(r) !== 'LIST')).toEqual([]);
  });

  it('ends a job FAILED with the exit code its script exited with', async () => {
    const id = await submit('echo before; exit 3');
    expect(await ended(id)).toMatchObject({ state: 'FAILED', exit_code: { status: 3, signal: null } });
    expect(await (await d.call('GET', `/v1/jobs/${id}/logs/stdout`)).text()).toBe('before\n');
  });

  it('follows a running job that prints over time, through the Worker, until it ends', async () => {
    const id = await submit('for i in $(seq 1 10); do echo "tick $i"; sleep 0.5; done');
    // Followed from before it starts: the follower waits for the first attempt.
    const answer = await d.call('GET', `/v1/jobs/${id}/logs/stdout?follow=true`);
    expect(answer.status).toBe(200);
    const reader = answer.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    let stateAtFirst: string | undefined;
    for (let piece = await reader.read(); !piece.done; piece = await reader.read()) {
      text += decoder.decode(piece.value, { stream: true });
      stateAtFirst ??= (await getJob(id)).state;
    }
    // Output came while the job ran, and the stream ended by itself once the job had: all of it, exactly.
    expect(stateAtFirst).toBe('RUNNING');
    expect((await getJob(id)).state).toBe('COMPLETED');
    expect(text).toBe(Array.from({ length: 10 }, (_, i) => `tick ${i + 1}\n`).join(''));
    expect(text).toBe(file(id));
  }, 60_000);

  it('counts what a job costs each service, and one reconciler run', async () => {
    const cost = await measureJobCost(d, node, 20);
    const reconciler = await measureReconcilerRun(d);
    printJobCost(cost, reconciler);
    const per = (from: string, to: string, unit: string) =>
      cost.rows.find((row) => row.from === from && row.to === to && row.unit === unit)!.perJob;
    // Each job: a submit and two reads by the client; a confirm and its reports by the node; rows in Postgres.
    expect(per('client', 'Worker', 'requests')).toBe(3);
    expect(per('node', 'Worker', 'requests')).toBeGreaterThan(0);
    expect(per('Worker', 'Postgres', 'round trips')).toBeGreaterThan(0);
    expect(per('Worker', 'Redis (Upstash)', 'commands')).toBeGreaterThan(0);
    expect(per('node', 'Redis (direct)', 'commands')).toBeGreaterThan(0);
    // The node writes the output; the Worker only reads it.
    expect(cost.nodeS3.PUT).toBeGreaterThanOrEqual(1);
    expect(Object.keys(cost.apiS3).filter((kind) => kind !== 'GET' && kind !== 'LIST')).toEqual([]);
    expect(reconciler['Postgres round trips']).toBeGreaterThan(0);
  }, 180_000);
});
