/**
 * The job page's "Why pending" section (GET /v1/jobs/{id}/why): the reason, the job's place in its partition's queue
 * and the jobs ahead (other accounts' shown as "another account"), its expected start as squeue --start computes it,
 * the account limit that holds it, and each node of its partition with why the job cannot start there now.
 * Refreshed with the page while the job is PENDING; the page shows it only then.
 */
import { useState } from 'preact/hooks';
import { api, problemFrom, type WhyPending } from './api.js';
import { formatTime } from './slurm-format.js';
import { usePolling } from './use-polling.js';

const POLL_MS = 5000;

export function WhyPendingSection({ jobId }: { jobId: string }) {
  const [why, setWhy] = useState<WhyPending | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  usePolling(
    async (signal) => {
      const {
        data,
        error: failure,
        response,
      } = await api.GET('/v1/jobs/{id}/why', {
        params: { path: { id: jobId } },
        signal,
      });
      if (signal.aborted) return;
      // A 409: it started meanwhile; the page stops showing this section at its next refresh.
      if (!data) return setError(problemFrom(failure, response).message);
      setError(undefined);
      setWhy(data);
    },
    POLL_MS,
    [jobId],
  );

  return (
    <section aria-labelledby="why-pending" data-testid="why-pending">
      <h2 id="why-pending">Why pending</h2>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {!why ? (
        !error && <p class="loading">Loading…</p>
      ) : (
        <>
          <dl class="fields">
            <dt>Reason</dt>
            <dd data-testid="why-reason">
              <strong>{why.reason}</strong>: {why.reason_detail}
            </dd>
            <dt>Place in queue</dt>
            <dd data-testid="why-position">
              {why.queue.position} in partition {why.partition} ({why.queue.ahead} job{why.queue.ahead === 1 ? '' : 's'}{' '}
              ahead)
            </dd>
            <dt>Expected start</dt>
            <dd data-testid="why-start">
              {why.expected_start.time
                ? `${formatTime(why.expected_start.time)} on ${why.expected_start.node}`
                : 'not computable'}
              {why.expected_start.note ? ` (${why.expected_start.note})` : ''}
            </dd>
            {why.account_limit && (
              <>
                <dt>Account limit</dt>
                <dd data-testid="why-account-limit">
                  {why.account_limit.reason}: {why.account_limit.in_use} of {why.account_limit.limit ?? 'no limit'}{' '}
                  {why.account_limit.unit} in use
                </dd>
              </>
            )}
          </dl>
          {why.queue.jobs_ahead.length > 0 && (
            <div class="table-wrap">
              <table data-testid="why-ahead">
                <caption>Jobs ahead{why.queue.jobs_ahead.length < why.queue.ahead ? ' (the first ones)' : ''}</caption>
                <thead>
                  <tr>
                    {['Job', 'Priority', 'CPUs', 'Memory', 'Time limit', 'Account', 'User', 'Name'].map((head) => (
                      <th key={head}>{head}</th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {why.queue.jobs_ahead.map((job) => (
                    <tr key={job.id}>
                      <td>{job.id}</td>
                      <td>{job.priority}</td>
                      <td>{job.cpus}</td>
                      <td>{job.memory_per_node}</td>
                      <td>{job.time_limit}</td>
                      <td>{job.owner}</td>
                      <td>{job.user ?? '—'}</td>
                      <td>{job.name ?? '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {why.nodes.length === 0 ? (
            <p>No node serves partition {why.partition}.</p>
          ) : (
            <div class="table-wrap">
              <table data-testid="why-nodes">
                <caption>Nodes of partition {why.partition}</caption>
                <thead>
                  <tr>
                    {['Node', 'State', 'Why not now', 'Free CPUs', 'Free memory (MB)', 'Frees at'].map((head) => (
                      <th key={head}>{head}</th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {why.nodes.map((node) => (
                    <tr key={node.name}>
                      <td>{node.name}</td>
                      <td>{node.state}</td>
                      <td>{node.detail}</td>
                      <td>
                        {node.free_cpus}/{node.cpus}
                      </td>
                      <td>
                        {node.free_memory_mb}/{node.memory_mb}
                      </td>
                      <td>{node.frees_at ? formatTime(node.frees_at) : '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </section>
  );
}
