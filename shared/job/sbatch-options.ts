/**
 * Every option sbatch(1) takes (Slurm's own table: src/common/slurm_opt.c, the options sbatch enables), with what a
 * directive naming it does here:
 * - `apply`: read onto the job, as the body's field it matches (directive-options.ts);
 * - `refuse`: it would change what the job gets or how it runs, and this system does not do it: the submit is
 *   refused (422) rather than run a job other than the one asked for;
 * - `warn`: it changes nothing the job gets or does here (mail, accounting, sbatch's own output…): the job runs,
 *   and the submit and the job show a warning saying it was ignored.
 * The whole set is listed, not only what is used, so that an abbreviated long option resolves as it does in sbatch
 * (getopt_long takes any unambiguous prefix) and an unknown one is refused as sbatch refuses it.
 */

export type ArgumentKind = 'none' | 'required' | 'optional';

export type OptionEffect = { kind: 'apply' } | { kind: 'refuse'; why: string } | { kind: 'warn'; why: string };

export interface SbatchOption {
  /** The long name, without `--`. */
  long: string;
  /** The one-letter form, when sbatch has one. */
  short?: string;
  arg: ArgumentKind;
  effect: OptionEffect;
}

const apply: OptionEffect = { kind: 'apply' };
const refuse = (why: string): OptionEffect => ({ kind: 'refuse', why });
const warn = (why: string): OptionEffect => ({ kind: 'warn', why });

const ONE_NODE = 'a job runs on one node here';
const NO_GPUS = 'GPUs and other generic resources are not scheduled here';
const NO_FEATURES = 'nodes have no features or topology to choose from here';
const NO_BINDING = 'tasks are not laid out or bound beyond the cores the job gets';

const option = (long: string, arg: ArgumentKind, effect: OptionEffect, short?: string): SbatchOption =>
  short === undefined ? { long, arg, effect } : { long, short, arg, effect };

