/**
 * How a node runs jobs (protocol 3): which owners' jobs it runs, and whether it runs jobs naming no user. A node is
 * given, and may start, only the jobs it runs; the others stay queued for another node. Its claim and its heartbeat
 * say it; the API keeps the heartbeat's in the nodes table (its confirm checks against it, whatever the queue said).
 *
 * - a root daemon allowing root jobs: `{ any_user: true, users: [], unnamed: true }`
 * - a root daemon not allowing them: `{ any_user: true, users: [], unnamed: false }`
 * - a daemon that is not root, running as alice: `{ any_user: false, users: ['alice'], unnamed: true }`
 */
import { z } from '@hono/zod-openapi';
import { unixUser } from '../names.js';

export const RunsAs = z
  .object({
    any_user: z.boolean().openapi({ description: 'Runs the job of any owner, as that owner (a root daemon).' }),
    users: z
      .array(unixUser('runs_as.users[]'))
      .max(1000)
      .openapi({ description: 'The owners whose jobs it runs when not any_user: a daemon that is not root, its own.' }),
    unnamed: z.boolean().openapi({
      description: 'Runs jobs naming no user: as root on a root daemon, as its own user on one that is not.',
    }),
  })
  .strict()
  .openapi('RunsAs');
export type RunsAs = z.infer<typeof RunsAs>;

/** What a node that does not say (a daemon of protocol 2 or before, running every job as itself) runs. */
export const UNSAID_RUNS_AS: RunsAs = Object.freeze({ any_user: false, users: [], unnamed: true }) as RunsAs;

/** Whether a node that runs jobs this way runs a job of this owner (null: the job names none). */
export function runsJobOf(runsAs: RunsAs, user: string | null): boolean {
  if (user === null) return runsAs.unnamed;
  return runsAs.any_user || runsAs.users.includes(user);
}

/** Why no node runs a job of this owner, in words for a PENDING reason or a log. */
export function ownerPhrase(user: string | null): string {
  return user === null ? 'jobs naming no user (as root)' : `jobs as ${user}`;
}
