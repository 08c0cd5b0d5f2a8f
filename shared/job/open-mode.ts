/** sbatch's --open-mode: how a job's output files are opened. Slurm's default is truncate, as the original's "w". */
export const OPEN_MODES = ['truncate', 'append'] as const;
export type OpenMode = (typeof OPEN_MODES)[number];
export const DEFAULT_OPEN_MODE: OpenMode = 'truncate';
