/**
 * The job's environment from `--export`, as sbatch's (default ALL: the submitting shell's environment):
 * `ALL`, `NONE`, `ALL,NAME,NAME=value…` (all, plus those), or `NAME,NAME=value…` (only those). One exception to
 * sbatch: variables that look like secrets are not sent with ALL, only when named, since a job's environment is
 * stored with it and shown to whoever may read the job: names containing TOKEN, SECRET, PASSWORD, PASSWD,
 * CREDENTIAL or KEY, and those starting CONDUCTOR_, AWS_, GOOGLE_, AZURE_ (cloud credentials and this command's
 * own token).
 */
import { UsageError } from './cli-error.js';

const SECRET_WORDS = /TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|KEY/i;
const SECRET_PREFIXES = /^(CONDUCTOR_|AWS_|GOOGLE_|AZURE_)/i;

export function looksSecret(name: string): boolean {
  return SECRET_WORDS.test(name) || SECRET_PREFIXES.test(name);
}

/** The variables to send, from `--export`'s value (null: not given, ALL) and the submitting environment. */
export function exportedEnvironment(spec: string | null, env: NodeJS.ProcessEnv): Record<string, string> {
  const entries = (spec ?? 'ALL').split(',').filter((entry) => entry !== '');
  const out: Record<string, string> = {};
  const upper = entries.map((entry) => entry.toUpperCase());
  if (upper.includes('NONE')) {
    if (entries.length > 1) throw new UsageError(`--export=${spec}: NONE cannot be given with variables`);
    return out;
  }
  if (upper.includes('ALL')) {
    for (const [name, value] of Object.entries(env)) {
      if (value !== undefined && !looksSecret(name)) out[name] = value;
    }
  }
  for (const entry of entries) {
    if (entry.toUpperCase() === 'ALL') continue;
    const equals = entry.indexOf('=');
    if (equals === 0) throw new UsageError(`--export=${spec}: "${entry}" has no name`);
    if (equals > 0) out[entry.slice(0, equals)] = entry.slice(equals + 1);
    else if (env[entry] !== undefined) out[entry] = env[entry];
  }
  return out;
}
