/** A logger (shared/log/logger.ts) that hands each line's message, at any level, to `write`: what a test reads. */
import type { Logger } from '../../shared/log/logger.js';

export function messageLogger(write: (message: string) => void): Logger {
  const logger: Logger = { debug: write, info: write, warn: write, error: write, child: () => logger };
  return logger;
}
