/** `npm run openapi`: writes the document the code generates to api/openapi.json, the committed contract. */
import { writeFileSync } from 'node:fs';
import { openNodeDatabase } from '../shared/db/node-database.js';
import { PostgresJobQueue } from '../shared/queue/postgres-job-queue.js';
import { OPENAPI_INFO } from './api-info.js';
import { createApp } from './app.js';

// The document touches no table; an empty in-memory database satisfies the app's dependencies.
const database = await openNodeDatabase({});
try {
  const app = createApp({ db: database.db, queue: new PostgresJobQueue(database.db) });
  const document = app.getOpenAPI31Document({ openapi: '3.1.0', info: OPENAPI_INFO });
  const file = new URL('./openapi.json', import.meta.url);
  writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
  console.log(`wrote ${file.pathname}`);
} finally {
  await database.close();
}
