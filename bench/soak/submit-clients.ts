/**
 * The soak's clients: each submits its share of the jobs (every `clients`-th index), paced evenly over the submit
 * window, each with an Idempotency-Key of its own, and retries a submit whose answer never came (a connection refused
 * or dropped, a timeout) or was a 5xx, with backoff (the `retry` package), for as long as the deadline allows: the
 * README's rule ("Retrying a submit"). A 4xx is an answer, not retried.
 */
import retry from 'retry';
import { soakJob, submitBody } from './job-mix.js';
import type { SubmitRecord } from './soak-checks.js';

export interface ClientsOptions {
  url: () => string;
  token: string;
  seed: number;
  jobs: number;
  clients: number;
  /** Submits in flight per client at most. */
  concurrency: number;
  windowMs: number;
  /** After it, a submit without an answer is given up (and stays unacknowledged). */
  deadline: number;
  /** Each key is `<runKey>-<index>`: keys stay unique across runs over one database. */
  runKey: string;
  /** Where the jobs keep their ledger and run, and the run's marker. */
  body: Parameters<typeof submitBody>[1];
}

export interface ClientsResult {
  submits: SubmitRecord[];
  /** Requests sent, first tries and retries. */
  requests: number;
  retries: number;
  /** Submits answered with a 4xx: each is a finding (the soak's bodies are valid). */
  refused: string[];
}

const REQUEST_TIMEOUT_MS = 30_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runClients(options: ClientsOptions): Promise<ClientsResult> {
  const result: ClientsResult = { submits: [], requests: 0, retries: 0, refused: [] };
  const start = Date.now();
  const gap = options.windowMs / options.jobs;
  await Promise.all(
    Array.from({ length: options.clients }, async (_, client) => {
      const mine: number[] = [];
      for (let index = client; index < options.jobs; index += options.clients) mine.push(index);
      let next = 0;
      await Promise.all(
        Array.from({ length: options.concurrency }, async () => {
          while (next < mine.length) {
            const index = mine[next++]!;
            const due = start + index * gap;
            if (due > Date.now()) await sleep(due - Date.now());
            const record: SubmitRecord = { index };
            result.submits.push(record);
            await submitOne(options, index, record, result);
          }
        }),
      );
    }),
  );
  return result;
}

/** Submits job `index` until it is answered (or the deadline passes); the answer goes into `record` or `result`. */
function submitOne(options: ClientsOptions, index: number, record: SubmitRecord, result: ClientsResult): Promise<void> {
  const job = soakJob(options.seed, index);
  const body = JSON.stringify(submitBody(job, options.body));
  const operation = retry.operation({ forever: true, minTimeout: 100, maxTimeout: 3000, randomize: true });
  const send = async (): Promise<void> => {
    const response = await fetch(`${options.url()}/v1/jobs`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${options.token}`,
        'Content-Type': 'application/json',
        'Idempotency-Key': `${options.runKey}-${index}`,
      },
      body,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    if (response.status >= 500) throw new Error(`${response.status} ${text.slice(0, 200)}`);
    if (response.status === 201) record.jobId = (JSON.parse(text) as { id: string }).id;
    else result.refused.push(`submit ${job.name}: ${response.status} ${text.slice(0, 300)}`);
  };
  return new Promise((done) => {
    operation.attempt((attempt) => {
      result.requests++;
      if (attempt > 1) result.retries++;
      send().then(done, (error: Error) => {
        // No answer (refused, reset, timed out) or a 5xx: the job may or may not exist; its key decides on the retry.
        if (Date.now() < options.deadline && operation.retry(error)) return;
        done();
      });
    });
  });
}
