/**
 * The node daemon's metrics on prom-client, all `conductor_node_…`: its running jobs and the CPUs and memory they hold,
 * launches, ends by state and kills by reason (counted as the API acknowledges each end), output bytes stored and
 * waiting (the log shipping lag), store failures, the outbox's depth, and the journal's write latency. The daemon
 * calls these few methods at its seams (node-daemon.ts); the gauges read its run table when scraped. A standalone
 * daemon adds the process's own metrics (process_start_time_seconds tells its restarts); the embedded one leaves them
 * to its API host, whose scrape includes this registry.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LogStore } from '../shared/logs/log-store.js';
import type { NodeEvent } from '../shared/protocol/events.js';
import type { KillReason } from './job-ending.js';
import type { Run } from './run-table.js';

const MB = 1024 * 1024;
// A journal write is two fsyncs: a fraction of a millisecond on an SSD, up to seconds on a loaded disk.
const JOURNAL_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** What the gauges read at each scrape. */
export interface NodeMetricsView {
  /** Every run the node holds, ended or not (run-table.ts). */
  runs(): Run[];
  /** Unended runs: those holding CPUs and memory. */
  unended(): Run[];
  /** The node's CPUs and memory (MB). */
  cpus: number;
  memoryMb: number;
  /** Output written by jobs and not yet stored (log-shipper.ts). */
  unshippedBytes(): number;
}

export class NodeMetrics {
  readonly registry = new Registry();
  #view: NodeMetricsView | undefined;
  readonly #launches = new Counter({
    name: 'conductor_node_launches_total',
    help: 'Runs handed to the launcher after their confirm.',
    registers: [this.registry],
  });
  readonly #ends = new Counter({
    name: 'conductor_node_job_ends_total',
    help: 'Run ends the API acknowledged, by end state.',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });
  readonly #kills = new Counter({
    name: 'conductor_node_kills_total',
    help: 'Runs the daemon ended itself, by reason (CANCELLED, TIMEOUT, OUT_OF_MEMORY, LEASE_EXPIRED…), once acknowledged.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly #shipped = new Counter({
    name: 'conductor_node_log_shipped_bytes_total',
    help: "Bytes of jobs' output uploaded to the log store (a retried chunk counts again).",
    registers: [this.registry],
  });
  readonly #storeErrors = new Counter({
    name: 'conductor_node_log_store_errors_total',
    help: 'Uploads to the log store that failed (each is retried).',
    registers: [this.registry],
  });
  readonly #journal = new Histogram({
    name: 'conductor_node_journal_write_duration_seconds',
    help: 'Time to write a run record durably (write aside, fsync, rename, fsync the directory).',
    buckets: JOURNAL_BUCKETS,
    registers: [this.registry],
  });

  /** `processMetrics`: add the process's own (CPU, memory, start time); off where the host's registry has them. */
  constructor(options: { processMetrics: boolean }) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
    const view = () => this.#view;
    const gauge = (name: string, help: string, read: (view: NodeMetricsView) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          const seen = view();
          if (seen) this.set(read(seen));
        },
      });
    gauge(
      'conductor_node_running_jobs',
      'Runs not ended: launching, running or being ended.',
      (v) => v.unended().length,
    );
    gauge('conductor_node_cpus', "The node's CPUs.", (v) => v.cpus);
    gauge('conductor_node_cpus_allocated', 'CPUs the unended runs hold.', (v) =>
      v.unended().reduce((sum, run) => sum + run.record.slots.length, 0),
    );
    gauge('conductor_node_memory_bytes', "The node's memory offered to jobs.", (v) => v.memoryMb * MB);
    gauge('conductor_node_memory_allocated_bytes', 'Memory the unended runs asked for.', (v) =>
      v.unended().reduce((sum, run) => sum + run.record.job.memory_mb * MB, 0),
    );
    gauge('conductor_node_outbox_events', 'Job events waiting for the API to acknowledge them.', (v) =>
      v.runs().reduce((sum, run) => sum + run.record.outbox.length, 0),
    );
    gauge(
      'conductor_node_log_unshipped_bytes',
      'Output jobs wrote that the log store does not hold yet: the log shipping lag, in bytes.',
      (v) => v.unshippedBytes(),
    );
  }

  /** The daemon's parts are built: the gauges read them from now on. */
  watch(view: NodeMetricsView): void {
    this.#view = view;
  }

  launched(runs: number): void {
    this.#launches.inc(runs);
  }

  /** Events the API acknowledged; `killOf` tells why the daemon ended a run, if it did. */
  reported(events: NodeEvent[], killOf: (jobId: number, attempt: number) => KillReason | undefined): void {
    for (const event of events) {
      if (event.kind !== 'finished') continue;
      this.#ends.inc({ state: event.state });
      const reason = killOf(Number(event.job_id), event.attempt);
      if (reason) this.#kills.inc({ reason });
    }
  }

  journalWritten(seconds: number): void {
    this.#journal.observe(seconds);
  }

  /** The store with its uploads counted: bytes stored, and failures. */
  measuredStore(store: LogStore): LogStore {
    const put: LogStore['put'] = async (id, offset, bytes) => {
      try {
        await store.put(id, offset, bytes);
      } catch (error) {
        this.#storeErrors.inc();
        throw error;
      }
      this.#shipped.inc(bytes.length);
    };
    return new Proxy(store, {
      get(target, key) {
        if (key === 'put') return put;
        const value: unknown = Reflect.get(target, key);
        // Bound to the store itself: its methods may use private fields, which a proxy does not have.
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }
}
