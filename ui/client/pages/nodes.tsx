/**
 * Nodes (admins only), as sinfo -N and scontrol show node tell them: state, partitions, CPUs and memory allocated of
 * the node's total, running jobs, last heartbeat (relative, the time itself in its title), how it enforces its jobs'
 * limits, and a drain's reason, who set it and when. Drain asks for a reason, required as scontrol's
 * `State=DRAIN Reason=…`; resume asks for a confirmation. Refreshed every 5 s without a reload.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, problemFrom } from '../api.js';
import type { components } from '../../../sdk/index.js';
import { useConfirm } from '../confirm-dialog.js';
import { adoptStyles } from '../page-styles.js';
import type { PageProps } from '../routes.js';
import { formatTime } from '../slurm-format.js';
import { formatAgo } from '../time-format.js';
import { usePolling } from '../use-polling.js';
import css from '../console-pages.css' with { type: 'text' };

adoptStyles(css);

const POLL_MS = 5000;

type Node = components['schemas']['Node'];

/** How the node holds its jobs to their limits, per concern: `memory cgroup2 · cpus affinity · …`. */
function enforcement(node: Node): string {
  if (!node.containment) return 'not reported';
  return Object.entries(node.containment)
    .map(([concern, level]) => `${concern} ${level}`)
    .join(' · ');
}

const memory = (mb: number) => (mb >= 1024 ? `${(mb / 1024).toFixed(mb % 1024 === 0 ? 0 : 1)}G` : `${mb}M`);

export default function NodesPage(_props: PageProps) {
  const [nodes, setNodes] = useState<Node[] | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const [now, setNow] = useState(Date.now());
  const [draining, setDraining] = useState<string | undefined>(undefined);
  const [refresh, setRefresh] = useState(0);
  const { dialog: confirmDialog, ask } = useConfirm('Resume');

  usePolling(
    async (signal) => {
      const { data, error: failure, response } = await api.GET('/v1/nodes', { signal });
      if (signal.aborted) return;
      if (!data) {
        setError(problemFrom(failure, response).message);
        return;
      }
      setError(undefined);
      setNow(Date.now());
      setNodes(data.nodes);
    },
    POLL_MS,
    [refresh],
  );

  const act = async (node: string, action: 'drain' | 'resume', reason?: string) => {
    const params = { path: { node } };
    const {
      data,
      error: failure,
      response,
    } = action === 'drain'
      ? await api.POST('/v1/nodes/{node}/drain', { params, body: { reason } })
      : await api.POST('/v1/nodes/{node}/resume', { params });
    if (data) setNotice(`${node} is ${action === 'drain' ? 'draining' : 'resumed'}.`);
    else setNotice(`${node} could not be ${action}ed: ${problemFrom(failure, response).message}`);
    setRefresh((count) => count + 1);
  };
  const resume = async (node: string) => {
    if (await ask(`Resume ${node}? It takes new jobs again.`)) await act(node, 'resume');
  };

  return (
    <section class="nodes-page">
      <h1>Nodes</h1>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <p class="hint" role="status" data-testid="nodes-notice">
        {notice}
      </p>
      {nodes === undefined ? (
        <p class="loading">Loading…</p>
      ) : nodes.length === 0 ? (
        <p>No node has registered yet: a node appears with its first heartbeat.</p>
      ) : (
        <div class="table-wrap">
          <table data-testid="nodes-table">
            <thead>
              <tr>
                {[
                  'Node',
                  'State',
                  'Partitions',
                  'CPUs (alloc/total)',
                  'Memory (alloc/total)',
                  'Running jobs',
                  'Last heartbeat',
                  'Enforcement',
                  'Reason',
                  'Actions',
                ].map((column) => (
                  <th scope="col" key={column}>
                    {column}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {nodes.map((node) => (
                <tr key={node.name} data-node={node.name}>
                  <th scope="row">{node.name}</th>
                  <td class={`node-state node-${node.state}`}>{node.state}</td>
                  <td>{node.partitions.join(', ')}</td>
                  <td class="mono">
                    {node.cpus_allocated}/{node.cpus}
                  </td>
                  <td class="mono">
                    {memory(node.memory_allocated_mb)}/{memory(node.memory_mb)}
                  </td>
                  <td class="mono">{node.running_jobs}</td>
                  <td>
                    {node.last_heartbeat ? (
                      <time dateTime={node.last_heartbeat} title={formatTime(node.last_heartbeat)}>
                        {formatAgo(node.last_heartbeat, now)}
                      </time>
                    ) : (
                      'never'
                    )}
                  </td>
                  <td class="enforcement">{enforcement(node)}</td>
                  <td class="reason" data-testid="node-reason">
                    {node.reason ? (
                      <>
                        {node.reason}
                        <span class="hint">
                          {' '}
                          by {node.reason_set_by ?? '—'}, {formatTime(node.reason_set_at)}
                        </span>
                      </>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td>
                    {node.state === 'UP' ? (
                      <button type="button" onClick={() => setDraining(node.name)}>
                        Drain
                      </button>
                    ) : node.state === 'DRAINING' ? (
                      <button type="button" onClick={() => void resume(node.name)}>
                        Resume
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <DrainDialog
        node={draining}
        onClose={() => setDraining(undefined)}
        onDrain={async (node, reason) => {
          setDraining(undefined);
          await act(node, 'drain', reason);
        }}
      />
      {confirmDialog}
    </section>
  );
}

/** Asks for the drain's reason (required) in a modal dialog: Escape or Cancel leaves the node as it is. */
function DrainDialog(props: {
  node: string | undefined;
  onClose: () => void;
  onDrain: (node: string, reason: string) => Promise<void>;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const open = props.node !== undefined;
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      setReason('');
      dialog.showModal();
    } else if (!open && dialog.open) dialog.close();
  }, [open]);
  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    if (props.node && reason.trim()) void props.onDrain(props.node, reason.trim());
  };
  return (
    <dialog ref={ref} onCancel={props.onClose} onClose={props.onClose} aria-labelledby="drain-title">
      <form onSubmit={submit}>
        <h2 id="drain-title">Drain {props.node}</h2>
        <p class="hint" id="drain-hint">
          It takes no new jobs; the running ones finish. The reason is shown with the node until it is resumed.
        </p>
        <label for="drain-reason">Reason</label>
        <input
          id="drain-reason"
          name="reason"
          type="text"
          required
          maxLength={256}
          value={reason}
          onInput={(event) => setReason(event.currentTarget.value)}
          aria-describedby="drain-hint"
          autoFocus
        />
        <div class="actions">
          <button type="button" onClick={props.onClose}>
            Keep
          </button>
          <button type="submit" class="danger" disabled={!reason.trim()}>
            Drain
          </button>
        </div>
      </form>
    </dialog>
  );
}
