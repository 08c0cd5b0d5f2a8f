/** How the API hosts and the node daemon write their own log lines (shared/log/): the same names everywhere. */
import { z } from 'zod';
import { LOG_LEVELS } from '../log/logger.js';

export const logSettings = {
  CONDUCTOR_LOG_LEVEL: z
    .enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` })
    .default('info')
    .describe('The least severe level written.'),
  CONDUCTOR_LOG_FORMAT: z
    .enum(['json', 'pretty', 'auto'], { error: 'must be json, pretty or auto' })
    .default('auto')
    .describe('json: one JSON object a line; pretty: for people; auto: pretty on a terminal, else json.'),
};
