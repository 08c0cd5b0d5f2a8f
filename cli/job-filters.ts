/**
 * squeue's, scancel's and sacct's job filters (`-u -A -p -t --name`) as the API's list query, and the list read
 * page by page to its end. States take squeue's spellings too (`PD`, `R`, `CD`, `CA`, `F`, `TO`, `OOM`, `NF`), any
 * case, comma-separated.
 */
import type { ConductorClient, components } from '../sdk/index.js';
import { answer } from './api-answer.js';
import { UsageError } from './cli-error.js';
import { STATE_CODES } from '../shared/job/squeue-display.js';

type Job = components['schemas']['ListedJob'];
type JobState = components['schemas']['JobState'];

export interface JobFilterOptions {
  user?: string;
  account?: string;
  partition?: string;
  states?: string;
  name?: string;
}

export const ENDED_STATES: JobState[] = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL'];
const ALL_STATES: JobState[] = ['PENDING', 'RUNNING', ...ENDED_STATES];
const BY_CODE = new Map(Object.entries(STATE_CODES).map(([state, code]) => [code, state as JobState]));

/** `-t`'s states, or `fallback` when it was not given; `all` is every state. */
export function parseStates(text: string | undefined, fallback: JobState[]): JobState[] {
  if (text === undefined) return fallback;
  const states = new Set<JobState>();
  for (const word of text.split(',').map((part) => part.trim().toUpperCase())) {
    if (word === 'ALL') return ALL_STATES;
    const state = ALL_STATES.includes(word as JobState) ? (word as JobState) : BY_CODE.get(word);
    if (!state) throw new UsageError(`-t ${text}: "${word}" is not a job state (${ALL_STATES.join(', ')})`);
    states.add(state);
  }
  return [...states];
}

/** Every job that the filters select (all pages). */
export async function listJobs(
  client: ConductorClient,
  filters: JobFilterOptions,
  fallback: JobState[],
  // Every task of a job array by default (what cancel acts on); false: an array's PENDING tasks as one row (squeue).
  expandArrays = true,
): Promise<Job[]> {
  const query = {
    state: parseStates(filters.states, fallback).join(','),
    expand_arrays: expandArrays ? ('true' as const) : ('false' as const),
    ...(filters.user ? { user: filters.user } : {}),
    ...(filters.account ? { account: filters.account } : {}),
    ...(filters.partition ? { partition: filters.partition } : {}),
    ...(filters.name ? { name: filters.name } : {}),
  };
  const jobs: Job[] = [];
  for (let cursor: string | null | undefined; ;) {
    const page = await answer(
      client.GET('/v1/jobs', { params: { query: { ...query, limit: 500, ...(cursor ? { cursor } : {}) } } }),
    );
    jobs.push(...page.jobs);
    cursor = page.next_cursor;
    if (!cursor) return jobs;
  }
}
