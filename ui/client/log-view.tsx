/**
 * One stream of a job's output (stdout or stderr), shown by its tail and followed live while the job runs:
 * - starts at the last TAIL_BYTES; "Load earlier" reads the range before what is shown;
 * - follows with the SDK's followLogs (api/routes/v1/jobs/logs.ts, follow=true), which after a dropped connection
 *   follows again from the byte it had reached, of the same attempt: nothing lost or repeated;
 * - scrolls to the end as lines arrive, unless the reader scrolled up (then a button jumps back and resumes);
 * - keeps at most MAX_SHOWN characters (older chunks are dropped from the top, readable again with "Load earlier");
 * - downloads the whole stream, read range by range into a file.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { followLogs } from '../../sdk/index.js';
import { api, consoleFetch } from './api.js';
import { OutputDecoder, partialCharacterBytes } from './output-text.js';

const TAIL_BYTES = 256 * 1024;
const EARLIER_BYTES = 256 * 1024;
const MAX_SHOWN = 4 * 1024 * 1024;
// The API's largest range read (shared/logs/log-store.ts MAX_CHUNK_BYTES): a download takes few requests.
const DOWNLOAD_BYTES = 8 * 1024 * 1024;

interface Chunk {
  /** Byte offset of the chunk in the stream. */
  start: number;
  text: string;
}

export interface LogViewProps {
  jobId: string;
  stream: 'stdout' | 'stderr';
  /** The job's state when the view opened: PENDING follows its next attempt from the start, RUNNING tails then follows. */
  state: string;
}

interface Range {
  bytes: Uint8Array;
  start: number;
  next: number;
  complete: boolean;
  attempt: number;
  merged: boolean;
}

/** One range read: `query` is tail_bytes, or offset and limit. */
async function readRange(jobId: string, stream: string, query: Record<string, string>): Promise<Range> {
  const response = await consoleFetch(
    `/v1/jobs/${encodeURIComponent(jobId)}/logs/${stream}?${new URLSearchParams(query)}`,
  );
  if (!response.ok) {
    const problem = (await response.json().catch(() => ({}))) as { detail?: string; title?: string };
    throw new Error(problem.detail ?? problem.title ?? `HTTP ${response.status}`);
  }
  const header = (name: string) => response.headers.get(name);
  return {
    bytes: new Uint8Array(await response.arrayBuffer()),
    start: Number(header('Conductor-Log-Offset') ?? 0),
    next: Number(header('Conductor-Next-Offset') ?? 0),
    complete: header('Conductor-Log-Complete') === 'true',
    attempt: Number(header('Conductor-Attempt') ?? 0),
    merged: header('Conductor-Log-Merged') === 'stdout',
  };
}

