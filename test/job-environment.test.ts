import { describe, expect, it } from 'vitest';
import { jobEnvironment } from '../worker-node/job-environment.js';

const BIN = '/var/lib/conductor/bin';

const job = {
  id: '42',
  name: 'relax',
  attempt: 2,
  partition: 'batch',
  account: 'physics',
  ntasksPerNode: 2,
  cpusPerTask: 3,
  memoryMb: 4096,
  cpus: 6,
  environment: { OMP_PLACES: 'cores', PATH: '/opt/bin:/usr/bin' },
  workDir: '/home/alice/run',
  user: 'alice',
};

describe("a job's environment", () => {
  it('holds what the job asked for and where it runs, in CONDUCTOR_* and SLURM_* terms', () => {
    expect(jobEnvironment(job, 'n01', [0, 1, 2, 3, 4, 5], BIN)).toMatchObject({
      OMP_PLACES: 'cores',
      PATH: `${BIN}:/opt/bin:/usr/bin`,
      CONDUCTOR_JOB_ID: '42',
      USER: 'alice',
      LOGNAME: 'alice',
      SLURM_JOB_USER: 'alice',
      CONDUCTOR_CPUS: '6',
      CONDUCTOR_CPU_IDS: '0,1,2,3,4,5',
      OMP_NUM_THREADS: '3',
      SLURM_JOB_ID: '42',
      SLURM_JOB_NAME: 'relax',
      SLURM_CPUS_PER_TASK: '3',
      SLURM_NTASKS: '2',
      SLURM_SUBMIT_DIR: '/home/alice/run',
      SLURM_RESTART_COUNT: '1',
    });
  });

  it("has the node's srun first on its PATH, before its own PATH or, without one, a plain default", () => {
    expect(jobEnvironment(job, 'n01', [0], BIN).PATH).toBe(`${BIN}:/opt/bin:/usr/bin`);
    expect(jobEnvironment({ ...job, environment: { PATH: '/opt/conda/bin' } }, 'n01', [0], BIN).PATH).toBe(
      `${BIN}:/opt/conda/bin`,
    );
    expect(jobEnvironment({ ...job, environment: {} }, 'n01', [0], BIN).PATH).toBe(
      `${BIN}:/usr/local/bin:/usr/bin:/bin`,
    );
  });

  it('has the SLURM_* variables sbatch sets for a batch script on one node: the script is task 0', () => {
    expect(jobEnvironment(job, 'n01', [0, 1, 2, 3, 4, 5], BIN)).toMatchObject({
      SLURM_JOB_ID: '42',
      SLURM_JOBID: '42',
      SLURM_JOB_NAME: 'relax',
      SLURM_JOB_PARTITION: 'batch',
      SLURM_JOB_ACCOUNT: 'physics',
      SLURM_JOB_USER: 'alice',
      SLURM_SUBMIT_DIR: '/home/alice/run',
      SLURM_NTASKS: '2',
      SLURM_NPROCS: '2',
      SLURM_NTASKS_PER_NODE: '2',
      SLURM_TASKS_PER_NODE: '2',
      SLURM_CPUS_PER_TASK: '3',
      SLURM_CPUS_ON_NODE: '6',
      SLURM_JOB_CPUS_PER_NODE: '6',
      SLURM_MEM_PER_NODE: '4096',
      SLURM_JOB_NODELIST: 'n01',
      SLURM_NODELIST: 'n01',
      SLURMD_NODENAME: 'n01',
      SLURM_NNODES: '1',
      SLURM_JOB_NUM_NODES: '1',
      SLURM_NODEID: '0',
      SLURM_PROCID: '0',
      SLURM_LOCALID: '0',
    });
  });

  it('counts the CPUs allocated in SLURM_CPUS_ON_NODE, also where they share cores (oversubscribed)', () => {
    expect(jobEnvironment({ ...job, cpus: 4 }, 'n01', [0, 1], BIN)).toMatchObject({
      SLURM_CPUS_ON_NODE: '4',
      SLURM_JOB_CPUS_PER_NODE: '4',
      CONDUCTOR_CPUS: '2',
    });
  });

  it("holds nothing of the daemon's own environment", () => {
    const previous = process.env.CONDUCTOR_NODE_TOKEN;
    process.env.CONDUCTOR_NODE_TOKEN = 'cnd_node_secret';
    try {
      const env = jobEnvironment({ ...job, environment: {} }, 'n01', [0], BIN);
      expect(Object.values(env)).not.toContain('cnd_node_secret');
      expect(
        Object.keys(env)
          .filter((name) => !/^(CONDUCTOR_|SLURM_|SLURMD_)/.test(name))
          .sort(),
      ).toEqual(['HOME', 'LOGNAME', 'OMP_NUM_THREADS', 'PATH', 'USER']);
    } finally {
      if (previous === undefined) delete process.env.CONDUCTOR_NODE_TOKEN;
      else process.env.CONDUCTOR_NODE_TOKEN = previous;
    }
  });

  it('does not let the job override what says where it runs', () => {
    const env = jobEnvironment({ ...job, environment: { SLURM_JOB_ID: '1', CONDUCTOR_CPUS: '64' } }, 'n01', [7], BIN);
    expect(env).toMatchObject({ SLURM_JOB_ID: '42', CONDUCTOR_CPUS: '1' });
  });
});