export const SBATCH_OPTIONS: readonly SbatchOption[] = [
  // Read onto the job.
  option('account', 'required', apply, 'A'),
  option('begin', 'required', apply, 'b'),
  option('hold', 'none', apply, 'H'),
  option('array', 'required', apply, 'a'),
  option('chdir', 'required', apply, 'D'),
  option('cpus-per-task', 'required', apply, 'c'),
  option('dependency', 'required', apply, 'd'),
  option('error', 'required', apply, 'e'),
  option('exclusive', 'optional', apply),
  option('export', 'required', apply),
  option('job-name', 'required', apply, 'J'),
  option('kill-on-invalid-dep', 'required', apply),
  option('mem', 'required', apply),
  option('mem-per-cpu', 'required', apply),
  option('nice', 'optional', apply),
  option('no-requeue', 'none', apply),
  option('nodes', 'required', apply, 'N'),
  option('ntasks', 'required', apply, 'n'),
  option('ntasks-per-node', 'required', apply),
  option('tasks-per-node', 'required', apply),
  option('open-mode', 'required', apply),
  option('output', 'required', apply, 'o'),
  option('partition', 'required', apply, 'p'),
  option('priority', 'required', apply),
  option('requeue', 'optional', apply),
  option('signal', 'required', apply),
  option('time', 'required', apply, 't'),

  // Would change what the job gets or how it runs: refused.
  option('autocomplete', 'required', refuse('it makes sbatch print completions instead of submitting')),
  option('batch', 'required', refuse(NO_FEATURES)),
  option('bb', 'required', refuse('there are no burst buffers here')),
  option('bbf', 'required', refuse('there are no burst buffers here')),
  option('cluster', 'required', refuse('there is one cluster here')),
  option('cluster-constraint', 'required', refuse('there is one cluster here')),
  option('clusters', 'required', refuse('there is one cluster here'), 'M'),
  option('consolidate-segments', 'none', refuse(NO_FEATURES)),
  option('constraint', 'required', refuse(NO_FEATURES), 'C'),
  option('container', 'required', refuse('containers are not run here')),
  option('container-id', 'required', refuse('containers are not run here')),
  option('context', 'required', refuse('there are no security contexts here')),
  option('core-spec', 'required', refuse('cores are not reserved for the system here'), 'S'),
  option('cores-per-socket', 'required', refuse(NO_FEATURES)),
  option('cpu-freq', 'required', refuse('CPU frequencies are not set here')),
  option('cpus-per-gpu', 'required', refuse(NO_GPUS)),
  option('deadline', 'required', refuse('deadlines are not enforced here')),
  option('distribution', 'required', refuse(NO_BINDING), 'm'),
  option('exclude', 'required', refuse('nodes cannot be chosen by name here'), 'x'),
  option('export-file', 'required', refuse('the job\'s environment is the body\'s "environment": set variables there')),
  option('external', 'none', refuse('external jobs are not supported here')),
  option('extra-node-info', 'required', refuse(NO_FEATURES), 'B'),
  option('get-user-env', 'none', refuse('the job\'s environment is the body\'s "environment": set variables there')),
  option('gid', 'required', refuse('a job runs as its owner\'s user and groups; an admin names the owner as "user"')),
  option('gpu-bind', 'required', refuse(NO_GPUS)),
  option('gpu-freq', 'required', refuse(NO_GPUS)),
  option('gpus', 'required', refuse(NO_GPUS), 'G'),
  option('gpus-per-node', 'required', refuse(NO_GPUS)),
  option('gpus-per-socket', 'required', refuse(NO_GPUS)),
  option('gpus-per-task', 'required', refuse(NO_GPUS)),
  option('gres', 'required', refuse(NO_GPUS)),
  option('gres-flags', 'required', refuse(NO_GPUS)),
  option('help', 'none', refuse('it makes sbatch print help instead of submitting'), 'h'),
  option('hint', 'required', refuse(NO_BINDING)),
  option('input', 'required', refuse("a job's standard input is /dev/null here"), 'i'),
  option('licenses', 'required', refuse('there are no licenses to schedule here'), 'L'),
  option('mem-bind', 'required', refuse(NO_BINDING)),
  option('mem-per-gpu', 'required', refuse(NO_GPUS)),
  option('mem-update', 'required', refuse('memory limits are not changed while a job runs here')),
  option('mincpus', 'required', refuse('ask for the CPUs with --cpus-per-task and --ntasks')),
  option('network', 'required', refuse('networks are not scheduled here')),
  option('nodefile', 'required', refuse('nodes cannot be chosen by name here'), 'F'),
  option('nodelist', 'required', refuse('nodes cannot be chosen by name here'), 'w'),
  option('ntasks-per-core', 'required', refuse(NO_BINDING)),
  option('ntasks-per-gpu', 'required', refuse(NO_GPUS)),
  option('ntasks-per-socket', 'required', refuse(NO_BINDING)),
  option('ntasks-per-tres', 'required', refuse(NO_GPUS)),
  option('oom-kill-step', 'optional', refuse('a job here is one step: running out of memory ends it')),
  option('overcommit', 'none', refuse('a job gets a core for each CPU it asks for here'), 'O'),
  option('propagate', 'optional', refuse("resource limits are the node's here, not the submitter's")),
  option('reboot', 'none', refuse('nodes are not rebooted for jobs here')),
  option('reservation', 'required', refuse('there are no reservations here')),
  option('resources', 'required', refuse(NO_GPUS)),
  option('resv-ports', 'optional', refuse('ports are not reserved here')),
  option('runtime', 'required', refuse('containers are not run here')),
  option('segment', 'required', refuse(ONE_NODE)),
  option('sockets-per-node', 'required', refuse(NO_FEATURES)),
  option('spread-segments', 'none', refuse(ONE_NODE)),
  option('stepmgr', 'none', refuse('a job here is one step')),
  option('test-only', 'none', refuse('it makes sbatch check the job without submitting it')),
  option('thread-spec', 'required', refuse('threads are not reserved for the system here')),
  option('threads-per-core', 'required', refuse(NO_FEATURES)),
  option('tmp', 'required', refuse('node-local disk is not scheduled here')),
  option('tres-bind', 'required', refuse(NO_GPUS)),
  option('tres-per-task', 'required', refuse(NO_GPUS)),
  option('uid', 'required', refuse('a job runs as its owner; an admin names the owner as "user"')),
  option('usage', 'none', refuse('it makes sbatch print its usage instead of submitting')),
  option('version', 'none', refuse('it makes sbatch print its version instead of submitting'), 'V'),
  option('wrap', 'required', refuse('the job is the script sent')),

  // Change nothing the job gets or does here: warned about.
  option('acctg-freq', 'required', warn('no accounting samples are taken')),
  option('comment', 'required', warn('jobs have no comments here')),
  option('contiguous', 'none', warn(`${ONE_NODE}, contiguous by itself`)),
  option('delay-boot', 'required', warn('nodes are not booted for jobs here')),
  option('extra', 'required', warn('jobs have no extra strings here')),
  option('ignore-pbs', 'none', warn('#PBS lines are never read here')),
  option('mail-type', 'required', warn('no mail is sent')),
  option('mail-user', 'required', warn('no mail is sent')),
  option('mcs-label', 'required', warn('there are no MCS labels here')),
  option('no-kill', 'optional', warn(`${ONE_NODE}: losing it ends the job either way`), 'k'),
  option('oversubscribe', 'none', warn('jobs never share cores here'), 's'),
  option('parsable', 'none', warn("it only changes sbatch's own output")),
  option('prefer', 'required', warn(`a preference, and ${NO_FEATURES}`)),
  option('profile', 'required', warn('no profiles are gathered')),
  option('qos', 'required', warn('there are no QOS here'), 'q'),
  option('quiet', 'none', warn("it only changes sbatch's own output"), 'Q'),
  option('spread-job', 'none', warn(ONE_NODE)),
  option('switches', 'required', warn(`${ONE_NODE}, under one switch`)),
  option('time-min', 'required', warn('the job gets its whole --time')),
  option('use-min-nodes', 'none', warn(ONE_NODE)),
  option('verbose', 'none', warn("it only changes sbatch's own output"), 'v'),
  option('wait', 'none', warn('the submit answers at once: follow the job with GET or its events'), 'W'),
  option('wait-all-nodes', 'required', warn(ONE_NODE)),
  option('wckey', 'required', warn('there are no workload characterization keys here')),
];
