/* nook exec: the helper joins the namespaces of a running container's pid 1
 * instead of making new ones (setns(2)), user namespace first so that it has
 * the capabilities the others ask for, mount namespace last because it moves
 * the root and the working directory to the container's. A process joins a
 * pid namespace only through a fork: the child goes on with the ops, this
 * process waits for it and leaves with its status (container.c). */
#define _GNU_SOURCE
#include "join.h"
#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct
{
  const char *name;
  int type;
} NAMESPACES[] = {
  { "user", CLONE_NEWUSER }, { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },
  { "net", CLONE_NEWNET },   { "cgroup", CLONE_NEWCGROUP }, { "pid", CLONE_NEWPID },
  { "mnt", CLONE_NEWNS },
};

#define N_NAMESPACES (sizeof NAMESPACES / sizeof NAMESPACES[0])

int
nh_join (struct nh_config *cfg, const char *pid, struct nh_error *err)
{
  int fds[N_NAMESPACES];
  char path[64];
  pid_t child;

  /* All opened first: once in the container's mount namespace, /proc is its
   * own. One the container shares with us (the host's network, for
   * --network host) is not joined: it belongs to a user namespace we hold
   * no capabilities in, and we are in it already. */
  for (size_t i = 0; i < N_NAMESPACES; i++)
    {
      struct stat theirs, ours;
      char self[64];

      snprintf (path, sizeof path, "/proc/%s/ns/%s", pid, NAMESPACES[i].name);
      snprintf (self, sizeof self, "/proc/self/ns/%s", NAMESPACES[i].name);
      fds[i] = -1;
      if (stat (path, &theirs) == 0 && stat (self, &ours) == 0 && theirs.st_ino == ours.st_ino
          && theirs.st_dev == ours.st_dev)
        continue;
      fds[i] = open (path, O_RDONLY | O_CLOEXEC);
      if (fds[i] < 0)
        return nh_fail (err, errno, "open %s", path);
    }
  for (size_t i = 0; i < N_NAMESPACES; i++)
    {
      if (fds[i] < 0)
        continue;
      if (setns (fds[i], NAMESPACES[i].type) < 0)
        return nh_fail (err, errno, "join the container's %s namespace", NAMESPACES[i].name);
      close (fds[i]);
    }
  child = fork ();
  if (child < 0)
    return nh_fail (err, errno, "fork into the container's pid namespace");
  if (child > 0)
    nh_container_wait (child, cfg->sync_fd);
  if (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0)
    return nh_fail (err, errno, "prctl PR_SET_PDEATHSIG");
  return chdir ("/") < 0 ? nh_fail (err, errno, "chdir /") : 0;
}
