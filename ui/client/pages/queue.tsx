/**
 * The queue, as squeue shows it: running and pending jobs with squeue's columns (JOBID PARTITION NAME USER ST TIME
 * NODES NODELIST(REASON)), filtered by state, partition, account, user and name (kept in the address, so a filtered
 * view can be bookmarked), refreshed every 2 s without a reload, a page of jobs at a time (the first screen of a
 * 10,000-job queue costs one page). Cancel one job or the ones selected, after a confirmation.
 *
 * Order: the API's queue order (GET /v1/jobs?order=queue: running first, then pending in the order the scheduler
 * considers them), across pages.
 */
import { useMemo, useState } from 'preact/hooks';
import { api, problemFrom, type Job } from '../api.js';
import { useConfirm } from '../confirm-dialog.js';
import { Link, navigate } from '../router.js';
import type { PageProps } from '../routes.js';
import { useSession } from '../session.js';
import { runTime, stateCode } from '../slurm-format.js';
import { usePolling } from '../use-polling.js';

const POLL_MS = 2000;
const PAGE_SIZES = [50, 100, 500];
const STATES = { active: 'PENDING,RUNNING', running: 'RUNNING', pending: 'PENDING' } as const;
type StateFilter = keyof typeof STATES;
const FILTERS = ['partition', 'account', 'user', 'name'] as const;
// Cancels in flight at once for a many-job cancel: quick, without a burst of hundreds of requests.
const CANCEL_CONCURRENCY = 8;

