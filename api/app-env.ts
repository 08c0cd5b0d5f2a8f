import { OpenAPIHono } from '@hono/zod-openapi';
import type { Database } from '../shared/db/database.js';
import type { Authenticator } from './auth/authenticator.js';
import type { Principal } from './auth/principal.js';

/** What every handler can reach: built once by createApp from its dependencies. */
export interface Services {
  db: Database;
  authenticator: Authenticator;
  now: () => Date;
}

export interface AppEnv {
  Variables: {
    services: Services;
    principal: Principal;
    requestId: string;
  };
}

export type App = OpenAPIHono<AppEnv>;
