/** A `#SBATCH` (or `#CONDUCTOR`) line a submit applied to its job, as the job shows it. */
export interface AppliedDirective {
  /** 1-based line of the script. */
  line: number;
  /** The option as written, e.g. "--cpus-per-task=2" or "-c 2". */
  option: string;
}