export default function QueuePage({ query }: PageProps) {
  const session = useSession();
  const asked = query.get('state') ?? 'active';
  // Own keys only: `?state=toString` must not find Object.prototype's.
  const state: StateFilter = Object.hasOwn(STATES, asked) ? (asked as StateFilter) : 'active';
  const limit = PAGE_SIZES.includes(Number(query.get('limit'))) ? Number(query.get('limit')) : 100;
  const filters = Object.fromEntries(FILTERS.map((name) => [name, query.get(name) ?? ''])) as Record<
    (typeof FILTERS)[number],
    string
  >;
  // Cursors of the pages before this one; the last is this page's (undefined: the first page).
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState<{ jobs: Job[]; next: string | null; skewMs: number } | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const [now, setNow] = useState(Date.now());
  const { dialog, ask } = useConfirm('Cancel jobs');
  const cursor = cursors[cursors.length - 1];
  const filterKey = query.toString();

  usePolling(
    async (signal) => {
      const {
        data,
        error: failure,
        response,
      } = await api.GET('/v1/jobs', {
        params: {
          query: {
            state: STATES[state],
            order: 'queue',
            limit,
            ...(cursor ? { cursor } : {}),
            ...Object.fromEntries(Object.entries(filters).filter(([, value]) => value !== '')),
          },
        },
        signal,
      });
      if (signal.aborted) return;
      if (!data) {
        setError(problemFrom(failure, response).message);
        return;
      }
      const serverNow = Date.parse(response.headers.get('Date') ?? '');
      setError(undefined);
      setNow(Date.now());
      setPage({
        jobs: data.jobs,
        next: data.next_cursor,
        skewMs: Number.isNaN(serverNow) ? 0 : serverNow - Date.now(),
      });
    },
    POLL_MS,
    [filterKey, cursor],
  );

  const setFilter = (changes: Record<string, string>) => {
    const next = new URLSearchParams(query);
    for (const [name, value] of Object.entries(changes)) {
      if (value) next.set(name, value);
      else next.delete(name);
    }
    setCursors([undefined]);
    setSelected(new Set());
    navigate(`/ui/queue${next.size ? `?${next}` : ''}`, { replace: true });
  };

  const applyFilters = (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setFilter(Object.fromEntries(FILTERS.map((name) => [name, String(form.get(name) ?? '').trim()])));
  };

  const cancel = async (ids: string[]) => {
    const what =
      ids.length === 1
        ? `job ${ids[0]}`
        : `${ids.length} jobs (${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''})`;
    if (!(await ask(`Cancel ${what}? Running jobs are stopped; this cannot be undone.`))) return;
    const failures: string[] = [];
    const queue = [...ids];
    await Promise.all(
      Array.from({ length: Math.min(CANCEL_CONCURRENCY, queue.length) }, async () => {
        for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
          const { error: failure, response } = await api.POST('/v1/jobs/{id}/cancel', { params: { path: { id } } });
          if (failure) failures.push(`${id}: ${problemFrom(failure, response).message}`);
        }
      }),
    );
    setSelected(new Set());
    setNotice(
      failures.length
        ? `Cancelled ${ids.length - failures.length} of ${ids.length}; not cancelled: ${failures.join('; ')}`
        : `Cancel asked for ${what}.`,
    );
  };

  const jobs = page?.jobs ?? [];
  const serverNow = now + (page?.skewMs ?? 0);
  const allSelected = jobs.length > 0 && jobs.every((job) => selected.has(job.id));
  const toggle = (id: string) => {
    const next = new Set(selected);
    if (!next.delete(id)) next.add(id);
    setSelected(next);
  };
  const counts = useMemo(
    () => ({
      running: jobs.filter((job) => job.state === 'RUNNING').length,
      pending: jobs.filter((job) => job.state === 'PENDING').length,
    }),
    [jobs],
  );

  return (
    <section>
      <h1>Queue</h1>
      <form class="toolbar" onSubmit={applyFilters} aria-label="Filters">
        <label>
          State
          <select
            value={state}
            onChange={(event) =>
              setFilter({
                state:
                  (event.currentTarget as HTMLSelectElement).value === 'active'
                    ? ''
                    : (event.currentTarget as HTMLSelectElement).value,
              })
            }
          >
            <option value="active">Running and pending</option>
            <option value="running">Running</option>
            <option value="pending">Pending</option>
          </select>
        </label>
        {FILTERS.map((name) =>
          name === 'account' && session.kind === 'user' ? null : (
            <label key={`${name}-${filters[name]}`}>
              {name[0]!.toUpperCase() + name.slice(1)}
              <input name={name} defaultValue={filters[name]} autoComplete="off" spellcheck={false} />
            </label>
          ),
        )}
        <button type="submit">Apply</button>
        <label>
          Per page
          <select
            value={String(limit)}
            onChange={(event) => setFilter({ limit: (event.currentTarget as HTMLSelectElement).value })}
          >
            {PAGE_SIZES.map((size) => (
              <option key={size} value={String(size)}>
                {size}
              </option>
            ))}
          </select>
        </label>
      </form>

      <div class="toolbar">
        <button type="button" class="danger" disabled={selected.size === 0} onClick={() => void cancel([...selected])}>
          Cancel selected ({selected.size})
        </button>
        <span class="hint" aria-live="polite">
          {page ? `${counts.running} running, ${counts.pending} pending on this page` : ''}
        </span>
      </div>
      {notice && (
        <p role="status" class="hint">
          {notice}
        </p>
      )}
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}

      <div class="table-wrap">
        <table aria-label="Jobs in the queue" aria-busy={page === undefined ? 'true' : undefined}>
          <thead>
            <tr>
              <th scope="col">
                <input
                  type="checkbox"
                  aria-label="Select every job on this page"
                  checked={allSelected}
                  onChange={() => setSelected(allSelected ? new Set() : new Set(jobs.map((job) => job.id)))}
                />
              </th>
              <th scope="col">JOBID</th>
              <th scope="col">PARTITION</th>
              <th scope="col">NAME</th>
              <th scope="col">USER</th>
              <th scope="col">ST</th>
              <th scope="col">TIME</th>
              <th scope="col">NODES</th>
              <th scope="col">NODELIST(REASON)</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {jobs.map((job) => (
              <tr key={job.id} data-job-id={job.id}>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Select job ${job.id}`}
                    checked={selected.has(job.id)}
                    onChange={() => toggle(job.id)}
                  />
                </td>
                <td>
                  {/* As squeue shows it: 123_7 for an array task, 123_[8-10] for an array's PENDING tasks. */}
                  <Link href={`/ui/jobs/${job.id}`}>{job.display_id}</Link>
                </td>
                <td>{job.partition}</td>
                <td class="name" title={job.name}>
                  {job.name}
                </td>
                <td>{job.user ?? '—'}</td>
                <td class={`state state-${stateCode(job.state)}`} title={job.state}>
                  {stateCode(job.state)}
                </td>
                <td class="mono">{runTime(job, serverNow)}</td>
                <td>1</td>
                <td title={job.reason_detail ?? undefined}>
                  {job.state === 'RUNNING' ? job.node : `(${job.reason ?? 'None'})`}
                </td>
                <td>
                  <button type="button" onClick={() => void cancel([job.id])} aria-label={`Cancel job ${job.id}`}>
                    Cancel
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {page && jobs.length === 0 && <p class="hint">No jobs.</p>}
      <div class="pager">
        <button type="button" disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>
          Previous page
        </button>
        <span>Page {cursors.length}</span>
        <button type="button" disabled={!page?.next} onClick={() => page?.next && setCursors([...cursors, page.next])}>
          Next page
        </button>
      </div>
      {dialog}
    </section>
  );
}
