/**
 * One job: its fields and resources, where it runs (node and cores), its timeline (GET /v1/jobs/{id}/events), how it
 * ended (exit status and signal kept apart, as sacct's ExitCode), and its stdout and stderr followed live
 * (log-view.tsx). Refreshed every 2 s until it has ended. Cancel (after a confirmation) while it is pending or
 * running; resubmit opens the submit form filled from it. While it is PENDING, a "Why pending" section
 * (why-pending.tsx) explains it node by node.
 */
import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { api, problemFrom, type Job } from '../api.js';
import { useConfirm } from '../confirm-dialog.js';
import { LogView } from '../log-view.js';
import { Link } from '../router.js';
import type { PageProps } from '../routes.js';
import { formatExit, formatTime, isTerminal, signalName, runTime, stateCode } from '../slurm-format.js';
import { usePolling } from '../use-polling.js';
import { WhyPendingSection } from '../why-pending.js';

const POLL_MS = 2000;

type JobDetail = Job & { environment: Record<string, string>; script: string };
interface JobEvent {
  attempt: number;
  from_state: string | null;
  to_state: string;
  at: string;
  actor: string;
  reason: string | null;
}

export default function JobPage({ params }: PageProps) {
  const id = params.id!;
  const [job, setJob] = useState<JobDetail | undefined>(undefined);
  const [events, setEvents] = useState<JobEvent[]>([]);
  const [error, setError] = useState<string | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  // The state the output views opened with (they follow from there themselves).
  const [firstState, setFirstState] = useState<string | undefined>(undefined);
  const { dialog, ask } = useConfirm('Cancel job');
  const ended = job !== undefined && isTerminal(job.state);

  usePolling(
    async (signal) => {
      if (ended) return;
      const [detail, history] = await Promise.all([
        api.GET('/v1/jobs/{id}', { params: { path: { id } }, signal }),
        api.GET('/v1/jobs/{id}/events', { params: { path: { id } }, signal }),
      ]);
      if (signal.aborted) return;
      if (!detail.data) return setError(problemFrom(detail.error, detail.response).message);
      setError(undefined);
      setJob(detail.data as JobDetail);
      setFirstState((state) => state ?? detail.data.state);
      if (history.data) setEvents(history.data.events as JobEvent[]);
    },
    POLL_MS,
    [id, ended],
  );

  const cancel = async () => {
    if (!(await ask(`Cancel job ${id}? If it runs, it is stopped; this cannot be undone.`))) return;
    const { data, error: failure, response } = await api.POST('/v1/jobs/{id}/cancel', { params: { path: { id } } });
    setNotice(data ? `Cancel asked (${data.effect.replace('_', ' ')}).` : problemFrom(failure, response).message);
  };

  if (!job) {
    return error ? (
      <section>
        <h1>Job {id}</h1>
        <p role="alert" class="error">
          {error}
        </p>
        <Link href="/ui/queue">Back to the queue</Link>
      </section>
    ) : (
      <p class="loading">Loading…</p>
    );
  }

  return (
    <section>
      <h1>
        Job {job.display_id}: <span class="job-name">{job.name}</span>{' '}
        <span class={`state state-${stateCode(job.state)}`} data-testid="job-state">
          {job.state}
        </span>
      </h1>
      <div class="toolbar">
        <button type="button" class="danger" disabled={ended} onClick={() => void cancel()}>
          Cancel job
        </button>
        <Link href={`/ui/submit?from=${encodeURIComponent(job.id)}`} class="button-link">
          Resubmit…
        </Link>
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

      <div class="columns">
        <div>
          <h2>Job</h2>
          <dl class="fields">
            <dt>Account</dt>
            <dd>{job.account}</dd>
            <dt>User</dt>
            <dd>{job.user ?? '—'}</dd>
            <dt>Partition</dt>
            <dd>{job.partition}</dd>
            {job.state === 'PENDING' && (
              <>
                <dt>Reason</dt>
                <dd>
                  {job.reason ?? 'None'}
                  {job.reason_detail ? `: ${job.reason_detail}` : ''}
                </dd>
              </>
            )}
            <dt>Priority</dt>
            <dd>{job.priority}</dd>
            <dt>Attempt</dt>
            <dd>{job.attempt}</dd>
            <dt>Submitted by</dt>
            <dd>{job.submitted_by}</dd>
            <dt>Working directory</dt>
            <dd class="mono">{job.current_working_directory ?? '—'}</dd>
            <dt>stdout</dt>
            <dd class="mono">{job.standard_output}</dd>
            <dt>stderr</dt>
            <dd class="mono">{job.standard_error}</dd>
          </dl>
        </div>
        <div>
          <h2>Resources</h2>
          <dl class="fields">
            <dt>CPUs</dt>
            <dd>
              {job.cpus} ({job.ntasks_per_node} task{job.ntasks_per_node === 1 ? '' : 's'} × {job.cpus_per_task})
            </dd>
            <dt>Memory</dt>
            <dd>{job.memory_per_node}</dd>
            <dt>Time limit</dt>
            <dd>{job.time_limit}</dd>
            <dt>Exclusive</dt>
            <dd>{job.exclusive ? 'yes' : 'no'}</dd>
            <dt>Node</dt>
            <dd>{job.node ?? '—'}</dd>
            <dt>Cores</dt>
            <dd class="mono">{job.cpu_ids?.join(',') ?? '—'}</dd>
          </dl>
        </div>
        <div>
          <h2>Times and end</h2>
          <dl class="fields">
            <dt>Submitted</dt>
            <dd>{formatTime(job.submit_time)}</dd>
            <dt>Started</dt>
            <dd>{formatTime(job.start_time)}</dd>
            <dt>Ended</dt>
            <dd>{formatTime(job.end_time)}</dd>
            <dt>Elapsed</dt>
            <dd class="mono">{runTime(job, Date.now())}</dd>
            <dt>Exit code</dt>
            <dd class="mono" data-testid="exit-code">
              {formatExit(job.exit_code)}
              {job.exit_code?.signal ? ` (${signalName(job.exit_code.signal)})` : ''}
            </dd>
            {job.error_msg && (
              <>
                <dt>Error</dt>
                <dd>{job.error_msg}</dd>
              </>
            )}
          </dl>
        </div>
      </div>

      {job.state === 'PENDING' && <WhyPendingSection jobId={job.id} />}

      {job.warnings.length > 0 && (
        <>
          <h2>Warnings</h2>
          <ul>
            {job.warnings.map((warning) => (
              <li key={warning}>{warning}</li>
            ))}
          </ul>
        </>
      )}

      <h2>Timeline</h2>
      <ol class="timeline" aria-label="Events">
        {events.map((event, index) => (
          <li key={index}>
            <time dateTime={event.at}>{formatTime(event.at)}</time>
            {event.from_state ? `${event.from_state} → ` : 'submitted, '}
            <strong>{event.to_state}</strong> (attempt {event.attempt}, {event.actor})
            {event.reason ? `: ${event.reason}` : ''}
          </li>
        ))}
      </ol>

      <h2>stdout</h2>
      {firstState && <LogView jobId={job.id} stream="stdout" state={firstState} />}
      <h2>stderr</h2>
      {firstState && <LogView jobId={job.id} stream="stderr" state={firstState} />}

      <details>
        <summary>Script</summary>
        <pre class="script">{job.script}</pre>
      </details>
      <details>
        <summary>Environment ({Object.keys(job.environment).length})</summary>
        <dl class="fields mono">
          {Object.entries(job.environment).map(([name, value]) => (
            <Fragment key={name}>
              <dt>{name}</dt>
              <dd>{value}</dd>
            </Fragment>
          ))}
        </dl>
      </details>
      {dialog}
    </section>
  );
}
