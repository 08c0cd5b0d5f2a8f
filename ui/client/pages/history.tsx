/**
 * History, as sacct lists jobs: the finished ones (every end state, or one), ended within a date range (the last 24 h
 * unless asked), filtered by partition, account, user and name, newest first, a page at a time with the API's cursor.
 * Elapsed and wait in Slurm's [D-]HH:MM:SS, the exit code as sacct's status:signal. "Export CSV" is a plain link to
 * GET /v1/jobs/history.csv with the same filters (a same-origin GET carries the session cookie). The filters are kept
 * in the address, so a reload or a shared link shows the same list.
 */
import { useEffect, useState } from 'preact/hooks';
import { formatElapsed } from '../../../shared/job/time-limit.js';
import { api, problemFrom, type Job } from '../api.js';
import { adoptStyles } from '../page-styles.js';
import { Link, navigate } from '../router.js';
import type { PageProps } from '../routes.js';
import { formatExit, formatTime } from '../slurm-format.js';
import { fromLocalInput, toLocalInput } from '../time-format.js';
import css from '../console-pages.css' with { type: 'text' };

adoptStyles(css);

const END_STATES = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL'] as const;
const PAGE_SIZE = 50;
const DAY_MS = 86_400_000;
const TEXT_FILTERS = ['partition', 'account', 'user', 'name'] as const;

/** The API's query for the page's filters: the address's, else every end state since `since` (RFC 3339). */
function filtersOf(query: URLSearchParams, since: string): Record<string, string> {
  const filters: Record<string, string> = {
    state: query.get('state') || END_STATES.join(','),
    ended_after: query.get('ended_after') ?? since,
  };
  for (const name of ['ended_before', ...TEXT_FILTERS]) {
    const value = query.get(name);
    if (value) filters[name] = value;
  }
  // An emptied "ended after" means no lower bound.
  if (filters.ended_after === '') delete filters.ended_after;
  return filters;
}

const seconds = (value: number | null) => (value === null ? '—' : formatElapsed(value));

export default function HistoryPage({ query }: PageProps) {
  // The last 24 h from when the page was opened: fixed, so that paging and reloads read one range.
  const [since] = useState(() => new Date(Date.now() - DAY_MS).toISOString());
  const filters = filtersOf(query, since);
  const key = new URLSearchParams(filters).toString();
  // The form's fields start from the address and are the reader's until applied (the form is remade then, by key).
  // The cursors of the pages shown so far: the last is the current page's (undefined: the first).
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState<{ jobs: Job[]; next: string | null } | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const cursor = cursors[cursors.length - 1];

  useEffect(() => setCursors([undefined]), [key]);
  useEffect(() => {
    let current = true;
    setError(undefined);
    void (async () => {
      const {
        data,
        error: failure,
        response,
      } = await api.GET('/v1/jobs', {
        params: { query: { ...filters, limit: PAGE_SIZE, ...(cursor ? { cursor } : {}) } },
      });
      if (!current) return;
      if (data) setPage({ jobs: data.jobs, next: data.next_cursor });
      else setError(problemFrom(failure, response).message);
    })();
    return () => {
      current = false;
    };
  }, [key, cursor]);

  const apply = (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const next = new URLSearchParams();
    const state = String(form.get('state') ?? '');
    if (state) next.set('state', state);
    // An empty "ended after" is kept as empty (no lower bound), not taken back to the last 24 h.
    next.set('ended_after', fromLocalInput(String(form.get('ended_after') ?? '')) ?? '');
    const before = fromLocalInput(String(form.get('ended_before') ?? ''));
    if (before) next.set('ended_before', before);
    for (const name of TEXT_FILTERS) {
      const value = String(form.get(name) ?? '').trim();
      if (value) next.set(name, value);
    }
    navigate(`/ui/history?${next.toString()}`, { replace: true });
  };

  const exported = new URLSearchParams(filters);
  const stateChoice = query.get('state') ?? '';
  return (
    <section class="history-page">
      <h1>History</h1>
      <form key={key} class="toolbar" onSubmit={apply} aria-label="Filters">
        <label>
          Ended after
          <input
            type="datetime-local"
            name="ended_after"
            defaultValue={filters.ended_after ? toLocalInput(new Date(filters.ended_after)) : ''}
          />
        </label>
        <label>
          Ended before
          <input
            type="datetime-local"
            name="ended_before"
            defaultValue={filters.ended_before ? toLocalInput(new Date(filters.ended_before)) : ''}
          />
        </label>
        <label>
          State
          <select name="state">
            <option value="">every end state</option>
            {END_STATES.map((state) => (
              <option key={state} value={state} selected={state === stateChoice}>
                {state}
              </option>
            ))}
          </select>
        </label>
        {TEXT_FILTERS.map((name) => (
          <label key={name}>
            {name[0]!.toUpperCase() + name.slice(1)}
            <input type="text" name={name} defaultValue={query.get(name) ?? ''} />
          </label>
        ))}
        <button type="submit" class="primary">
          Apply
        </button>
        <a class="button-link" href={`/v1/jobs/history.csv?${exported.toString()}`} download data-testid="export-csv">
          Export CSV
        </a>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {page === undefined ? (
        <p class="loading">Loading…</p>
      ) : (
        <>
          <div class="table-wrap">
            <table data-testid="history-table">
              <thead>
                <tr>
                  {[
                    'JobID',
                    'Name',
                    'User',
                    'Account',
                    'Partition',
                    'State',
                    'Submit',
                    'Start',
                    'End',
                    'Elapsed',
                    'Wait',
                    'ExitCode',
                  ].map((column) => (
                    <th scope="col" key={column}>
                      {column}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {page.jobs.map((job) => (
                  <tr key={job.id} data-job={job.id}>
                    <td>
                      <Link href={`/ui/jobs/${job.id}`}>{job.display_id}</Link>
                    </td>
                    <td class="name" title={job.name}>
                      {job.name}
                    </td>
                    <td>{job.user ?? '—'}</td>
                    <td>{job.account}</td>
                    <td>{job.partition}</td>
                    <td class={`state state-${job.state}`}>{job.state}</td>
                    <td>{formatTime(job.submit_time)}</td>
                    <td>{formatTime(job.start_time)}</td>
                    <td>{formatTime(job.end_time)}</td>
                    <td class="mono">{seconds(job.elapsed_seconds)}</td>
                    <td class="mono">{seconds(job.wait_seconds)}</td>
                    <td class="mono">{formatExit(job.exit_code)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {page.jobs.length === 0 && <p class="hint">No finished job matches.</p>}
          <nav class="pager" aria-label="Pages">
            <button type="button" disabled={cursors.length === 1} onClick={() => setCursors(cursors.slice(0, -1))}>
              Newer
            </button>
            <span>Page {cursors.length}</span>
            <button
              type="button"
              disabled={!page.next}
              onClick={() => page.next && setCursors([...cursors, page.next])}
            >
              Older
            </button>
          </nav>
        </>
      )}
    </section>
  );
}
