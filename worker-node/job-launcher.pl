# The node daemon's job launcher: starts each job from a small, long-lived perl process rather than from the daemon.
# job-launcher.ts runs it as `perl -e <this text>` (`npm run gen:scripts` embeds it), one per daemon.
#
# Why: forking the daemon (a Node process of a hundred MB) and starting perl anew cost several ms per job; forking
# this process costs a fraction of one.
#
# For each job it forks a wrapper in a session of its own, so that the wrapper and its job outlive the launcher and
# the daemon alike. The wrapper keeps the daemon's identity (root on a shared node: it writes the pid and status files
# in the root-only run directory). It opens the job's script, then forks the job; only the job's process drops
# privileges, as slurmstepd does before it execs a task: it joins its cgroups (still root, so it and all it forks are
# contained from its first instruction), takes its owner's uid, primary gid and supplementary groups (looked up here,
# at launch: getpwnam(3), and the group file's member lists as initgroups(3) reads them), sets umask 077, and only
# then enters its working directory and opens its output files, as its owner, so they are the owner's. It reads its
# script through the descriptor the wrapper opened (fd 3), never by its path: the command execs /dev/fd/3, so the
# kernel runs the interpreter its `#!` line names (options and all) on /dev/fd/3, which that interpreter can open
# because fd 3 is inherited (a script without `#!` is run as `/bin/bash /dev/fd/3`). Before it execs it tells the
# wrapper, over a pipe closed by the exec, which output files it opened, or why it cannot start: a working directory,
# an output file or an interpreter that cannot be opened or run is named, with the OS error, and so is a failed exec.
# The wrapper then writes the job's pid and start time to a file, waits for it, and writes its exit status and
# terminating signal to a file: the outcome is known even when the daemon was not there to see it. Files are written
# whole, then renamed: never read half-written.
#
# stdin, one JSON object per job and line:
#   {"dir": the run's directory (holds script.sh), "cwd": the job's working directory, "out": its stdout file,
#    "err": its stderr file, "mode": "truncate" or "append" (sbatch's --open-mode; absent: append), "env": its whole
#    environment, {"NAME": "value"}, "command": [program, argument, ...]
#    (the script is /dev/fd/3 there), "user": the owner's login, or absent to keep the daemon's identity,
#    "min_uid": the lowest uid a job may take, "make_cwd": true to create the working directory (as root, then
#    given to the owner: the job's default directory is in the node's own), "cgroup_procs": [cgroup.procs or tasks
#    file, ...] to write the job's pid to before it drops privileges, "lease": the node's lease file, whose deadline
#    the wrapper kills the job at (fence below), or absent}
# stdout, one line per event: its word, a space, the run's directory, and for some a tab and a detail:
#   started <dir>\t<pid> <start> <wrapper pid> <wrapper start> <out dev:ino> <err dev:ino> <out size> <err size>
#                                       the job runs; <dir>/pid holds the same eight words (start: field 22 of
#                                       /proc/<pid>/stat; dev:ino: the output files the job opened, the same twice
#                                       when stderr shares stdout's; size: each file's as the job opened it)
#   failed <dir>\t<reason>              it could not be started: a fork failed, or its owner cannot be taken
#                                       ("no user alice here"), or its directory or files cannot be opened
#   ended <dir>                         it has ended; <dir>/status holds "<exit status> -" or "- <signal>", then
#                                       " lease" if the wrapper killed it at the lease's end; <dir>/usage, written
#                                       before it (and not at all on a full disk), holds what the job used, as its
#                                       wrapper saw it (usage below): "<user µs> <system µs> <max RSS KiB or -> <wall ms>"
#
# For tests only: with CONDUCTOR_TEST_WRAPPER_GATES (a directory; job-launcher.ts passes it on only when the daemon
# has it, and nothing but a test sets it) each wrapper stops at two points around its job's end, so that a test can
# kill the daemon there every time rather than by chance (test/run-endings.test.ts): `zombie`, the job ended and not
# yet collected (the wrapper polls for that instead of blocking in waitpid); `collected`, waitpid returned and the
# status not written. At each it makes <gates>/<run>.<point> (<run>: its directory's name) and waits for
# <gates>/<run>.<point>.go (or for the directory to go: a test that ended leaves none waiting).

use strict; use JSON::PP; use POSIX (); use Fcntl (); use File::Basename (); use File::Path (); use Time::HiRes ();
$| = 1;
# Wrappers are reaped by the kernel: the launcher never waits for them.
$SIG{CHLD} = 'IGNORE';
# A run file, written aside and renamed over: whole or not at all (a full disk fails the write or the close, and must
# never leave an empty file that reads as an outcome). Answers the error, or '' once written.
sub put { my ($dir, $name, $text) = @_; my $f;
  return '' if open($f, '>', "$dir/$name.tmp") && print($f $text) && close($f) && rename("$dir/$name.tmp", "$dir/$name");
  my $error = "$!"; unlink("$dir/$name.tmp"); return $error || 'write failed'; }
