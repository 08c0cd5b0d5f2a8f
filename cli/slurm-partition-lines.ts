/**
 * slurm.conf's partition lines (slurm.conf(5), "PARTITION CONFIGURATION") read into the API's PUT /v1/partitions
 * bodies, for `conductor partitions apply`. Keys are case-insensitive as Slurm's; `PartitionName=DEFAULT` sets
 * defaults for the lines after it, as in slurm.conf. Nodes= is ignored with a warning: here nodes join a partition by
 * serving it (their daemon's configuration, their token's grant). Any other key is refused with its line number.
 * Lines of slurm.conf that are not partition lines (NodeName=, ClusterName=, …) are skipped, and counted in a warning.
 */
import type { components } from '../sdk/index.js';

export type PartitionBody = components['schemas']['PutPartitionRequest'];

export interface PartitionLine {
  /** 1-based, in the file. */
  line: number;
  name: string;
  body: PartitionBody;
}

export interface PartitionFile {
  partitions: PartitionLine[];
  warnings: string[];
  /** Each with its line number: when there is any, nothing should be applied. */
  errors: string[];
}

type Setter = (body: PartitionBody, value: string) => string | undefined;

/**
 * Each key Slurm spells (`key`), the API field it sets, and how its value is read: undefined, or what is wrong with
 * it. Values the API checks itself (times, sizes, states, account names) go as written, and its refusal names the key.
 */
const KEYS: { key: string; field: keyof PartitionBody; set: Setter }[] = [
  { key: 'State', field: 'state', set: (body, value) => void (body.state = value.toUpperCase() as never) },
  {
    key: 'AllowAccounts',
    field: 'allow_accounts',
    set: (body, value) => void (body.allow_accounts = value.toUpperCase() === 'ALL' ? null : value.split(',')),
  },
  { key: 'DefaultTime', field: 'default_time', set: (body, value) => void (body.default_time = value) },
  {
    key: 'MaxTime',
    field: 'max_time',
    set: (body, value) => void (body.max_time = unlimited(value) ? null : value),
  },
  // Slurm's per-node maxima are per job here: a job runs on one node.
  {
    key: 'MaxCPUsPerNode',
    field: 'max_cpus_per_job',
    set: (body, value) => {
      if (unlimited(value)) return void (body.max_cpus_per_job = null);
      if (!/^\d+$/.test(value)) return 'a whole number or UNLIMITED';
      body.max_cpus_per_job = Number(value);
      return undefined;
    },
  },
  {
    key: 'MaxMemPerNode',
    field: 'max_memory_per_job',
    // A bare number is megabytes, in slurm.conf as in the API.
    set: (body, value) => void (body.max_memory_per_job = unlimited(value) ? null : value),
  },
  {
    key: 'PriorityTier',
    field: 'priority_tier',
    set: (body, value) => {
      if (!/^\d+$/.test(value)) return 'a whole number';
      body.priority_tier = Number(value);
      return undefined;
    },
  },
  {
    key: 'Default',
    field: 'default',
    set: (body, value) => {
      if (!/^(yes|no)$/i.test(value)) return 'YES or NO';
      body.default = value.toUpperCase() === 'YES';
      return undefined;
    },
  },
];

/** Reads a file of slurm.conf lines: every partition it configures, in file order (a repeated name: the last wins). */
export function readPartitionLines(text: string): PartitionFile {
  const result: PartitionFile = { partitions: [], warnings: [], errors: [] };
  const skipped: number[] = [];
  let defaults: PartitionBody = {};
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const words = raw.replace(/#.*/, '').trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) return;
    const pairs = words.map((word) => {
      const at = word.indexOf('=');
      return at < 1 ? { key: word, value: undefined } : { key: word.slice(0, at), value: word.slice(at + 1) };
    });
    if (pairs[0]!.key.toLowerCase() !== 'partitionname') {
      skipped.push(line);
      return;
    }
    const name = pairs[0]!.value ?? '';
    const body: PartitionBody = { ...defaults };
    for (const { key, value } of pairs.slice(1)) {
      if (value === undefined) {
        result.errors.push(`line ${line}: "${key}" is not Key=Value`);
        continue;
      }
      if (key.toLowerCase() === 'nodes') {
        result.warnings.push(
          `line ${line}: Nodes= ignored: a node joins a partition by serving it (its daemon's partitions)`,
        );
        continue;
      }
      const known = KEYS.find((entry) => entry.key.toLowerCase() === key.toLowerCase());
      if (!known) {
        result.errors.push(`line ${line}: unknown key ${key} (known: Nodes, ${knownKeys()})`);
        continue;
      }
      const problem = known.set(body, value);
      if (problem) result.errors.push(`line ${line}: ${known.key}=${value}: ${problem}`);
    }
    if (name === '') result.errors.push(`line ${line}: PartitionName= needs a name`);
    else if (name.toUpperCase() === 'DEFAULT') defaults = body;
    else result.partitions.push({ line, name, body });
  });
  if (skipped.length > 0) {
    result.warnings.push(`skipped ${skipped.length} line(s) that are not PartitionName= lines: ${skipped.join(', ')}`);
  }
  return result;
}

function knownKeys(): string {
  return KEYS.map(({ key }) => key).join(', ');
}

/** The slurm.conf key an API field of a partition stands for (`max_time` → MaxTime), to name it in a refusal. */
export function slurmKeyOf(field: string): string {
  const name = field.split('.')[0];
  return KEYS.find((entry) => entry.field === name)?.key ?? field;
}

function unlimited(value: string): boolean {
  return /^(unlimited|infinite)$/i.test(value);
}
