/** `npm start`: the Node host from the environment; SIGINT or SIGTERM stops it cleanly, a second one at once. */
import { ConfigError, readNodeHostConfig } from '../../../shared/config/node-host-config.js';
import { startNodeHost } from './node-host.js';

let config;
try {
  config = readNodeHostConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(2);
}

const host = await startNodeHost(config).catch((error: Error) => {
  console.error(`start-up failed: ${error.message}`);
  process.exit(1);
});

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log(`${signal}: stopping`);
    host.stop().then(
      () => process.exit(0),
      (error: Error) => {
        console.error(`stop failed: ${error.message}`);
        process.exit(1);
      },
    );
  });
}
