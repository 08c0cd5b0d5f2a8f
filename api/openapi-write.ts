/** `npm run openapi`: writes the document the code generates to api/openapi.json, the committed contract. */
import { writeFileSync } from 'node:fs';
import { openNodeDatabase } from '../shared/db/node-database.js';
import { createApp } from './app.js';


const database = await openNodeDatabase({});
try {
  const response = await createApp({ db: database.db }).request('/openapi.json');
  const file = new URL('./openapi.json', import.meta.url);
  writeFileSync(file, `${JSON.stringify(await response.json(), null, 2)}\n`);
  console.log(`wrote ${file.pathname}`);
} finally {
  await database.close();
}
