#!/usr/bin/perl
# srun inside a job, on its one node (issue 14, item 7): what scripts written for Slurm call as `srun ./relax`.
# The daemon writes this file to <node dir>/bin/srun at start-up (srun-program.ts; `npm run gen:scripts` embeds it)
# and puts that directory first on every job's PATH.
#
# `srun [options] command [args...]` runs the command once per task, all at once, as srun(1) does within an
# allocation: -n/--ntasks tasks (default the job's SLURM_NTASKS), each with SLURM_PROCID and SLURM_LOCALID (0..n-1,
# the same on one node), SLURM_NODEID=0, SLURM_STEP_ID (a number of the job's own: this srun's pid, not Slurm's
# 0, 1, 2...), SLURM_NTASKS=n. The tasks stay in the job's process group and cgroups, as every process of the job:
# its limits hold them, a cancel or the time limit ends them. They inherit the job's output files; with -l/--label
# each line is prefixed with its task's number ("0: ", padded to the widest). Signals sent to srun from inside the job
# (TERM, INT, USR1... from the batch script, a trap passing one on) are forwarded to its tasks. One sent from outside
# the job's session is not: the daemon's SIGCONT and SIGTERM at a cancel or the time limit reach every process of the
# job, the tasks too, and forwarding them would deliver them twice (a TERM trap run twice); the daemon sends the
# warning of sbatch's --signal (without B:) to the tasks and what they started itself, as slurmstepd signals a step.
#
# Options it cannot honour on one node are refused before any task starts: `srun: error: ...` on stderr, exit status
# 1. More CPUs than the job has (tasks x cpus per task over SLURM_CPUS_ON_NODE, unless -O/--overcommit) is refused as
# srun refuses it: "More processors requested than permitted".
#
# Exit status: the first non-zero status of a task to end (a task killed by a signal counts 128 + its number, as shells
# show it), each reported on stderr as srun does; 0 when every task exits 0. (srun(1) returns the highest; the first
# is what a script reading $? after a failure wants to see.) A command that cannot be executed is 127 (not found) or
# 126, as in a shell.
use strict; use warnings; use POSIX (); use Getopt::Long (); use IO::Select (); use Config ();

my $node = $ENV{SLURMD_NODENAME} // $ENV{SLURM_JOB_NODELIST} // 'localhost';
sub refuse { print STDERR "srun: error: $_[0]\n"; exit 1; }
refuse('not inside a job (SLURM_JOB_ID is not set): srun here runs steps of a batch job') if !defined $ENV{SLURM_JOB_ID};

