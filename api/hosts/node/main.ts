/**
 * `npm start`: the Node host from the environment. SIGINT or SIGTERM stops it cleanly; a second signal, or the stop
 * taking longer than STOP_DEADLINE_MS, ends it at once.
 */
import { readNodeHostConfig } from '../../../shared/config/node-host-config.js';
import { ConfigError } from '../../../shared/config/read-config.js';
import { pinoLogger } from '../../../shared/log/pino-logger.js';
import { startNodeHost } from './node-host.js';

let config;
try {
  config = readNodeHostConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(2);
}

const log = pinoLogger({ level: config.CONDUCTOR_LOG_LEVEL, format: config.CONDUCTOR_LOG_FORMAT });
// Why the process ends goes to stderr, where a supervisor (and a person at the terminal) looks for it.
const fatal = pinoLogger({ level: 'error', format: config.CONDUCTOR_LOG_FORMAT, destination: process.stderr });
const host = await startNodeHost(config, log).catch((error: Error) => {
  fatal.error(`start-up failed: ${error.message}`);
  process.exit(1);
});

// Long enough for in-flight requests and the database to close; a stuck one must not keep the process alive.
const STOP_DEADLINE_MS = 10_000;

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info(`${signal}: stopping`);
    setTimeout(() => {
      fatal.error(`stop took over ${STOP_DEADLINE_MS} ms: exiting now`);
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    host.stop().then(
      () => process.exit(0),
      (error: Error) => {
        fatal.error(`stop failed: ${error.message}`);
        process.exit(1);
      },
    );
  });
}
