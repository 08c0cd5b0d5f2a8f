/** A node daemon's options from its validated settings: the same for `npm run node` and the embedded default. */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { NodeSettings } from '../shared/config/node-settings.js';
import type { LogStore } from '../shared/logs/log-store.js';
import type { NodeDaemonOptions } from './node-daemon.js';

/** What a host decides when its settings leave it open: the embedded default lets its admin's jobs run as root. */
export interface HostDefaults {
  allowRootJobs: boolean;
}

export function daemonOptions(
  settings: NodeSettings,
  defaultDir: string,
  logStore: LogStore,
  defaults: HostDefaults = { allowRootJobs: false },
): Omit<NodeDaemonOptions, 'api' | 'source' | 'log'> {
  return {
    node: settings.CONDUCTOR_NODE_NAME,
    partitions: settings.CONDUCTOR_NODE_PARTITIONS,
    cpus: settings.CONDUCTOR_NODE_CPUS,
    memoryMb: settings.CONDUCTOR_NODE_MEMORY_MB,
    dir: resolve(settings.CONDUCTOR_NODE_DIR ?? defaultDir),
    coreLockDir: resolve(settings.CONDUCTOR_CORE_LOCK_DIR),
    machineCores: availableParallelism(),
    oversubscribe: settings.CONDUCTOR_NODE_OVERSUBSCRIBE,
    heartbeatMs: settings.CONDUCTOR_HEARTBEAT_SECONDS * 1000,
    killGraceMs: settings.CONDUCTOR_KILL_GRACE_SECONDS * 1000,
    memoryPollMs: settings.CONDUCTOR_MEMORY_POLL_SECONDS * 1000,
    containment: settings.CONDUCTOR_CONTAINMENT === 'on',
    ...(settings.CONDUCTOR_JOB_PIDS_MAX ? { jobPidsMax: settings.CONDUCTOR_JOB_PIDS_MAX } : {}),
    claimIdleMaxMs: settings.CONDUCTOR_CLAIM_IDLE_MAX_SECONDS * 1000,
    runAs: {
      minUid: settings.CONDUCTOR_MIN_UID,
      allowRootJobs: settings.CONDUCTOR_ALLOW_ROOT_JOBS ?? defaults.allowRootJobs,
    },
    logs: {
      store: logStore,
      flushMs: settings.CONDUCTOR_LOG_FLUSH_MS,
      chunkBytes: settings.CONDUCTOR_LOG_CHUNK_BYTES,
      spoolBytes: settings.CONDUCTOR_LOG_SPOOL_BYTES,
    },
  };
}
