/**
 * The soak's knobs, read from the environment, and the fault quotas they imply.
 *
 * - SOAK_SECONDS (600): how long jobs are submitted and faults injected; the drain and the checks come after.
 * - SOAK_JOBS (10,000 per 600 s, scaled with SOAK_SECONDS): how many jobs the clients submit.
 * - SOAK_APIS (1): API processes; 2 puts them behind a round-robin proxy (the second variant).
 * - SOAK_DAEMONS (4), SOAK_CLIENTS (4).
 * - SOAK_LEASE_SECONDS (15): the nodes' lease (CONDUCTOR_NODE_LEASE_SECONDS), short so that a partition outlasts it.
 * - SOAK_DRAIN_SECONDS (max(180, SOAK_SECONDS / 2)): how long the jobs get to end after the chaos stops.
 * - SOAK_SEED (1): the job mix and the order of the faults.
 */
export interface SoakConfig {
  seconds: number;
  jobs: number;
  apis: 1 | 2;
  daemons: number;
  clients: number;
  leaseSeconds: number;
  drainSeconds: number;
  seed: number;
}

/** Faults per 600 s (issue 15, item 3): the least each kind must reach, scaled to the run's length. */
export const FAULTS_PER_10_MINUTES = {
  'daemon SIGKILL': 10,
  'daemon SIGKILL, all at once': 2,
  'daemon SIGTERM': 2,
  'Redis restart with its data': 3,
  'Redis restart without its data': 2,
  'Postgres restart': 2,
  'Postgres crash': 1,
  'API kill': 3,
  'node partitioned past its lease': 1,
} as const;

export type FaultKind = keyof typeof FAULTS_PER_10_MINUTES;

/** How many of each fault a run of `seconds` must reach: proportionate, at least one of each. */
export function faultQuotas(seconds: number): Record<FaultKind, number> {
  const scale = seconds / 600;
  return Object.fromEntries(
    Object.entries(FAULTS_PER_10_MINUTES).map(([kind, count]) => [kind, Math.max(1, Math.ceil(count * scale))]),
  ) as Record<FaultKind, number>;
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, not ${text}`);
  return value;
}

/** @throws Error naming the variable when one is not a positive number (or SOAK_APIS not 1 or 2) */
export function readSoakConfig(env: NodeJS.ProcessEnv): SoakConfig {
  const seconds = positive(env, 'SOAK_SECONDS', 600);
  const apis = positive(env, 'SOAK_APIS', 1);
  if (apis !== 1 && apis !== 2) throw new Error(`SOAK_APIS must be 1 or 2, not ${apis}`);
  return {
    seconds,
    jobs: Math.round(positive(env, 'SOAK_JOBS', Math.round((10_000 * seconds) / 600))),
    apis,
    daemons: Math.round(positive(env, 'SOAK_DAEMONS', 4)),
    clients: Math.round(positive(env, 'SOAK_CLIENTS', 4)),
    leaseSeconds: positive(env, 'SOAK_LEASE_SECONDS', 15),
    drainSeconds: positive(env, 'SOAK_DRAIN_SECONDS', Math.max(180, seconds / 2)),
    seed: positive(env, 'SOAK_SEED', 1),
  };
}
