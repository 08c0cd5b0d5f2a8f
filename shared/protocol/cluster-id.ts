/** The cluster id in the API's answers to a node (shared/db/cluster-id.ts): what the node stores output under. */
import { z } from '@hono/zod-openapi';

// Lowercase, as Postgres writes a uuid: a node compares ids as text, and the id is part of every key it writes.
export const ClusterId = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be a lowercase uuid');

export const clusterIdField = () =>
  ClusterId.optional().openapi({
    description:
      "The API's cluster id: the node stores the output of the jobs it runs under it, remembers it in its directory, " +
      'and refuses to start against an API of another cluster. Absent from APIs before cluster ids.',
  });
