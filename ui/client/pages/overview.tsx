/**
 * Overview: how many jobs are in each state now, in all and per partition (GET /v1/stats, exact counts), and charts
 * of the last hour or day (a toggle; GET /v1/stats/history, sampled each minute by the reconciler): CPUs allocated
 * against the total per partition, jobs pending and running, jobs finished per minute by end state, and the median
 * wait of the jobs that started. A user's session sees its own account's jobs, and the cluster's CPUs.
 */
import { useMemo, useState } from 'preact/hooks';
import { formatElapsed } from '../../../shared/job/time-limit.js';
import { api, problemFrom } from '../api.js';
import type { components } from '../../../sdk/index.js';
import { adoptStyles } from '../page-styles.js';
import type { PageProps } from '../routes.js';
import { stateCode } from '../slurm-format.js';
import { JOB_STATES } from '../../../shared/job/job-state.js';
import { TimeChart, type ChartSeries } from '../time-chart.js';
import { usePolling } from '../use-polling.js';
import css from '../console-pages.css' with { type: 'text' };

adoptStyles(css);

type Stats = components['schemas']['Stats'];
type History = components['schemas']['UtilisationHistory'];
type Window = History['window'];
type State = keyof Stats['by_state'];

const STATES: readonly State[] = JOB_STATES;
const END_COLOURS: Record<keyof History['finished'], string> = {
  COMPLETED: '#1a7f37',
  FAILED: '#b42318',
  CANCELLED: '#57606a',
  TIMEOUT: '#bc4c00',
  OUT_OF_MEMORY: '#8250df',
  NODE_FAIL: '#7d4e00',
};
const PALETTE = ['#0a58ca', '#1a7f37', '#bc4c00', '#8250df', '#b42318', '#0f7c8a', '#9a6700', '#57606a'];
// The counts change with every job; the history gains a sample a minute.
const STATS_POLL_MS = 5000;
const HISTORY_POLL_MS = 30_000;

const whole = (value: number) => String(Math.round(value * 100) / 100);

export default function OverviewPage(_props: PageProps) {
  const [span, setSpan] = useState<Window>('hour');
  const [stats, setStats] = useState<Stats | undefined>(undefined);
  const [history, setHistory] = useState<History | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);

  usePolling(
    async (signal) => {
      const { data, error: failure, response } = await api.GET('/v1/stats', { signal });
      if (signal.aborted) return;
      if (data) setStats(data);
      else setError(problemFrom(failure, response).message);
    },
    STATS_POLL_MS,
    [],
  );
  usePolling(
    async (signal) => {
      const {
        data,
        error: failure,
        response,
      } = await api.GET('/v1/stats/history', {
        params: { query: { window: span } },
        signal,
      });
      if (signal.aborted) return;
      if (data) setHistory(data);
      else setError(problemFrom(failure, response).message);
    },
    HISTORY_POLL_MS,
    [span],
  );

  return (
    <section class="overview-page">
      <h1>Overview</h1>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {stats === undefined ? <p class="loading">Loading…</p> : <Counts stats={stats} />}
      <div class="overview-head">
        <h2>Over the last {span}</h2>
        <div class="toggle" role="group" aria-label="Charts' window">
          {(['hour', 'day'] as const).map((choice) => (
            <button
              key={choice}
              type="button"
              aria-pressed={span === choice}
              class={span === choice ? 'primary' : undefined}
              onClick={() => setSpan(choice)}
            >
              Last {choice}
            </button>
          ))}
        </div>
      </div>
      {history === undefined || history.window !== span ? (
        <p class="loading">Loading…</p>
      ) : (
        <Charts history={history} />
      )}
    </section>
  );
}

function Counts({ stats }: { stats: Stats }) {
  const count = (byState: Stats['by_state'], state: State) => byState[state] ?? 0;
  return (
    <div class="table-wrap">
      <table data-testid="state-counts">
        <caption>Jobs by state now ({stats.total} in all)</caption>
        <thead>
          <tr>
            <th scope="col">Partition</th>
            {STATES.map((state) => (
              <th scope="col" key={state} title={state} class={`state state-${state}`}>
                {stateCode(state)}
              </th>
            ))}
            <th scope="col">All</th>
          </tr>
        </thead>
        <tbody>
          {stats.partitions.map((partition) => (
            <tr key={partition.partition} data-partition={partition.partition}>
              <th scope="row">{partition.partition}</th>
              {STATES.map((state) => (
                <td key={state} class="mono">
                  {count(partition.by_state, state)}
                </td>
              ))}
              <td class="mono">{partition.total}</td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr data-partition="">
            <th scope="row">All</th>
            {STATES.map((state) => (
              <td key={state} class="mono" data-state={state}>
                {count(stats.by_state, state)}
              </td>
            ))}
            <td class="mono">{stats.total}</td>
          </tr>
        </tfoot>
      </table>
    </div>
  );
}

function Charts({ history }: { history: History }) {
  const perMinute = history.step_seconds / 60;
  const charts = useMemo(() => {
    const cpus: ChartSeries[] = history.partitions.flatMap((partition, i) => {
      const colour = PALETTE[i % PALETTE.length]!;
      return [
        { label: `${partition} allocated`, values: history.cpus_allocated[partition] ?? [], colour },
        { label: `${partition} total`, values: history.cpus_total[partition] ?? [], colour, dashed: true },
      ];
    });
    const jobs: ChartSeries[] = [
      { label: 'pending', values: history.pending, colour: '#9a6700' },
      { label: 'running', values: history.running, colour: '#1a7f37' },
    ];
    // A day's steps are 5 minutes: their counts are divided to read per minute, as the hour's.
    const finished: ChartSeries[] = (Object.keys(END_COLOURS) as (keyof History['finished'])[]).map((state) => ({
      label: state,
      values: history.finished[state].map((value) => (value === null ? null : value / perMinute)),
      colour: END_COLOURS[state],
    }));
    const wait: ChartSeries[] = [{ label: 'median wait', values: history.median_wait_seconds, colour: '#0a58ca' }];
    return { cpus, jobs, finished, wait };
  }, [history]);
  const sampled = history.running.some((value) => value !== null);
  return (
    <>
      {!sampled && (
        <p class="hint" data-testid="no-samples">
          No sample in this window yet: the reconciler takes one each minute.
        </p>
      )}
      <div class="charts" data-testid="charts">
        <TimeChart
          title="CPUs allocated and total, per partition"
          unit="CPUs"
          times={history.times}
          series={charts.cpus}
        />
        <TimeChart title="Jobs pending and running" unit="jobs" times={history.times} series={charts.jobs} />
        <TimeChart
          title="Jobs finished per minute, by end state"
          unit="jobs / min"
          times={history.times}
          series={charts.finished}
          format={whole}
        />
        <TimeChart
          title="Median wait of the jobs started"
          unit="seconds"
          times={history.times}
          series={charts.wait}
          format={formatElapsed}
        />
      </div>
    </>
  );
}
