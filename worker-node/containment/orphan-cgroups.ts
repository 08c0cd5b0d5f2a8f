/**
 * Run cgroups that no journaled run owns: left by a daemon killed between forgetting a run (its end acknowledged, its
 * journal entry removed) and removing its cgroups, or by a removal that gave up while a v1 memory cgroup was still
 * uncharging. Nothing else would ever remove them. At start-up, once the journal's runs are back, each is emptied
 * (whatever still runs in it outlived its job, which is over: killed, as a run's leftovers are) and removed.
 */
import type { NodeCgroups } from './node-cgroups.js';
import { RunContainment } from './run-containment.js';

/**
 * Kills what is left in, and removes, every run cgroup under the node's whose name (`<job>.<attempt>`) `owned` does
 * not hold. Answers how many it removed, and why each other one is still there (for the log).
 */
export async function sweepOrphanCgroups(
  node: NodeCgroups,
  owned: ReadonlySet<string>,
): Promise<{ removed: number; failed: string[] }> {
  let removed = 0;
  const failed: string[] = [];
  for (const run of RunContainment.all(node).filter((candidate) => !owned.has(candidate.name))) {
    try {
      await run.killAll();
      await run.remove();
      removed++;
    } catch (error) {
      failed.push((error as Error).message);
    }
  }
  return { removed, failed };
}
