import { createRoute, z } from '@hono/zod-openapi';
import type { App } from '../../../app-env.js';
import type { Authenticator } from '../../../auth/authenticator.js';
import { requestAuthorization } from '../../../auth/request-authorization.js';
import { requirePrincipal } from '../../../auth/require-principal.js';
import type { Database } from '../../../../shared/db/database.js';
import type { EventFilter, EventKind } from '../../../events/event-filter.js';
import { comparePositions, formatPosition, parsePosition, type EventPosition } from '../../../events/event-position.js';
import { eventStream } from '../../../events/event-stream.js';
import { currentPosition, readEvents } from '../../../events/read-events.js';
import { Forbidden, Unauthenticated, ValidationFailed } from '../../../http/errors.js';
import { problemResponses } from '../../../http/problem.js';
import { EventsQuery, StreamEventData } from './schema.js';

const route = createRoute({
  method: 'get',
  path: '/v1/events',
  tags: ['Events'],
  summary: 'Follow job transitions (and node state changes) as Server-Sent Events',
  description: [
    'A `text/event-stream` (WHATWG HTML, Server-Sent Events): each event is `event: job` or `event: node`, its `data` one StreamEvent as JSON, its `id` an opaque position that orders events as their transactions committed.',
    'Reconnect with `Last-Event-ID` (EventSource does) to receive every event after it, none twice, whatever order concurrent writers committed in. A heartbeat comment comes every 15 s, with an `id:` line that moves the resume point on even when no event matched.',
    'An event is delivered once every transaction that began before it has ended: a long transaction anywhere on the database server delays delivery (it never loses events).',
    'On Workers a stream ends after about 25 s with a `retry:` hint; EventSource reconnects and resumes. Events are kept CONDUCTOR_EVENT_RETENTION_DAYS (at least 7) and at most CONDUCTOR_EVENT_MAX_ROWS: resuming from an id older than that answers 410 `cursor_expired` (connect again without Last-Event-ID).',
    "A user token sees its own account's job events only, never node events.",
  ].join('\n\n'),
  security: [{ bearer: [] }],
  middleware: [requirePrincipal('admin', 'user')] as const,
  request: {
    query: EventsQuery,
    headers: z.object({
      'last-event-id': z.string().optional().openapi({ description: 'The id of the last event received.' }),
    }),
  },
  responses: {
    200: {
      description: 'The stream',
      content: { 'text/event-stream': { schema: StreamEventData } },
    },
    ...problemResponses(401, 403, 422),
    410: {
      ...problemResponses(410)[410],
      description: 'cursor_expired: events after the given id were deleted past their retention',
    },
  },
});

export function registerEventStream(app: App): void {
  app.openapi(route, async (c) => {
    const query = c.req.valid('query');
    const { principal, db, services } = c.var;
    const kinds = [...new Set<EventKind>(query.kinds ?? ['job'])];
    if (principal.kind === 'user') {
      if (kinds.includes('node')) throw new Forbidden('node events are for admin tokens');
      if (query.account !== undefined && query.account !== principal.account)
        throw new Forbidden(`this token sees account ${principal.account}'s events only`);
    }
    const filter: EventFilter = {
      kinds,
      ...(query.job_id ? { jobIds: query.job_id.map(Number) } : {}),
      ...(principal.kind === 'user'
        ? { account: principal.account }
        : query.account !== undefined
          ? { account: query.account }
          : {}),
      ...(query.state ? { states: query.state } : {}),
      ...(query.partition ? { partitions: query.partition } : {}),
    };
    const { authorization } = requestAuthorization(c);
    const start = await startOf(db, c.req.header('last-event-id'), query.after);
    // Refused before the 200: an expired cursor is a 410 the client can see, not a stream that ends at once.
    await readEvents(db, start, filter, 1);
    const { events } = services;
    const body = eventStream({
      db,
      filter,
      start,
      hub: events.hub,
      pollMs: events.pollMs,
      heartbeatMs: events.heartbeatMs,
      endAfterMs: events.endAfterMs,
      retryMs: events.retryMs,
      closing: services.closing,
      maxBuffered: events.maxBuffered,
      stillValid: () => stillValid(services.authenticator, db, authorization),
    });
    return c.body(body, 200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      // nginx buffers responses unless told not to; an event must not wait in a proxy.
      'X-Accel-Buffering': 'no',
    }) as never;
  });
}

/**
 * Whether the stream's token still authenticates, through the authenticator's cache (CONDUCTOR_TOKEN_CACHE_SECONDS):
 * a thousand open streams of one token cost one lookup per cache period, not one each. A database that does not
 * answer ends nothing: only a revoke does.
 */
async function stillValid(authenticator: Authenticator, db: Database, authorization: string | undefined) {
  try {
    await authenticator.authenticate(db, authorization);
    return true;
  } catch (error) {
    return !(error instanceof Unauthenticated);
  }
}

async function startOf(
  db: Parameters<typeof currentPosition>[0],
  header: string | undefined,
  after: string | undefined,
): Promise<EventPosition> {
  const now = await currentPosition(db);
  const given =
    header !== undefined && header.trim() !== ''
      ? { cursor: header, source: { field: 'Last-Event-ID', in: 'header' as const } }
      : after !== undefined
        ? { cursor: after, source: { field: 'after', in: 'query' as const } }
        : undefined;
  if (!given) return now;
  const position = parsePosition(given.cursor);
  if (!position) throw new ValidationFailed([{ ...given.source, message: 'must be an event id from this stream' }]);
  // No id of this stream is past its horizon (every id it gave was at or below it, and the horizon only grows): one
  // that is came from another database, and following from it would silently skip every event until the horizon
  // passed it.
  if (comparePositions(position, now) > 0)
    throw new ValidationFailed([
      { ...given.source, message: `is ahead of this stream (at ${formatPosition(now)}): not an event id from it` },
    ]);
  return position;
}
