/* nook-helper: the mechanism half of nook (DESIGN.md section 1). nook, in
 * Node, decides what to do and passes it here as an op list; this program runs
 * in a single-threaded process, carries the ops out in order and execs the
 * command. Runnable by hand for debugging:
 *
 *   nook-helper [--sync-fd N] [--die-with-parent] [--userns] [--setgroups-clear] [--setid U:G]
 *               [--chdir DIR] -- CMD [ARG...]
 *
 * Exit status when it fails before the command runs: 125 for a setup step,
 * 126 when the command cannot be executed, 127 when it is not found (the
 * shell's and Docker's convention). */
#define _GNU_SOURCE
#include "error.h"
#include "ops.h"
#include "sync.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Whatever descriptors nook's caller left open (a shell's 3>file, a pipe)
 * must not reach the container, as Docker and Podman give it 0-2 only: all
 * from 3 up close on exec. The ones the ops use (the sync socket, the pty
 * socket) are used before the exec. close_range(2) since Linux 5.11; before
 * that, one fcntl per open descriptor. */
static void
cloexec_from_3 (void)
{
  DIR *d;
  struct dirent *e;

  if (syscall (SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
    return;
  d = opendir ("/proc/self/fd");
  if (!d)
    return;
  while ((e = readdir (d)) != NULL)
    {
      int fd = atoi (e->d_name);
      if (fd >= 3 && fd != dirfd (d))
        fcntl (fd, F_SETFD, FD_CLOEXEC);
    }
  closedir (d);
}

static void
report (const struct nh_config *cfg, const struct nh_error *err)
{
  if (cfg->sync_fd >= 0)
    nh_sync_report (cfg->sync_fd, err);
  else if (err->errnum)
    fprintf (stderr, "nook-helper: %s: %s\n", err->step, strerror (err->errnum));
  else
    fprintf (stderr, "nook-helper: %s\n", err->step);
}

int
main (int argc, char **argv)
{
  static struct nh_config cfg;
  struct nh_error err = { 0 };

  if (nh_parse_args (argc, argv, &cfg, &err) < 0)
    {
      report (&cfg, &err);
      fprintf (stderr, "usage: nook-helper [--sync-fd N] [--die-with-parent] [--userns] [--setgroups-clear] "
                       "[--setid UID:GID] [--chdir DIR] -- CMD [ARG...]\n");
      return 2;
    }
  cloexec_from_3 ();
  if (nh_ops_run (&cfg, &err) < 0)
    {
      report (&cfg, &err);
      return 125;
    }
  execvp (cfg.argv[0], cfg.argv);
  nh_fail (&err, errno, "exec %s", cfg.argv[0]);
  report (&cfg, &err);
  return err.errnum == ENOENT ? 127 : 126;
}