# What the job used, for accounting (run-usage.ts reads it): the CPU time and the largest RSS of the processes its
# wrapper and the job itself waited for (getrusage(2) RUSAGE_CHILDREN: a child the job left behind unwaited is not in
# it; a cgroup, where there is one, counts those too and is read first), and the wall time from the job's fork to its
# reaping (CLOCK_MONOTONIC: a clock step does not change it). Perl has no getrusage: it is called through syscall(2)
# by its number, which is per architecture (x86_64: arch/x86/entry/syscalls/syscall_64.tbl; the generic table that
# arm64, riscv64 and loongarch64 use: include/uapi/asm-generic/unistd.h; i386 and 32-bit arm: their tables), into a
# struct rusage of native longs (two timevals, then ru_maxrss in KiB, getrusage(2)). Elsewhere the CPU times come from
# times(2) (in clock ticks), and the max RSS is unknown: "-".
my %getrusage_nr = (x86_64 => 98, aarch64 => 165, riscv64 => 165, loongarch64 => 165, i686 => 77, i386 => 77, armv7l => 77);
sub children_usage {
  my $nr = $getrusage_nr{(POSIX::uname())[4]};
  my $rusage = "\0" x (18 * length(pack('l!', 0)));
  if (defined $nr && syscall($nr, -1, $rusage) == 0) {
    my ($user_s, $user_us, $system_s, $system_us, $maxrss) = unpack('l!5', $rusage);
    return (1e6 * $user_s + $user_us, 1e6 * $system_s + $system_us, $maxrss);
  }
  my (undef, undef, $user, $system) = times(); return (int(1e6 * $user), int(1e6 * $system), '-');
}
sub monotonic_ms { return int(1000 * Time::HiRes::clock_gettime(Time::HiRes::CLOCK_MONOTONIC())); }

# The test gates (see the header); unset outside tests.
my $gates = $ENV{CONDUCTOR_TEST_WRAPPER_GATES};
sub gate { my ($dir, $point) = @_; my $at = "$gates/" . File::Basename::basename($dir) . ".$point";
  if (open(my $f, '>', $at)) { close($f); } select(undef, undef, undef, 0.01) until -e "$at.go" || !-d $gates; }
sub zombie { my ($pid) = @_; open(my $stat, '<', "/proc/$pid/stat") or return 0; my $text = <$stat>; close($stat);
  return substr($text, rindex($text, ')') + 2, 1) eq 'Z'; }
# The kernel's start time of a process (field 22 of its stat): with the pid, it names the process even after reuse.
sub started_at { my ($pid) = @_; open(my $stat, '<', "/proc/$pid/stat") or return 0; my $text = <$stat>; close($stat);
  my @fields = split(' ', substr($text, rindex($text, ')') + 2)); return $fields[19]; }

