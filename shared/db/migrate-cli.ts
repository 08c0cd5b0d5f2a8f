/** `npm run migrate`: applies the migrations to DATABASE_URL, or to the embedded database in CONDUCTOR_DATA_DIR. */
import { join, resolve } from 'node:path';
import { readNodeHostConfig } from '../config/node-host-config.js';
import { ConfigError } from '../config/read-config.js';
import { loadMigrations } from './migration-files.js';
import { migrate } from './migrator.js';
import { openNodeDatabase } from './node-database.js';

try {
  const config = readNodeHostConfig(process.env);
  const database = await openNodeDatabase({
    url: config.DATABASE_URL,
    dataDir: join(resolve(config.CONDUCTOR_DATA_DIR), 'pglite'),
    poolSize: 1,
  });
  try {
    const applied = await migrate(database.migrations, await loadMigrations());
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'up to date');
  } finally {
    await database.close();
  }
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : `migrate failed: ${(error as Error).message}`);
  process.exit(error instanceof ConfigError ? 2 : 1);
}