export function LogView({ jobId, stream, state }: LogViewProps) {
  const [chunks, setChunks] = useState<Chunk[]>([]);
  const [status, setStatus] = useState<'loading' | 'following' | 'complete' | 'merged'>('loading');
  const [error, setError] = useState<string | undefined>(undefined);
  const [stuck, setStuck] = useState(true);
  const [busy, setBusy] = useState(false);
  const view = useRef<HTMLPreElement>(null);
  // Whether to keep the view at its end: read before each update, so that the reader's scroll wins.
  const stick = useRef(true);

  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    const decoder = new OutputDecoder();
    const append = (start: number, text: string) => {
      // Nothing to show (a flush with no truncated character left): no chunk, whose offset would be another's key.
      if (!text) return;
      setChunks((shown) => {
        const next = [...shown, { start, text }];
        let size = next.reduce((sum, chunk) => sum + chunk.text.length, 0);
        while (size > MAX_SHOWN && next.length > 1) size -= next.shift()!.text.length;
        return next;
      });
    };
    (async () => {
      let offset = 0;
      let attempt: number | undefined;
      if (state !== 'PENDING') {
        const tail = await readRange(jobId, stream, { tail_bytes: String(TAIL_BYTES) });
        if (signal.aborted) return;
        if (tail.merged) return setStatus('merged');
        const cut = tail.start > 0 ? partialCharacterBytes(tail.bytes) : 0;
        if (tail.bytes.length) append(tail.start + cut, decoder.decode(tail.bytes.subarray(cut), tail.complete));
        if (tail.complete) return setStatus('complete');
        offset = tail.next;
        attempt = tail.attempt || undefined;
      }
      setStatus('following');
      for await (const bytes of followLogs(api, jobId, { stream, offset, ...(attempt ? { attempt } : {}), signal })) {
        append(offset, decoder.decode(bytes));
        offset += bytes.byteLength;
      }
      append(offset, decoder.decode(new Uint8Array(0), true));
      setStatus('complete');
    })().catch((failure: Error) => {
      if (!signal.aborted) setError(failure.message);
    });
    return () => controller.abort();
  }, [jobId, stream]);

  // After new text: back to the end, unless the reader had scrolled away from it.
  useLayoutEffect(() => {
    const element = view.current;
    if (element && stick.current) element.scrollTop = element.scrollHeight;
  }, [chunks]);

  const onScroll = () => {
    const element = view.current!;
    stick.current = element.scrollHeight - element.scrollTop - element.clientHeight < 8;
    if (stick.current !== stuck) setStuck(stick.current);
  };

  const jumpToEnd = () => {
    stick.current = true;
    setStuck(true);
    view.current!.scrollTop = view.current!.scrollHeight;
  };

  const firstByte = chunks[0]?.start ?? 0;
  const loadEarlier = async () => {
    setBusy(true);
    try {
      const from = Math.max(0, firstByte - EARLIER_BYTES);
      const range = await readRange(jobId, stream, { offset: String(from), limit: String(firstByte - from) });
      const cut = from > 0 ? partialCharacterBytes(range.bytes) : 0;
      const text = new OutputDecoder().decode(range.bytes.subarray(cut), true);
      // Kept where the reader is: the height added above is scrolled past.
      const element = view.current!;
      const before = element.scrollHeight;
      stick.current = false;
      setStuck(false);
      setChunks((shown) => [{ start: from + cut, text }, ...shown]);
      requestAnimationFrame(() => (element.scrollTop += element.scrollHeight - before));
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const download = async () => {
    setBusy(true);
    try {
      const parts: Uint8Array[] = [];
      for (let offset = 0; ;) {
        const range = await readRange(jobId, stream, { offset: String(offset), limit: String(DOWNLOAD_BYTES) });
        parts.push(range.bytes);
        if (range.complete || range.bytes.length === 0) break;
        offset = range.next;
      }
      const url = URL.createObjectURL(new Blob(parts as BlobPart[], { type: 'application/octet-stream' }));
      const link = document.createElement('a');
      link.href = url;
      link.download = `job-${jobId}.${stream}`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setBusy(false);
    }
  };

  if (status === 'merged') {
    return <p class="hint">stderr goes to the same file as stdout (shown above).</p>;
  }
  return (
    <div class="log-panel">
      <div class="log-bar">
        <button
          type="button"
          onClick={() => void loadEarlier()}
          disabled={busy || firstByte === 0 || status === 'loading'}
        >
          Load earlier
        </button>
        <button type="button" onClick={() => void download()} disabled={busy || status === 'loading'}>
          Download {stream}
        </button>
        <span data-testid={`${stream}-status`}>
          {status === 'loading' ? 'Loading…' : status === 'following' ? 'Following live' : 'Complete'}
          {firstByte > 0 ? ` · from byte ${firstByte.toLocaleString()}` : ''}
        </span>
        {!stuck && status === 'following' && (
          <button type="button" onClick={jumpToEnd}>
            Auto-scroll paused · jump to end
          </button>
        )}
      </div>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <pre
        ref={view}
        class="log"
        tabIndex={0}
        role="log"
        aria-live="off"
        aria-label={`${stream} of job ${jobId}`}
        data-testid={`${stream}-output`}
        onScroll={onScroll}
      >
        {/* A node per chunk, keyed by its offset: new output is added to the page, and what is shown already is not
            written again (one text of up to MAX_SHOWN rewritten at each chunk stalls the page under fast output). */}
        {chunks.map((chunk) => (
          <span key={chunk.start}>{chunk.text}</span>
        ))}
      </pre>
    </div>
  );
}