# The program a script's `#!` line names, or undef: read through its descriptor, which is left at its start.
sub interpreter { my ($fd) = @_; my $head = ''; sysseek($fd, 0, 0); sysread($fd, $head, 512); sysseek($fd, 0, 0);
  return $head =~ /\A#![ \t]*([^ \t\n]+)/ ? $1 : undef; }

# The job's process, from its fork to its exec: on any failure it tells the wrapper why and ends.
sub job {
  my ($r, $script, $tell) = @_;
  my $refuse = sub { my $why = join(' ', @_); $why =~ s/\s+/ /g; print $tell "refused $why\n"; POSIX::_exit(127); };
  # An ignored signal stays ignored across exec, and bash cannot trap one ignored at its start: the wrapper's ignored
  # SIGPIPE would make every `cmd | head` of the job fail with EPIPE rather than end quietly, unlike under slurmstepd.
  $SIG{PIPE} = 'DEFAULT';
  setpgrp(0, 0);
  for my $procs (@{$r->{cgroup_procs} || []}) {
    my $f; (open($f, '>>', $procs) && print($f "$$\n") && close($f)) or $refuse->("cannot join its cgroup $procs: $!");
  }
  my ($uid, $gid, @groups);
  if (defined $r->{user}) {
    my $user = $r->{user};
    my @pw = getpwnam($user) or $refuse->("no user $user here");
    ($uid, $gid) = @pw[2, 3];
    if ($> == 0) {
      $refuse->("uid $uid of $user is below the minimum $r->{min_uid}") if $uid < $r->{min_uid};
      # initgroups(3): the primary group and every group whose member list names the user.
      my %seen = ($gid => 1); @groups = ($gid);
      setgrent(); while (my @gr = getgrent()) { push(@groups, $gr[2]) if !$seen{$gr[2]}++ && grep { $_ eq $user } split(' ', $gr[3]); } endgrent();
    } elsif ($uid != $>) {
      $refuse->("this node runs jobs only as uid $> (its daemon is not root), not as $user");
    }
  }
  if ($r->{make_cwd}) {
    mkdir($r->{cwd}, 0700) or $!{EEXIST} or $refuse->("cannot make $r->{cwd}: $!");
    chown($uid, $gid, $r->{cwd}) or $refuse->("cannot give $r->{cwd} to its owner: $!") if @groups;
  }
  if (@groups) {
    # The script stays in the root-only run directory; its owner reads it only through fd 3.
    chown($uid, $gid, $script) or $refuse->("cannot give the script to its owner: $!");
    $) = join(' ', $gid, @groups); $( = $gid;
    POSIX::setuid($uid);
    $refuse->("cannot take uid $uid: $!") if $< != $uid || $> != $uid || (split(' ', $())[0] != $gid;
  }
  umask(077);
  for my $path (File::Basename::dirname($r->{out}), File::Basename::dirname($r->{err}), $r->{cwd}) {
    next if -d $path; File::Path::make_path($path, { error => \my $errors });
  }
  chdir($r->{cwd}) or $refuse->("cannot enter $r->{cwd}: $!");
  %ENV = %{$r->{env}};
  open(STDIN, '<', '/dev/null') or $refuse->("/dev/null: $!");
  # sbatch's --open-mode, with slurmstepd's flags: O_APPEND in both modes, so that writers sharing a file each add at
  # its end; "truncate" empties it first (the later-started of two jobs naming one file empties it).
  my $flags = Fcntl::O_WRONLY() | Fcntl::O_CREAT() | Fcntl::O_APPEND() | (($r->{mode} // '') eq 'truncate' ? Fcntl::O_TRUNC() : 0);
  sysopen(STDOUT, $r->{out}, $flags, 0666) or $refuse->("cannot open output $r->{out}: $!");
  # stderr naming stdout's file (by its path, or by a link to it) shares its descriptor, as sbatch's one file for both:
  # the bytes interleave as written, and the file is neither emptied twice nor shipped twice.
  my @out = stat(STDOUT); my @err = $r->{err} eq $r->{out} ? @out : stat($r->{err});
  if (@err && $err[0] == $out[0] && $err[1] == $out[1]) { open(STDERR, '>&', \*STDOUT) or $refuse->("dup2: $!"); }
  else { sysopen(STDERR, $r->{err}, $flags, 0666) or $refuse->("cannot open output $r->{err}: $!"); }
  # Each file's dev:ino, then its size as opened: this run's output starts there (0 once emptied).
  my @stats = map { [stat($_)] } (\*STDOUT, \*STDERR);
  my @ids = ((map { "$_->[0]:$_->[1]" } @stats), (map { $_->[7] } @stats));
  # fd 3 is the script, and must outlive the exec; the pipe to the wrapper must not.
  if (fileno($script) != 3) { POSIX::dup2(fileno($script), 3) or $refuse->("dup2: $!"); }
  else { fcntl($script, Fcntl::F_SETFD(), 0) or $refuse->("fcntl: $!"); }
  # The interpreter the script's `#!` line names, checked here as its owner: a missing one is named (the kernel's
  # ENOENT would name only /dev/fd/3), also when taskset, not this process, execs the script.
  my $interpreter = interpreter($script);
  if (defined $interpreter) {
    local $!;
    my $why = !-e $interpreter ? "$!" : -d _ ? 'Is a directory' : !-x _ ? 'Permission denied' : undef;
    $refuse->("cannot execute interpreter $interpreter: $why") if defined $why;
  }
  # Nothing else open reaches the job, as slurmstepd closes the rest: a descriptor its daemon was left by its own
  # parent (not marked close-on-exec) would be the job's to read or write. The pipe to the wrapper closes at the exec.
  opendir(my $open, '/proc/self/fd') or $refuse->("/proc/self/fd: $!");
  my @open = grep { /^\d+$/ && $_ > 3 && $_ != fileno($tell) } readdir($open);
  closedir($open);
  POSIX::close($_) for @open;
  print $tell "files @ids\n";
  exec { $r->{command}[0] } @{$r->{command}};
  $refuse->("cannot execute " . (defined $interpreter ? "interpreter $interpreter" : $r->{command}[0]) . ": $!");
}

# Fencing on node loss: past the deadline the daemon writes to the lease file (each heartbeat renews it; its first
# number, epoch ms), the API may settle this job and start it elsewhere. Whether the daemon is there or not, the
# wrapper kills the job then: SIGKILL to its process group and to every process in its cgroups, again each second
# while it lasts. The daemon, when there, stopped it gracefully before. Checked from SIGALRM, at most a second apart
# and on the deadline itself, while the wrapper waits for its job (perl's waitpid goes on after a handled signal).
# No file (never-expiring lease, or none heard yet): nothing is fenced. Answers a ref, true once the job was killed.
sub lease_at { my ($file) = @_; my $f; open($f, '<', $file) or return undef; my ($at) = (<$f> // '') =~ /^(\d+)/;
  close($f); return $at; }
sub fence {
  my ($r, $pid) = @_;
  my $fenced = 0;
  return \$fenced if !defined $r->{lease};
  my $check; $check = sub {
    # Read until two reads agree: on a full disk the daemon rewrites the file in place (node-lease.ts), and one read
    # could catch half of a write.
    my $at = lease_at($r->{lease});
    for (my $again = lease_at($r->{lease}); ($at // '') ne ($again // ''); $again = lease_at($r->{lease})) { $at = $again; }
    my $left = defined $at ? $at / 1000 - Time::HiRes::time() : 1;
    if ($left <= 0) {
      $fenced = 1; $left = 1;
      kill('KILL', -$pid);
      for my $procs (@{$r->{cgroup_procs} || []}) {
        open(my $f, '<', $procs) or next; my @pids = grep { /^\d+$/ } map { s/\s+//gr } <$f>; close($f);
        kill('KILL', @pids) if @pids;
      }
    }
    Time::HiRes::alarm($left < 1 ? $left + 0.001 : 1);
  };
  $SIG{ALRM} = $check; $check->();
  return \$fenced;
}

while (my $line = <STDIN>) {
  my $r = decode_json($line);
  my $wrapper = fork();
  if (!defined $wrapper) { print "failed $r->{dir}\tfork: $!\n"; next; }
  next if $wrapper;
  # The wrapper: a session of its own, so no terminal signal reaches it and it outlives the launcher. Its stdin is
  # /dev/null, so the script opened next is fd 3.
  open(STDIN, '<', '/dev/null'); POSIX::setsid(); $SIG{CHLD} = 'DEFAULT'; $SIG{PIPE} = 'IGNORE';
  my $failed = sub { print "failed $r->{dir}\t$_[0]\n"; POSIX::_exit(0); };
  open(my $script, '<', "$r->{dir}/script.sh") or $failed->("cannot open its script: $!");
  pipe(my $hear, my $tell) or $failed->("pipe: $!");
  $tell->autoflush(1);
  my $forked_at = monotonic_ms();
  my $pid = fork();
  $failed->("fork: $!") if !defined $pid;
  job($r, $script, $tell) if $pid == 0;
  close($tell); close($script);
  # The parent makes the job's process group too (as shells do): it exists before anyone hears the pid, so a kill of
  # the group right after the start cannot miss a job that has not run its own setpgrp yet.
  setpgrp($pid, $pid);
  # Until the exec closes the pipe: what the job opened, or why it could not start.
  my $told = do { local $/; <$hear> } // ''; close($hear);
  if ($told !~ /\Afiles (\S+ \S+ \d+ \d+)\n\z/) {
    waitpid($pid, 0);
    $failed->($told =~ /^refused (.*)$/m ? $1 : "its process ended before it started");
  }
  my $ids = $1;
  my $job = "$pid " . started_at($pid) . " $$ " . started_at($$) . " $ids";
  # Without its pid file a restarted daemon could not find the job again: it is not run unrecorded.
  if (my $error = put($r->{dir}, 'pid', "$job\n")) {
    kill('KILL', -$pid); waitpid($pid, 0);
    $failed->("cannot record its pid on the node: $error");
  }
  print "started $r->{dir}\t$job\n";
  my $fenced = fence($r, $pid);
  if ($gates) { select(undef, undef, undef, 0.01) until zombie($pid); gate($r->{dir}, 'zombie'); }
  waitpid($pid, 0);
  my $status = $?;
  alarm(0);
  gate($r->{dir}, 'collected') if $gates;
  my $wall_ms = monotonic_ms() - $forked_at;
  # Before the status: a status file read means its usage is there too, unless the disk was full (then none is).
  put($r->{dir}, 'usage', join(' ', children_usage(), $wall_ms) . "\n");
  # The outcome is known only here: on a full disk it waits, and the run stays unended (its wrapper lives) until it is
  # written, rather than be reported without it.
  my $outcome = (($status & 127) ? "- " . ($status & 127) : ($status >> 8) . " -") . ($$fenced ? " lease" : "") . "\n";
  for (my $tries = 0; my $error = put($r->{dir}, 'status', $outcome); $tries++) {
    print STDERR "$r->{dir}: the job ended; its exit status cannot be recorded yet ($error): trying again each second\n"
      if $tries == 0;
    sleep(1);
  }
  print "ended $r->{dir}\n";
  POSIX::_exit(0);
}
