/** `npm run openapi`: writes the document the code generates to api/openapi.json, the committed contract. */
import { writeFileSync } from 'node:fs';
import { createApp, OPENAPI_INFO } from './app.js';

// Generating the document serves no request, so the app gets a database that refuses to be used.
const app = createApp({
  db: () => {
    throw new Error('the OpenAPI document needs no database');
  },
});
const document = app.getOpenAPI31Document({ openapi: '3.1.0', info: OPENAPI_INFO });
const file = new URL('./openapi.json', import.meta.url);
writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
console.log(`wrote ${file.pathname}`);
