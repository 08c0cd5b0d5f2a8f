/**
 * Output path patterns, as sbatch expands them: %j is the job id, %x the job name, %% a literal percent sign.
 * Patterns are stored as submitted and expanded when read, since the id is only known once the row exists.
 */
export function expandOutputPath(pattern: string, job: { id: string; name: string }): string {
  return pattern.replace(/%([jx%])/g, (_, code: string) => (code === 'j' ? job.id : code === 'x' ? job.name : '%'));
}