# Options that would need more than this node, or a service that is not here: refused, naming why (by the long name,
# which comes first: Getopt::Long names an option by its first).
my %cannot = (
  'nodelist|w=s' => 'it names nodes, and a step runs on this job\'s one node',
  'exclude|x=s' => 'it names nodes, and a step runs on this job\'s one node',
  'nodefile|F=s' => 'it names nodes, and a step runs on this job\'s one node',
  'gres=s' => 'there are no generic resources (GPUs) here',
  'gpus|G=s' => 'there are no generic resources (GPUs) here',
  'gpus-per-task=s' => 'there are no generic resources (GPUs) here',
  'gpus-per-node=s' => 'there are no generic resources (GPUs) here',
  'multi-prog' => 'it is not supported here: run one srun per program',
  'output|o=s' => 'tasks write to the job\'s output files here',
  'error|e=s' => 'tasks write to the job\'s output files here',
  'input|i=s' => 'tasks read the job\'s standard input here',
  'pty' => 'a batch job has no terminal',
  'partition|p=s' => 'a step runs in its job\'s allocation',
  'account|A=s' => 'a step runs in its job\'s allocation',
);
my %opt;
my @refused;
Getopt::Long::Configure(qw(no_ignore_case bundling require_order pass_through no_auto_abbrev));
Getopt::Long::GetOptions(
  'n|ntasks=i' => \$opt{ntasks},
  'ntasks-per-node=i' => \$opt{per_node},
  'c|cpus-per-task=i' => \$opt{cpus},
  'N|nodes=s' => \$opt{nodes},
  'l|label' => \$opt{label},
  'K|kill-on-bad-exit:1' => \$opt{kill_bad},
  'D|chdir=s' => \$opt{chdir},
  'O|overcommit' => \$opt{overcommit},
  'mpi=s' => \$opt{mpi},
  'export=s' => \$opt{export},
  # Accepted, and nothing to do on one node: names, output buffering (tasks write straight to the files), and the
  # step-sharing options (steps here share the job's CPUs as they please).
  'J|job-name=s' => \my $name, 'u|unbuffered' => \my $unbuffered, 'Q|quiet' => \my $quiet, 'v|verbose+' => \my $verbose,
  'exact' => \my $exact, 'overlap' => \my $overlap, 'exclusive' => \my $exclusive,
  map { my $why = $cannot{$_}; ($_ => sub { push @refused, [$_[0], $why] }) } keys %cannot,
) or exit 1;
for (@refused) { my ($option, $why) = @$_; refuse("--$option cannot be honoured: $why"); }
if (@ARGV && $ARGV[0] eq '--') { shift(@ARGV); }
elsif (@ARGV && $ARGV[0] =~ /^-./) {
  # pass_through leaves here an unknown option, or a known one whose value is not valid (`-n abc`).
  my ($name, $attached) = $ARGV[0] =~ /^(-[^=]+)(=.*)?$/;
  my $valued = grep { $_ eq $name } qw(-n --ntasks --ntasks-per-node -c --cpus-per-task -K --kill-on-bad-exit);
  refuse(($attached ? $ARGV[0] : "$ARGV[0] " . ($ARGV[1] // '')) . ': not a valid value') if $valued;
  refuse("$ARGV[0] is not an option srun supports here (-n, -c, -N 1, -l, -K, -D, -O, --ntasks-per-node, --mpi=none, " .
    "--export=ALL, -J, -u, --exact, --overlap, --exclusive)");
}
refuse('no command given to execute') if !@ARGV;

my $job = $ENV{SLURM_JOB_ID};
if (defined $opt{nodes}) {
  my ($min) = $opt{nodes} =~ /^(\d+)(?:-\d+)?$/ or refuse("-N $opt{nodes}: not a number of nodes");
  refuse("-N $opt{nodes} cannot be honoured: this job has one node") if $min != 1;
}
if (defined $opt{mpi} && $opt{mpi} ne 'none') {
  refuse("--mpi=$opt{mpi} cannot be honoured: no MPI process manager here (start an MPI program with its own " .
    "launcher, e.g. mpirun -np \$SLURM_NTASKS)");
}
my %export;
if (defined $opt{export}) {
  my ($all, @vars) = split(/,/, $opt{export});
  refuse("--export=$opt{export} cannot be honoured: tasks get the job's environment (ALL[,NAME=value...])")
    if $all ne 'ALL' || grep { !/^[A-Za-z_][A-Za-z0-9_]*=/ } @vars;
  %export = map { split(/=/, $_, 2) } @vars;
}
my $ntasks = $opt{ntasks} // $opt{per_node} // $ENV{SLURM_NTASKS} // 1;
my $cpus = $opt{cpus} // $ENV{SLURM_CPUS_PER_TASK} // 1;
refuse("invalid number of tasks ($ntasks)") if $ntasks !~ /^\d+$/ || $ntasks < 1;
refuse("invalid number of CPUs per task ($cpus)") if $cpus !~ /^\d+$/ || $cpus < 1;
my $have = $ENV{SLURM_CPUS_ON_NODE} // $ENV{CONDUCTOR_CPUS} // 1;
if (!$opt{overcommit} && $ntasks * $cpus > $have) {
  refuse("Unable to create step for job $job: More processors requested than permitted " .
    "($ntasks tasks x $cpus CPUs per task; the job has $have)");
}
my $kill_bad = ($opt{kill_bad} // $ENV{SLURM_KILL_BAD_EXIT} // 0) != 0;
if (defined $opt{chdir}) { chdir($opt{chdir}) or refuse("cannot enter $opt{chdir}: $!"); }

my $step = $$;
my $width = length($ntasks - 1);
my @command = @ARGV;
my %task_of;
my %ended;
# Forwarded to every task still running; srun itself goes on waiting for them.
my @FORWARDED = qw(HUP INT QUIT TERM USR1 USR2 ALRM CONT TSTP URG XCPU XFSZ VTALRM PROF WINCH PWR);
my %number; @number{split(' ', $Config::Config{sig_name})} = split(' ', $Config::Config{sig_num});
# A process's session (field 6 of its stat); undef when it is gone (a kill(1) that has exited: from inside, then).
sub session { my ($pid) = @_; open(my $stat, '<', "/proc/$pid/stat") or return undef; my $text = <$stat>; close($stat);
  return (split(' ', substr($text, rindex($text, ')') + 2)))[3]; }
my $session = session($$);
for my $signal (@FORWARDED) {
  my $forward = sub {
    my (undef, $info) = @_;
    my $from = ref($info) && $info->{pid} ? session($info->{pid}) : undef;
    return if defined $from && $from != $session;
    kill($signal, grep { !$ended{$_} } keys %task_of);
  };
  POSIX::sigaction($number{$signal}, POSIX::SigAction->new($forward, POSIX::SigSet->new, POSIX::SA_SIGINFO()));
}
$| = 1; STDERR->autoflush(1);

my $select = IO::Select->new;
my %stream_of;
for my $id (0 .. $ntasks - 1) {
  my ($out, $err, $task_out, $task_err);
  if ($opt{label}) { pipe($out, $task_out) && pipe($err, $task_err) or refuse("pipe: $!"); }
  my $pid = fork();
  if (!defined $pid) { kill('TERM', keys %task_of); refuse("fork: $!"); }
  if ($pid == 0) {
    $SIG{$_} = 'DEFAULT' for @FORWARDED;
    if ($opt{label}) {
      open(STDOUT, '>&', $task_out) && open(STDERR, '>&', $task_err) or POSIX::_exit(126);
      close($_) for $out, $err, $task_out, $task_err;
      close($_->[0]) for values %stream_of;
    }
    %ENV = (%ENV, %export,
      SLURM_PROCID => $id, SLURM_LOCALID => $id, SLURM_NODEID => 0, SLURM_GTIDS => join(',', 0 .. $ntasks - 1),
      SLURM_STEP_ID => $step, SLURM_STEPID => $step, SLURM_TASK_PID => $$,
      SLURM_NTASKS => $ntasks, SLURM_NPROCS => $ntasks, SLURM_STEP_NUM_TASKS => $ntasks, SLURM_STEP_NUM_NODES => 1,
      SLURM_TASKS_PER_NODE => $ntasks, SLURM_STEP_TASKS_PER_NODE => $ntasks, SLURM_CPUS_PER_TASK => $cpus,
      SLURM_STEP_NODELIST => $node);
    # By the PATH when the command names no directory, as a shell finds it.
    { no warnings 'exec'; exec { $command[0] } @command; }
    my $missing = $!{ENOENT};
    print STDERR "srun: error: $node: task $id: cannot execute $command[0]: $!\n";
    POSIX::_exit($missing ? 127 : 126);
  }
  $task_of{$pid} = $id;
  if ($opt{label}) {
    close($task_out); close($task_err);
    for ([$out, \*STDOUT], [$err, \*STDERR]) { $stream_of{fileno($_->[0])} = [$_->[0], $_->[1], $id, '']; $select->add($_->[0]); }
  }
}

my $first;
sub collected {
  my ($pid, $status) = @_;
  my $id = $task_of{$pid}; return if !defined $id;
  $ended{$pid} = 1;
  my $code = ($status & 127) ? 128 + ($status & 127) : $status >> 8;
  return if $code == 0;
  print STDERR "srun: error: $node: task $id: " .
    (($status & 127) ? "Killed by signal " . ($status & 127) : "Exited with exit code $code") . "\n";
  $first //= $code;
  # -K: the first task to fail ends the others, as srun's --kill-on-bad-exit.
  kill('TERM', grep { !$ended{$_} } keys %task_of) if $kill_bad;
}

# Each task's output, a line at a time behind its label; what is left at its end goes as it is.
sub labelled {
  my ($stream, $text) = @_;
  my $label = sprintf('%*d: ', $width, $stream->[2]);
  $stream->[3] .= $text;
  while ($stream->[3] =~ s/^([^\n]*\n)//) { print { $stream->[1] } $label . $1; }
  if ($text eq '' && $stream->[3] ne '') { print { $stream->[1] } $label . $stream->[3]; $stream->[3] = ''; }
}
# What a task's pipe holds once every task has ended, read without waiting for more: a process a task left behind
# (`cmd &`) may hold the pipe open for as long as it lives, and srun(1) returns when its tasks end. At most what a pipe
# can hold (pipe-max-size, 1 MiB by default), so one left behind that writes on cannot keep srun here either.
sub drain {
  my ($handle) = @_;
  my $stream = $stream_of{fileno($handle)};
  $handle->blocking(0);
  for (my $left = 1 << 20; $left > 0;) {
    my $read = sysread($handle, my $text, 65536);
    last if !$read;
    labelled($stream, $text);
    $left -= $read;
  }
  labelled($stream, '');
  $select->remove($handle); close($handle);
}
while ($select->count) {
  if (keys(%ended) == keys(%task_of)) { drain($_) for $select->handles; last; }
  for my $handle ($select->can_read(0.2)) {
    my $stream = $stream_of{fileno($handle)};
    my $read = sysread($handle, my $text, 65536);
    next if !defined $read && $!{EINTR};
    labelled($stream, $read ? $text : '');
    if (!$read) { $select->remove($handle); close($handle); }
  }
  while ((my $pid = waitpid(-1, POSIX::WNOHANG())) > 0) { collected($pid, $?); }
}
while (keys(%ended) < keys(%task_of)) {
  my $pid = waitpid(-1, 0);
  last if $pid < 0;
  collected($pid, $?);
}
exit($first // 0);
