/** A node's state, as the API keeps it and answers it to the node's heartbeat. */
export const NODE_STATES = ['UP', 'DOWN', 'DRAINING'] as const;
export type NodeState = (typeof NODE_STATES)[number];
