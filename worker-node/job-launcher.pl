# The node daemon's job launcher: starts each job from a small, long-lived perl process rather than from the daemon.
# job-launcher.ts runs it as `perl -e <this text>` (`npm run gen:scripts` embeds it), one per daemon.
#
# Why: forking the daemon (a Node process of a hundred MB) and starting perl anew cost several ms per job; forking
# this process costs a fraction of one.
#
# For each job it forks a wrapper in a session of its own, so that the wrapper and its job outlive the launcher and
# the daemon alike. The wrapper forks the job (its own process group, working directory, environment and output
# files), writes the job's pid and start time to a file, waits for it, and writes its exit status and terminating
# signal to a file: the outcome is known even when the daemon was not there to see it. Files are written whole, then
# renamed: never read half-written.
#
# stdin, one JSON object per job and line:
#   {"dir": the run's directory, "cwd": the job's working directory, "out": its stdout file, "err": its stderr file,
#    "env": its whole environment, {"NAME": "value"}, "command": [program, argument, ...]}
# stdout, one line per event: its word, a space, the run's directory, and for some a tab and a detail:
#   started <dir>\t<pid> <start time>   the job runs; <dir>/pid holds "<pid> <start time>" (start time: field 22
#                                       of /proc/<pid>/stat)
#   failed <dir>\t<reason>              it could not be started (a fork failed)
#   ended <dir>                         it has ended; <dir>/status holds "<exit status> -" or "- <signal>"

use strict; use JSON::PP; use POSIX ();
$| = 1;
# Wrappers are reaped by the kernel: the launcher never waits for them.
$SIG{CHLD} = 'IGNORE';
sub put { my ($dir, $name, $text) = @_; open(my $f, '>', "$dir/$name.tmp") or die; print $f $text; close($f); rename("$dir/$name.tmp", "$dir/$name") or die; }
while (my $line = <STDIN>) {
  my $r = decode_json($line);
  my $wrapper = fork();
  if (!defined $wrapper) { print "failed $r->{dir}\tfork: $!\n"; next; }
  next if $wrapper;
  # The wrapper: a session of its own, so no terminal signal reaches it and it outlives the launcher.
  close(STDIN); POSIX::setsid(); $SIG{CHLD} = 'DEFAULT'; $SIG{PIPE} = 'IGNORE';
  my $pid = fork();
  if (!defined $pid) { print "failed $r->{dir}\tfork: $!\n"; POSIX::_exit(1); }
  if ($pid == 0) {
    setpgrp(0, 0);
    chdir($r->{cwd}) or die "cannot enter $r->{cwd}: $!";
    %ENV = %{$r->{env}};
    open(STDIN, '<', '/dev/null'); open(STDOUT, '>>', $r->{out}) or die; open(STDERR, '>>', $r->{err}) or die;
    exec { $r->{command}[0] } @{$r->{command}} or die "exec: $!";
  }
  # The parent makes the job's process group too (as shells do): it exists before anyone hears the pid, so a kill of
  # the group right after the start cannot miss a job that has not run its own setpgrp yet.
  setpgrp($pid, $pid);
  # The kernel's start time of the job (field 22 of its stat) names it with its pid, even after the pid is reused.
  open(my $stat, '<', "/proc/$pid/stat") or die; my $text = <$stat>; close($stat);
  my @fields = split(' ', substr($text, rindex($text, ')') + 2));
  put($r->{dir}, 'pid', "$pid $fields[19]\n");
  print "started $r->{dir}\t$pid $fields[19]\n";
  waitpid($pid, 0);
  my $status = $?;
  put($r->{dir}, 'status', ($status & 127) ? "- " . ($status & 127) . "\n" : ($status >> 8) . " -\n");
  print "ended $r->{dir}\n";
  POSIX::_exit(0);
}
