/**
 * The submit benchmark's reference: a bare Hono handler on @hono/node-server doing one INSERT ... RETURNING through
 * pg. No auth, no validation, no history event: about the least any submit route on this stack can cost, so the
 * real host's throughput reads as a fraction of it.
 *
 * Env: DATABASE_URL (its search_path picks the schema), HOST, PORT, DB_POOL_SIZE (default 10, as the Node host).
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import pg from 'pg';

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error('DATABASE_URL is required');
  process.exit(2);
}
const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 8090);

const pool = new pg.Pool({ connectionString: databaseUrl, max: Number(process.env.DB_POOL_SIZE ?? 10) });
await pool.query('CREATE TABLE IF NOT EXISTS bench_ref (id bigserial PRIMARY KEY, body jsonb NOT NULL)');

const app = new Hono();
app.post('/v1/jobs', async (c) => {
  const body: unknown = await c.req.json();
  // pg sends an object parameter as its JSON text, which the jsonb column takes as is.
  const { rows } = await pool.query<{ id: string }>('INSERT INTO bench_ref (body) VALUES ($1) RETURNING id', [body]);
  return c.json({ id: rows[0]!.id }, 201);
});

const server = serve({ fetch: app.fetch, hostname: host, port }, (info) => {
  console.log(`reference insert server listening on http://${host}:${info.port}`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close(() => {
      pool.end().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  });
}
