/**
 * The environment a job runs with: what its submit asked for, plus the variables that tell it where it runs
 * (CONDUCTOR_* and the familiar SLURM_*, OMP_NUM_THREADS). Built from the job alone, never from the daemon's own
 * environment, so no token, password or URL of the daemon reaches a job; PATH and HOME get plain defaults when the
 * job did not set them.
 */

export interface JobForEnvironment {
  id: string;
  name: string;
  attempt: number;
  partition: string;
  account: string;
  ntasksPerNode: number;
  cpusPerTask: number;
  memoryMb: number;
  environment: Record<string, string>;
  /** Where the job was asked to run (SLURM_SUBMIT_DIR). */
  workDir: string;
  /** The login it runs as (SLURM_JOB_USER; USER and LOGNAME unless the job set them). */
  user: string;
}

const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';

export function jobEnvironment(job: JobForEnvironment, node: string, cpuIds: number[]): Record<string, string> {
  const cpus = String(cpuIds.length);
  return {
    PATH: DEFAULT_PATH,
    HOME: job.workDir,
    USER: job.user,
    LOGNAME: job.user,
    ...job.environment,
    SLURM_JOB_USER: job.user,
    CONDUCTOR_JOB_ID: job.id,
    CONDUCTOR_JOB_NAME: job.name,
    CONDUCTOR_ATTEMPT: String(job.attempt),
    CONDUCTOR_NODE: node,
    CONDUCTOR_CPUS: cpus,
    CONDUCTOR_CPU_IDS: cpuIds.join(','),
    OMP_NUM_THREADS: String(job.cpusPerTask),
    SLURM_JOB_ID: job.id,
    SLURM_JOBID: job.id,
    SLURM_JOB_NAME: job.name,
    SLURM_JOB_PARTITION: job.partition,
    SLURM_JOB_ACCOUNT: job.account,
    SLURM_CPUS_PER_TASK: String(job.cpusPerTask),
    SLURM_NTASKS: String(job.ntasksPerNode),
    SLURM_NTASKS_PER_NODE: String(job.ntasksPerNode),
    SLURM_CPUS_ON_NODE: cpus,
    SLURM_JOB_CPUS_PER_NODE: cpus,
    SLURM_MEM_PER_NODE: String(job.memoryMb),
    SLURM_JOB_NODELIST: node,
    SLURM_NNODES: '1',
    SLURM_RESTART_COUNT: String(Math.max(0, job.attempt - 1)),
    SLURM_SUBMIT_DIR: job.workDir,
  };
}
