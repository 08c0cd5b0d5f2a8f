/**
 * The environment a job runs with: what its submit asked for, plus the variables that tell it where it runs
 * (CONDUCTOR_* and the familiar SLURM_*, OMP_NUM_THREADS). Built from the job alone, never from the daemon's own
 * environment, so no token, password or URL of the daemon reaches a job; PATH and HOME get plain defaults when the
 * job did not set them. The node's own programs (its srun) come first on the PATH, the job's own PATH after them.
 * The SLURM_* variables are those sbatch(1) sets for a batch script ("OUTPUT ENVIRONMENT VARIABLES"), for one node:
 * the batch script is task 0 of its job (SLURM_PROCID, SLURM_LOCALID, SLURM_NODEID).
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
  /**
   * The CPUs allocated to it (SLURM_CPUS_ON_NODE: what srun may use). More than its cores where the node offers more
   * CPUs than cores (CONDUCTOR_NODE_OVERSUBSCRIBE).
   */
  cpus: number;
  environment: Record<string, string>;
  /** Where the job was asked to run (SLURM_SUBMIT_DIR). */
  workDir: string;
  /** The login it runs as (SLURM_JOB_USER; USER and LOGNAME unless the job set them). */
  user: string;
}

const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';

/**
 * The job's whole environment: `programsDir` is the node's directory of programs (srun-program.ts), `cpuIds` the
 * machine cores it holds.
 */
export function jobEnvironment(
  job: JobForEnvironment,
  node: string,
  cpuIds: number[],
  programsDir: string,
): Record<string, string> {
  const cpus = String(cpuIds.length);
  const ntasks = String(job.ntasksPerNode);
  return {
    HOME: job.workDir,
    USER: job.user,
    LOGNAME: job.user,
    ...job.environment,
    PATH: `${programsDir}:${job.environment.PATH ?? DEFAULT_PATH}`,
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
    SLURM_NTASKS: ntasks,
    SLURM_NPROCS: ntasks,
    SLURM_NTASKS_PER_NODE: ntasks,
    SLURM_TASKS_PER_NODE: ntasks,
    SLURM_CPUS_ON_NODE: String(job.cpus),
    SLURM_JOB_CPUS_PER_NODE: String(job.cpus),
    SLURM_MEM_PER_NODE: String(job.memoryMb),
    SLURM_JOB_NODELIST: node,
    SLURM_NODELIST: node,
    SLURMD_NODENAME: node,
    SLURM_NNODES: '1',
    SLURM_JOB_NUM_NODES: '1',
    SLURM_NODEID: '0',
    SLURM_PROCID: '0',
    SLURM_LOCALID: '0',
    SLURM_RESTART_COUNT: String(Math.max(0, job.attempt - 1)),
    SLURM_SUBMIT_DIR: job.workDir,
  };
}
