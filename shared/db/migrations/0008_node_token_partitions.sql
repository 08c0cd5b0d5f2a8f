-- Node enrolment bound to partitions (issue 12, item 5): a node token grants one node name and the partitions that
-- node may serve; a heartbeat, claim or confirm for any other partition is refused. NULL exactly for the other kinds.
ALTER TABLE api_tokens ADD COLUMN partitions text[];

-- Existing node tokens keep serving what their node serves today, so an upgrade stops no node: the partitions of the
-- node row of that name. A token whose node never registered gets every partition seen so far (of any node, of any
-- job) and `default`: it was enrolled to serve something, and nothing says what; an admin narrows it by making a new
-- token and revoking this one.
UPDATE api_tokens AS t
SET partitions = coalesce(
  (SELECT nullif(n.partitions, '{}') FROM nodes AS n WHERE n.name = t.node_name),
  (SELECT array_agg(DISTINCT p ORDER BY p)
   FROM (SELECT unnest(partitions) FROM nodes UNION SELECT partition FROM jobs UNION SELECT 'default') AS seen (p))
)
WHERE kind = 'node';

ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_node_partitions
  CHECK ((kind = 'node') = (partitions IS NOT NULL) AND (partitions IS NULL OR cardinality(partitions) > 0));
