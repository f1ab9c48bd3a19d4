#!/usr/bin/perl
# uid-map.pl — starts bubblewrap with its sandbox user mapped to an unprivileged host uid (see uid-map.ts).
#
#   perl uid-map.pl UID GID FORWARD_FD|- BWRAP [bwrap options...] -- COMMAND...
#
# bwrap runs as root (so that it can set up the mounts of the sandbox's root-owned folders) and holds its child
# back (--userns-block-fd) until the user namespace's maps are written: root stays root only for that set-up
# (0 -> 0), and the sandbox's uid and gid 1000 are UID and GID on the host; the command then drops to 1000
# (setpriv, after `--`). A detached helper reads the child's pid from --info-fd, writes the maps, passes the info
# on to FORWARD_FD when given (net-wrap.mjs waits for it on fd 3), and lets bwrap go on. Perl: light, and on
# every Debian-like host (perl-base); it runs on the host, never inside.
use strict;
use warnings;
use Fcntl;
use POSIX ();

my ($uid, $gid, $forward, @cmd) = @ARGV;
die "usage: uid-map.pl UID GID FORWARD_FD|- BWRAP ARGS...\n" unless defined $gid && $uid =~ /^\d+$/ && $gid =~ /^\d+$/ && @cmd;

pipe(my $info_r, my $info_w) or die "pipe: $!\n";
pipe(my $block_r, my $block_w) or die "pipe: $!\n";
my $pid = fork() // die "fork: $!\n";
if ($pid == 0) {
  # Detached (a grandchild), so that no zombie stays under bwrap.
  POSIX::_exit(0) if fork();
  close $info_w;
  close $block_r;
  my $info = '';
  while (sysread($info_r, my $buf, 4096)) { $info .= $buf }
  my ($child) = $info =~ /"child-pid"\s*:\s*(\d+)/;
  POSIX::_exit(1) unless $child;
  my $ok = write_map("/proc/$child/uid_map", "0 0 1\n1000 $uid 1\n") && write_map("/proc/$child/gid_map", "0 0 1\n1000 $gid 1\n");
  if ($forward ne '-' && open(my $out, '>&=', $forward)) {
    print $out $info;
    close $out;
  }
  # Without its maps the sandbox must not start: closing the block fd unwritten makes bwrap go on, so kill it.
  if (!$ok) {
    kill 'KILL', $child;
    POSIX::_exit(1);
  }
  syswrite($block_w, "1");
  POSIX::_exit(0);
}
waitpid($pid, 0);
close $info_r;
close $block_w;
POSIX::close($forward) if $forward ne '-';
fcntl($_, F_SETFD, 0) for ($info_w, $block_r);
my ($bwrap, @rest) = @cmd;
exec { $bwrap } $bwrap, '--info-fd', fileno($info_w), '--userns-block-fd', fileno($block_r), @rest;
die "could not start $bwrap: $!\n";

sub write_map {
  my ($file, $map) = @_;
  open(my $fh, '>', $file) or return 0;
  my $ok = print $fh $map;
  return close($fh) && $ok;
}
