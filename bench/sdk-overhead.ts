/**
 * `npm run bench:sdk`: what the SDK adds to a call, next to the reference of the same call made with raw fetch, both
 * answered by the same in-process fetch (a job's JSON, as GET /v1/jobs/{id} answers it), so that only the clients'
 * own work is measured: building the request (path, query, headers, the auth middleware) and reading the answer.
 *
 * Env: BENCH_ROUNDS (20000). Prints `name value unit` lines: µs per call for each, and the difference.
 */
import { performance } from 'node:perf_hooks';
import { createConductorClient } from '../sdk/index.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20_000);
const URL_BASE = 'http://127.0.0.1:8080';
const TOKEN = 'bench-token-0123456789abcdef0123456789';

const job = JSON.stringify({ id: '42', name: 'relax', account: 'physics', state: 'RUNNING', node: 'n1', cpus: 4 });
const answer = async (request: Request) => {
  if (!request.headers.get('Authorization')) throw new Error('no token sent');
  return new Response(job, { status: 200, headers: { 'Content-Type': 'application/json' } });
};

async function raw(): Promise<unknown> {
  const response = await answer(
    new Request(`${URL_BASE}/v1/jobs/42`, { headers: { Authorization: `Bearer ${TOKEN}` } }),
  );
  if (!response.ok) throw new Error(String(response.status));
  return response.json();
}

const api = createConductorClient({ url: URL_BASE, token: TOKEN, fetch: answer });
async function sdk(): Promise<unknown> {
  const { data } = await api.GET('/v1/jobs/{id}', { params: { path: { id: '42' } } });
  if (!data) throw new Error('no data');
  return data;
}

/** Mean µs of `call` over ROUNDS, after as many rounds of warm-up. */
async function timed(call: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < ROUNDS; i++) await call();
  const start = performance.now();
  for (let i = 0; i < ROUNDS; i++) await call();
  return ((performance.now() - start) * 1000) / ROUNDS;
}

const rawUs = await timed(raw);
const sdkUs = await timed(sdk);
console.log(`raw_fetch_call ${rawUs.toFixed(2)} us`);
console.log(`sdk_call ${sdkUs.toFixed(2)} us`);
console.log(`sdk_added ${(sdkUs - rawUs).toFixed(2)} us`);
console.log(`sdk_over_raw ${(sdkUs / rawUs).toFixed(2)} x`);
