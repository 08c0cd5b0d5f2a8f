/**
 * Issue 21's figures for GET /v1/events on the Node host (its own process, on the Postgres server, NOTIFY wake-ups):
 * 1. delivery latency: a transition written and committed → the SSE client has the event, p50/p95,
 *    for one client, then for each of 1,000 connected clients (parsed in this one process: an upper bound);
 * 2. the cost of 1,000 connected, idle SSE clients: the host's resident memory before and after, and its CPU while
 *    they idle (heartbeats only).
 * Run: npm run bench:events (DATABASE_URL, REDIS_URL as for the tests).
 */
import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { startNodeHostDeployment } from '../test/fixtures/node-host-deployment.js';
import { ADMIN_TOKEN, validJob } from '../test/helpers/test-app.js';
import { SseReader } from '../test/helpers/sse-reader.js';

const CLIENTS = 1000;
const SAMPLES = 200;
const IDLE_MS = 10_000;
const CLOCK_TICKS = 100;

const d = await startNodeHostDeployment('bench_events');
const pid = d.process.pid;
const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const cpuSeconds = () => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
};
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

try {
  await d.call('PUT', '/v1/partitions/batch', { body: {} });
  const job = (
    await d.json<{ id: string }>(201, 'POST', '/v1/jobs', { body: { job: validJob(), script: '#!/bin/bash\ntrue' } })
  ).id;
  const open = async () => {
    const response = await fetch(`${d.apiUrl}/v1/events?job_id=${job}&state=PENDING`, {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    const reader = new SseReader(response.body!);
    return reader;
  };
  /**
   * Commits one event numbered `n` (one autocommitted statement); answers when it was sent: the figure is an upper
   * bound that includes the commit itself, since the client's copy may arrive before the writer hears its COMMIT.
   */
  const commit = async (n: number) => {
    const sent = performance.now();
    await d.database.db.execute(
      sql`INSERT INTO job_events (job_id, attempt, from_state, to_state, actor, kind, changes)
          VALUES (${Number(job)}::bigint, 0, 'PENDING', 'PENDING', 'bench', 'update',
                  jsonb_build_object('n', jsonb_build_object('from', ${n}::int, 'to', ${n}::int)))`,
    );
    return sent;
  };
  const measure = async (readers: SseReader[], samples: number, first: number) => {
    const latencies: number[] = [];
    for (let n = first; n < first + samples; n++) {
      const arrivals = readers.map((reader) => reader.next().then(() => performance.now()));
      const committed = await commit(n);
      for (const arrived of await Promise.all(arrivals)) latencies.push(Math.max(0, arrived - committed));
    }
    return latencies;
  };

  const one = await open();
  const single = await measure([one], SAMPLES, 0);
  await one.drop();
  console.log(
    `delivery, 1 client: p50 ${percentile(single, 50).toFixed(1)} ms, p95 ${percentile(single, 95).toFixed(1)} ms (${SAMPLES} events)`,
  );

  await new Promise((resume) => setTimeout(resume, 2000));
  const rssBefore = rssMb();
  const readers = await Promise.all(Array.from({ length: CLIENTS }, open));
  await new Promise((resume) => setTimeout(resume, 2000));
  const rssAfter = rssMb();
  const cpuBefore = cpuSeconds();
  await new Promise((resume) => setTimeout(resume, IDLE_MS));
  const idleCpu = ((cpuSeconds() - cpuBefore) / (IDLE_MS / 1000)) * 100;
  console.log(
    `${CLIENTS} idle clients: RSS ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MB ` +
      `(${(((rssAfter - rssBefore) * 1024) / CLIENTS).toFixed(1)} KB per client); CPU while idle ${idleCpu.toFixed(2)}% of a core`,
  );
  const many = await measure(readers, 20, SAMPLES);
  console.log(
    `delivery, ${CLIENTS} clients: p50 ${percentile(many, 50).toFixed(1)} ms, p95 ${percentile(many, 95).toFixed(1)} ms (20 events × ${CLIENTS})`,
  );
  await Promise.all(readers.map((reader) => reader.drop()));
} finally {
  await d.stop();
}
