/* Container setup ops (DESIGN.md section 1, steps 3 to 5): namespaces, the
 * root filesystem, /proc, /dev, /sys, pivot_root, masks, hostname and
 * no_new_privs. nook decides which and in what order; each function here does
 * one step and names it when it fails. Everything runs as root of the user
 * namespace, so what the kernel allows is what a rootless container gets. */
#define _GNU_SOURCE
#include "container.h"
#include "copy.h"
#include "fdpass.h"
#include "join.h"
#include "monitor.h"
#include "security.h"
#include "sync.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t child_pid = -1;
/* pid 1 has a cgroup namespace of its own, rooted at its cgroup (--cgroup-wait). */
static int cgroup_ns;
static pid_t fuse_pid = -1;
static const char *rm_after_dir = NULL;
/* --monitor: the waiting parent also logs the container's output and records
 * its pid and exit status (a detached container, monitor.c). */
static struct nh_monitor monitor;
static int monitoring;
/* The network helper (pasta, slirp4netns), as a pidfd: it runs outside the
 * container's namespaces and would outlive them. */
static int net_pidfd = -1;

void
nh_container_end_with (pid_t pid)
{
  net_pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
}

/* Signals to the waiting parent go on to the container's pid 1. A hangup
 * (the terminal nook ran in is gone) must end the container even when pid 1
 * has no handler for it (then the kernel drops it): SIGKILL follows in 2 s. */
static void
forward_signal (int sig)
{
  if (child_pid <= 0)
    return;
  kill (child_pid, sig);
  if (sig == SIGHUP)
    alarm (2);
}

static void
kill_child (int sig)
{
  (void) sig;
  if (child_pid > 0)
    kill (child_pid, SIGKILL);
}

static int
remove_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void) st;
  (void) flag;
  (void) ftw;
  return remove (path) < 0 && errno != ENOENT ? -1 : 0;
}

/* The parent after the fork: waits for pid 1 of the new pid namespace and
 * leaves with its status (dying of the same signal), removing the
 * container's directory first when asked (its files may belong to
 * subordinate ids, which only we, root of the namespace, can remove). */
static void __attribute__ ((noreturn))
wait_and_exit (int sync_fd)
{
  static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
  int status = 0;

  if (sync_fd >= 0)
    close (sync_fd);
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
    signal (forwarded[i], forward_signal);
  signal (SIGALRM, kill_child);
  if (monitoring)
    nh_monitor_run (&monitor, child_pid);
  while (waitpid (child_pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (monitoring)
    nh_monitor_finished (&monitor, status);
  if (net_pidfd >= 0)
    {
      /* Waited for (its pidfd turns readable when it exits), so that its
       * published ports are free when nook returns: a run straight after
       * may bind them again. SIGKILL if it lingers. */
      struct pollfd p = { .fd = net_pidfd, .events = POLLIN };
      syscall (SYS_pidfd_send_signal, net_pidfd, SIGTERM, NULL, 0);
      if (poll (&p, 1, 2000) == 0)
        {
          syscall (SYS_pidfd_send_signal, net_pidfd, SIGKILL, NULL, 0);
          poll (&p, 1, 1000);
        }
    }
  /* The container is gone: its rootfs daemon may go too (it would keep the
   * mount namespace alive). */
  if (fuse_pid > 0)
    {
      kill (fuse_pid, SIGTERM);
      while (waitpid (fuse_pid, NULL, 0) < 0 && errno == EINTR)
        ;
    }
  if (rm_after_dir)
    {
      /* The rootfs is still mounted in this mount namespace (pid 1 had its
       * own): detach it first, and never cross into another mount. */
      char merged[4096];
      snprintf (merged, sizeof merged, "%s/merged", rm_after_dir);
      umount2 (merged, MNT_DETACH);
      nftw (rm_after_dir, remove_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
    }
  if (WIFSIGNALED (status))
    {
      signal (WTERMSIG (status), SIG_DFL);
      kill (getpid (), WTERMSIG (status));
    }
  _exit (WIFEXITED (status) ? WEXITSTATUS (status) : 125);
}

void
nh_container_wait (pid_t child, int sync_fd)
{
  child_pid = child;
  wait_and_exit (sync_fd);
}

/* A new network namespace has its loopback down; containers expect it up
 * (Docker's --network none has lo). */
static int
loopback_up (struct nh_error *err)
{
  struct ifreq ifr = { 0 };
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return nh_fail (err, errno, "socket for lo");
  strcpy (ifr.ifr_name, "lo");
  if (ioctl (fd, SIOCGIFFLAGS, &ifr) < 0 || (ifr.ifr_flags |= IFF_UP, ioctl (fd, SIOCSIFFLAGS, &ifr)) < 0)
    {
      int e = errno;
      close (fd);
      return nh_fail (err, e, "bring lo up");
    }
  close (fd);
  return 0;
}

static int
op_unshare (struct nh_config *cfg, const char *spec, struct nh_error *err)
{
  int flags = 0;

  if (strstr (spec, "mount"))
    flags |= CLONE_NEWNS;
  if (strstr (spec, "pid"))
    flags |= CLONE_NEWPID;
  if (strstr (spec, "ipc"))
    flags |= CLONE_NEWIPC;
  if (strstr (spec, "uts"))
    flags |= CLONE_NEWUTS;
  if (strstr (spec, "net"))
    flags |= CLONE_NEWNET;
  if (unshare (flags) < 0)
    return nh_fail (err, errno, "unshare %s", spec);
  if ((flags & CLONE_NEWNET) && loopback_up (err) < 0)
    return -1;
  if (!(flags & CLONE_NEWPID))
    return 0;
  if (monitoring && nh_monitor_prepare (&monitor, err) < 0)
    return -1;
  /* Only a child enters the new pid namespace, as its pid 1. */
  child_pid = fork ();
  if (child_pid < 0)
    return nh_fail (err, errno, "fork into the pid namespace");
  if (child_pid > 0)
    wait_and_exit (cfg->sync_fd);
  if (monitoring && nh_monitor_child (&monitor, err) < 0)
    return -1;
  /* pid 1 dies with the waiting parent, so nook's kill -9 reaches it. */
  if (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0)
    return nh_fail (err, errno, "prctl PR_SET_PDEATHSIG");
  return 0;
}

/* nook puts us in the container's cgroup (a systemd scope or a cgroup of its
 * own) with the limits set, before anything of the container runs. We name
 * ourselves by our pid in the host's pid namespace: /proc here is still the
 * host's. In pid 1 of a monitored container, the cgroup's memory.events then
 * goes to the monitor, which watches it for OOM kills. */
static int
op_cgroup_wait (struct nh_config *cfg, struct nh_error *err)
{
  char self[32] = { 0 };

  if (cfg->sync_fd < 0)
    return nh_fail (err, EINVAL, "--cgroup-wait needs --sync-fd");
  if (readlink ("/proc/self", self, sizeof self - 1) < 0)
    return nh_fail (err, errno, "readlink /proc/self");
  if (nh_sync_request (cfg->sync_fd, "cgroup", (pid_t) strtol (self, NULL, 10), err) < 0
      || nh_sync_wait (cfg->sync_fd, "cgroup-ready", "place the container in its cgroup", err) < 0)
    return -1;
  if (!monitoring || child_pid != 0)
    return 0;
  nh_monitor_send_events (&monitor);
  /* pid 1's cgroup is the root of what the container sees (Docker's private
   * cgroup namespace on cgroup v2); --sys mounts it at /sys/fs/cgroup. */
  if (unshare (CLONE_NEWCGROUP) < 0)
    return nh_fail (err, errno, "unshare cgroup namespace");
  cgroup_ns = 1;
  return 0;
}

/* OCI create: the state directory's exec.fifo, held before pivot_root hides
 * it, then (--exec-wait, the last step) opened for writing through
 * /proc/self/fd: that blocks until `nook oci start` opens it for reading.
 * nook, which exits after create, learns that everything is set up from the
 * socket closing without an error. A byte is written so that start knows it
 * was us. */
static int exec_fifo = -1;

/* An existing namespace by path (an engine's network namespace, say). */
static int
op_setns (const char *type, const char *path, struct nh_error *err)
{
  static const struct
  {
    const char *name;
    int flag;
  } types[] = { { "net", CLONE_NEWNET }, { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },
                { "cgroup", CLONE_NEWCGROUP }, { "user", CLONE_NEWUSER } };
  int fd, flag = -1;

  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    if (strcmp (types[i].name, type) == 0)
      flag = types[i].flag;
  if (flag < 0)
    return nh_fail (err, EINVAL, "setns: cannot join a %s namespace", type);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return nh_fail (err, errno, "open %s", path);
  if (setns (fd, flag) < 0)
    {
      int e = errno;
      close (fd);
      return nh_fail (err, e, "join the %s namespace %s", type, path);
    }
  close (fd);
  return 0;
}

static int
op_exec_wait (struct nh_config *cfg, struct nh_error *err)
{
  char path[64];
  int fd;

  if (exec_fifo < 0)
    return nh_fail (err, EINVAL, "--exec-wait needs --exec-fifo");
  if (cfg->sync_fd >= 0)
    {
      if (nh_sync_request (cfg->sync_fd, "created", getpid (), err) < 0)
        return -1;
      close (cfg->sync_fd);
      cfg->sync_fd = -1;
    }
  snprintf (path, sizeof path, "/proc/self/fd/%d", exec_fifo);
  while ((fd = open (path, O_WRONLY | O_CLOEXEC)) < 0)
    if (errno != EINTR)
      return nh_fail (err, errno, "open the exec fifo");
  close (exec_fifo);
  if (write (fd, "0", 1) != 1)
    {
      close (fd);
      return nh_fail (err, errno, "write the exec fifo");
    }
  close (fd);
  return 0;
}

/* --init: pid 1 stays ours. It forks the command, passes signals on to it,
 * reaps every orphan the pid namespace hands it, and leaves with the
 * command's status once the command is gone (tini's job, in a few lines). */
static pid_t init_child = -1;

static void
forward_to_command (int sig)
{
  if (init_child > 0)
    kill (init_child, sig);
}

static int
no_new_privs (struct nh_error *err)
{
  return prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? nh_fail (err, errno, "prctl PR_SET_NO_NEW_PRIVS") : 0;
}

/* The init is in the container as much as its command: it takes for itself
 * the confinement ops that follow it (in their order, which puts a filter
 * that needs CAP_SYS_ADMIN before the capabilities go), and, as it never
 * execs, cuts its own permitted and effective sets to the bounding set. */
static int
confine_init (struct nh_config *cfg, const struct nh_op *init, struct nh_error *err)
{
  const char *caps = NULL;

  for (const struct nh_op *op = init + 1; op < cfg->ops + cfg->n_ops; op++)
    {
      int r = 0;
      if (op->kind == NH_OP_CAPS)
        r = nh_caps_bounding (caps = op->args[0], err);
      else if (op->kind == NH_OP_SECCOMP)
        r = nh_seccomp_load (op, err);
      else if (op->kind == NH_OP_NO_NEW_PRIVS)
        r = no_new_privs (err);
      if (r < 0)
        return -1;
    }
  return caps ? nh_caps_limit_self (caps, err) : 0;
}

static int
op_init (struct nh_config *cfg, const struct nh_op *op, struct nh_error *err)
{
  static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
  int status = 0;
  pid_t pid;

  init_child = fork ();
  if (init_child < 0)
    return nh_fail (err, errno, "fork the command under --init");
  if (init_child == 0)
    return 0; /* the command: on with the ops, then exec */
  /* The command is forked already: should this fail, it must not run on
   * under an init that was not confined. */
  if (confine_init (cfg, op, err) < 0)
    {
      kill (init_child, SIGKILL);
      return -1;
    }
  if (cfg->sync_fd >= 0)
    close (cfg->sync_fd);
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
    signal (forwarded[i], forward_to_command);
  for (;;)
    {
      pid = waitpid (-1, &status, 0);
      if (pid < 0 && errno == EINTR)
        continue;
      if (pid < 0 || pid == init_child)
        break;
    }
  if (WIFSIGNALED (status))
    _exit (128 + WTERMSIG (status));
  _exit (WIFEXITED (status) ? WEXITSTATUS (status) : 125);
}

static int
op_overlay (const struct nh_op *op, struct nh_error *err)
{
  char data[8192];
  int n;

  /* Lower dirs relative to the layer store: the mount data is one page at
   * most, and full paths would cut the number of layers by half. */
  n = snprintf (data, sizeof data, "lowerdir=%s,upperdir=%s,workdir=%s,userxattr", op->args[1], op->args[2],
                op->args[3]);
  if (n < 0 || (size_t) n >= sizeof data)
    return nh_fail (err, E2BIG, "mount overlay on %s: too many layers", op->args[4]);
  if (chdir (op->args[0]) < 0)
    return nh_fail (err, errno, "chdir %s", op->args[0]);
  if (mount ("overlay", op->args[4], "overlay", 0, data) < 0)
    return nh_fail (err, errno, "mount overlay on %s", op->args[4]);
  return chdir ("/") < 0 ? nh_fail (err, errno, "chdir /") : 0;
}

#define FUSE_SUPER_MAGIC 0x65735546

/* fuse-overlayfs in the foreground, as our child: its mount is in this mount
 * namespace, which the container's pid 1 (forked later) shares, and the
 * waiting parent ends it after the container. Ready when the target is a
 * fuse mount; an early exit of the daemon is the error. */
static int
op_fuse_overlay (const struct nh_op *op, struct nh_error *err)
{
  char data[8192];
  struct statfs sf;
  int status, n;

  n = snprintf (data, sizeof data, "lowerdir=%s,upperdir=%s,workdir=%s%s%s", op->args[1], op->args[2],
                op->args[3], op->args[5][0] ? "," : "", op->args[5]);

  if (n < 0 || (size_t) n >= sizeof data)
    return nh_fail (err, E2BIG, "mount fuse-overlayfs on %s: too many layers", op->args[4]);
  fuse_pid = fork ();
  if (fuse_pid < 0)
    return nh_fail (err, errno, "fork fuse-overlayfs");
  if (fuse_pid == 0)
    {
      int null = open ("/dev/null", O_WRONLY | O_CLOEXEC);
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      /* It chats on stderr ("unknown argument ignored"); its failures
       * reach the user as its exit status, in our one line. */
      if (null >= 0)
        dup2 (null, STDERR_FILENO);
      /* Root of the namespace, where the helper is not (a keep-id map): a
       * FUSE mount needs the capabilities that exec keeps only for root. */
      if (getuid () != 0 && (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0))
        _exit (126);
      if (chdir (op->args[0]) == 0)
        execlp ("fuse-overlayfs", "fuse-overlayfs", "-f", "-o", data, op->args[4], (char *) NULL);
      _exit (127);
    }
  for (int i = 0; i < 1000; i++)
    {
      if (statfs (op->args[4], &sf) == 0 && (unsigned long) sf.f_type == FUSE_SUPER_MAGIC)
        return 0;
      if (waitpid (fuse_pid, &status, WNOHANG) == fuse_pid)
        {
          fuse_pid = -1;
          return nh_fail (err, WIFEXITED (status) && WEXITSTATUS (status) == 127 ? ENOENT : EIO,
                          "mount fuse-overlayfs on %s (exit status %d)", op->args[4],
                          WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status));
        }
      usleep (5000);
    }
  return nh_fail (err, ETIMEDOUT, "mount fuse-overlayfs on %s", op->args[4]);
}

/* The flags a user namespace cannot clear on a mount it did not make
 * (mount_namespaces(7), "locked"): a read-only remount must repeat them. */
static unsigned long
locked_flags (const char *path)
{
  struct statvfs sv;
  unsigned long f = 0;

  if (statvfs (path, &sv) < 0)
    return 0;
  if (sv.f_flag & ST_NOSUID)
    f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV)
    f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC)
    f |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME)
    f |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME)
    f |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME)
    f |= MS_RELATIME;
  return f;
}

static int
remount_ro (const char *dst, struct nh_error *err)
{
  if (mount (NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags (dst), NULL) < 0)
    return nh_fail (err, errno, "remount %s read-only", dst);
  return 0;
}

static int make_target (const char *path, int dir, struct nh_error *err);

/* The target is made when missing, a directory or a file like the source. */
static int
op_bind (const char *src, const char *dst, int ro, struct nh_error *err)
{
  struct stat st;

  if (stat (src, &st) < 0)
    return nh_fail (err, errno, "bind %s: stat", src);
  if (access (dst, F_OK) < 0 && make_target (dst, S_ISDIR (st.st_mode), err) < 0)
    return -1;
  if (mount (src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
    return nh_fail (err, errno, "bind %s on %s", src, dst);
  return ro ? remount_ro (dst, err) : 0;
}

/* Makes the file or directory a mount point can need, with its missing
 * parents (-v /usr:/host/usr in an image without /host), as Docker does. */
static int
make_target (const char *path, int dir, struct nh_error *err)
{
  char parent[4096];
  int fd;

  if (strlen (path) >= sizeof parent)
    return nh_fail (err, ENAMETOOLONG, "mkdir %s", path);
  strcpy (parent, path);
  for (char *slash = strchr (parent + 1, '/'); slash; slash = strchr (slash + 1, '/'))
    {
      *slash = '\0';
      if (mkdir (parent, 0755) < 0 && errno != EEXIST)
        return nh_fail (err, errno, "mkdir %s", parent);
      *slash = '/';
    }
  if (dir)
    return mkdir (path, 0755) < 0 && errno != EEXIST ? nh_fail (err, errno, "mkdir %s", path) : 0;
  fd = open (path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0)
    return nh_fail (err, errno, "create %s", path);
  close (fd);
  return 0;
}

static int
mount_in_dev (const char *dev, const char *name, const char *type, unsigned long flags, const char *data,
              struct nh_error *err)
{
  char path[4096];

  snprintf (path, sizeof path, "%s/%s", dev, name);
  if (make_target (path, 1, err) < 0)
    return -1;
  if (mount (type, path, type, flags, data) < 0)
    return nh_fail (err, errno, "mount %s on %s", type, path);
  return 0;
}

/* /dev: a tmpfs holding binds of the host's harmless devices (mknod of real
 * devices is not allowed rootless), a new devpts instance, /dev/shm and
 * /dev/mqueue, and the usual links. */
static int
op_dev (const char *dev, struct nh_error *err)
{
  static const char *nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };
  static const char *links[][2] = {
    { "/proc/self/fd", "fd" }, { "/proc/self/fd/0", "stdin" }, { "/proc/self/fd/1", "stdout" },
    { "/proc/self/fd/2", "stderr" }, { "pts/ptmx", "ptmx" }, { "/proc/kcore", "core" },
  };
  char path[4096], host[64];

  if (mount ("tmpfs", dev, "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k") < 0)
    return nh_fail (err, errno, "mount tmpfs on %s", dev);
  for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++)
    {
      snprintf (path, sizeof path, "%s/%s", dev, nodes[i]);
      snprintf (host, sizeof host, "/dev/%s", nodes[i]);
      if (make_target (path, 0, err) < 0 || op_bind (host, path, 0, err) < 0)
        return -1;
    }
  if (mount_in_dev (dev, "pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620", err) < 0
      || mount_in_dev (dev, "shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k", err) < 0
      || mount_in_dev (dev, "mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err) < 0)
    return -1;
  for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
    {
      snprintf (path, sizeof path, "%s/%s", dev, links[i][1]);
      if (symlink (links[i][0], path) < 0 && errno != EEXIST)
        return nh_fail (err, errno, "symlink %s", path);
    }
  return 0;
}

static int
bind_console (const char *pty, struct nh_error *err)
{
  int console = open ("/dev/console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);

  if (console >= 0)
    close (console);
  return mount (pty, "/dev/console", NULL, MS_BIND, NULL) < 0
             ? nh_fail (err, errno, "bind %s on /dev/console", pty)
             : 0;
}

/* -t: a pty from the container's own devpts (so ttyname() inside names a
 * path that exists there), its master sent to nook over SOCK, its slave
 * stdin, stdout, stderr and /dev/console, the controlling terminal of a new
 * session, ROWS x COLS. Runs after pivot_root: the paths are the container's. */
static int
op_tty (const struct nh_op *op, struct nh_error *err)
{
  char name[64];
  int master, slave, sock = atoi (op->args[0]);
  struct winsize ws = { .ws_row = (unsigned short) atoi (op->args[1]), .ws_col = (unsigned short) atoi (op->args[2]) };

  master = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    return nh_fail (err, errno, "open /dev/ptmx");
  if (unlockpt (master) < 0 || ptsname_r (master, name, sizeof name) != 0)
    return nh_fail (err, errno, "unlock the pty");
  slave = open (name, O_RDWR | O_NOCTTY);
  if (slave < 0)
    return nh_fail (err, errno, "open %s", name);
  if (ioctl (master, TIOCSWINSZ, &ws) < 0)
    return nh_fail (err, errno, "set the window size of %s", name);
  /* /dev/console is the pty, as runc and crun bind it (not for exec: the
   * container has its console). */
  if (strcmp (op->args[3], "console") == 0 && bind_console (name, err) < 0)
    return -1;
  if (nh_send_fd (sock, master, err) < 0)
    return -1;
  close (master);
  close (sock);
  /* A session of its own with the pty as its controlling terminal: job
   * control and ^C work inside. */
  if (setsid () < 0)
    return nh_fail (err, errno, "setsid");
  if (ioctl (slave, TIOCSCTTY, 0) < 0)
    return nh_fail (err, errno, "ioctl TIOCSCTTY");
  for (int fd = 0; fd < 3; fd++)
    if (dup2 (slave, fd) < 0)
      return nh_fail (err, errno, "dup2 the pty onto fd %d", fd);
  if (slave > 2)
    close (slave);
  return 0;
}

/* sysfs can be mounted only with a network namespace of our own; otherwise
 * the host's /sys, bound (what Podman does for --network host). Read-only
 * unless MODE is rw (--privileged: then what the kernel lets the user write). */
static int
op_sys (const char *dst, const char *mode, struct nh_error *err)
{
  int rw = strcmp (mode, "rw") == 0;
  char cg[4096];

  if (mount ("sysfs", dst, "sysfs", (rw ? 0 : MS_RDONLY) | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0)
    {
      /* The container's own cgroup, read-only (unless --privileged), where
       * programs look for their limits (JVMs, Go's runtime). Best effort: a
       * view, not a limit. */
      snprintf (cg, sizeof cg, "%s/fs/cgroup", dst);
      if (cgroup_ns)
        mount ("cgroup2", cg, "cgroup2", (rw ? 0 : MS_RDONLY) | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
      return 0;
    }
  if (mount ("/sys", dst, NULL, MS_BIND | MS_REC, NULL) < 0)
    return nh_fail (err, errno, "bind /sys on %s", dst);
  return rw ? 0 : remount_ro (dst, err);
}

/* pivot_root(".", ".") then detaching the old root: no temporary directory
 * in the container's filesystem (the trick runc and crun use). */
static int
op_pivot (const char *root, struct nh_error *err)
{
  if (chdir (root) < 0)
    return nh_fail (err, errno, "chdir %s", root);
  if (syscall (SYS_pivot_root, ".", ".") < 0)
    return nh_fail (err, errno, "pivot_root %s", root);
  if (umount2 (".", MNT_DETACH) < 0)
    return nh_fail (err, errno, "detach the old root");
  return chdir ("/") < 0 ? nh_fail (err, errno, "chdir /") : 0;
}

/* A masked path reads as empty: /dev/null over a file, an empty read-only
 * tmpfs over a directory; a path that does not exist needs no mask. */
static int
op_mask (const char *path, struct nh_error *err)
{
  struct stat st;

  if (lstat (path, &st) < 0)
    return errno == ENOENT ? 0 : nh_fail (err, errno, "mask %s", path);
  if (S_ISDIR (st.st_mode))
    return mount ("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0") < 0
               ? nh_fail (err, errno, "mask %s", path)
               : 0;
  return mount ("/dev/null", path, NULL, MS_BIND, NULL) < 0 ? nh_fail (err, errno, "mask %s", path) : 0;
}

/* A decimal limit, or "unlimited". */
static int
parse_limit (const char *s, rlim_t *out)
{
  char *end;
  unsigned long long v;

  if (strcmp (s, "unlimited") == 0)
    {
      *out = RLIM_INFINITY;
      return 0;
    }
  errno = 0;
  v = strtoull (s, &end, 10);
  if (*s == '\0' || *s == '-' || *end != '\0' || errno != 0)
    return -1;
  *out = (rlim_t) v;
  return 0;
}

/* setrlimit: the limits are the host's (not namespaced), so a hard limit
 * above the current one is EPERM even for root of the user namespace. */
static int
op_rlimit (const struct nh_op *op, struct nh_error *err)
{
  unsigned long res;
  char *end;
  struct rlimit rl;

  res = strtoul (op->args[0], &end, 10);
  if (*op->args[0] == '\0' || *end != '\0' || parse_limit (op->args[1], &rl.rlim_cur) < 0
      || parse_limit (op->args[2], &rl.rlim_max) < 0)
    return nh_fail (err, EINVAL, "set rlimit %s to %s:%s", op->args[0], op->args[1], op->args[2]);
  if (setrlimit ((int) res, &rl) < 0)
    return nh_fail (err, errno, "set rlimit %lu to %s:%s", res, op->args[1], op->args[2]);
  return 0;
}

static int
op_groups (const char *list, struct nh_error *err)
{
  gid_t groups[64];
  size_t n = 0;
  const char *p = list;

  while (*p && n < sizeof groups / sizeof groups[0])
    {
      char *end;
      groups[n++] = (gid_t) strtoul (p, &end, 10);
      p = *end == ',' ? end + 1 : end;
      if (end == p && *p)
        return nh_fail (err, EINVAL, "setgroups: bad list %s", list);
    }
  return setgroups (n, groups) < 0 ? nh_fail (err, errno, "setgroups %s", list) : 0;
}

int
nh_container_op (struct nh_config *cfg, const struct nh_op *op, struct nh_error *err)
{
  const char *a = op->args[0], *b = op->args[1];

  switch (op->kind)
    {
    case NH_OP_UNSHARE:
      return op_unshare (cfg, a, err);
    case NH_OP_RM_AFTER:
      rm_after_dir = a;
      return 0;
    case NH_OP_MOUNT_PRIVATE:
      return mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ? nh_fail (err, errno, "make / private") : 0;
    case NH_OP_OVERLAY:
      return op_overlay (op, err);
    case NH_OP_FUSE_OVERLAY:
      return op_fuse_overlay (op, err);
    case NH_OP_COPY_ROOTFS:
      return nh_copy_rootfs (a, b, op->args[2], err);
    case NH_OP_INIT:
      return op_init (cfg, op, err);
    case NH_OP_TTY:
      return op_tty (op, err);
    case NH_OP_BIND:
      return op_bind (a, b, 0, err);
    case NH_OP_RO_BIND:
      return op_bind (a, b, 1, err);
    case NH_OP_REMOUNT_RO:
      return remount_ro (a, err);
    case NH_OP_TMPFS:
      if (make_target (a, 1, err) < 0)
        return -1;
      return mount ("tmpfs", a, "tmpfs", MS_NOSUID | MS_NODEV, b) < 0 ? nh_fail (err, errno, "mount tmpfs on %s", a)
                                                                       : 0;
    case NH_OP_PROC:
      if (make_target (a, 1, err) < 0)
        return -1;
      return mount ("proc", a, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0
                 ? nh_fail (err, errno, "mount proc on %s", a)
                 : 0;
    case NH_OP_DEV:
      return make_target (a, 1, err) < 0 ? -1 : op_dev (a, err);
    case NH_OP_SYS:
      return make_target (a, 1, err) < 0 ? -1 : op_sys (a, b, err);
    case NH_OP_PIVOT:
      return op_pivot (a, err);
    case NH_OP_MASK:
      return op_mask (a, err);
    case NH_OP_READONLY:
      if (access (a, F_OK) < 0)
        return errno == ENOENT ? 0 : nh_fail (err, errno, "read-only %s", a);
      return op_bind (a, a, 1, err);
    case NH_OP_MONITOR:
      monitor.dir = a;
      monitor.log = b[0] ? b : NULL;
      monitor.log_max = strtoul (op->args[2], NULL, 10);
      /* FLAGS: "-", or any of tty, stdin, wait-attach joined by commas. */
      monitor.tty = strstr (op->args[3], "tty") != NULL;
      monitor.keep_stdin = strstr (op->args[3], "stdin") != NULL;
      monitor.wait_attach = strstr (op->args[3], "wait-attach") != NULL;
      monitoring = 1;
      return 0;
    case NH_OP_JOIN:
      return nh_join (cfg, a, err);
    case NH_OP_CGROUP_WAIT:
      return op_cgroup_wait (cfg, err);
    case NH_OP_EXEC_FIFO:
      exec_fifo = open (a, O_PATH | O_CLOEXEC);
      return exec_fifo < 0 ? nh_fail (err, errno, "open %s", a) : 0;
    case NH_OP_SETNS:
      return op_setns (a, b, err);
    case NH_OP_EXEC_WAIT:
      return op_exec_wait (cfg, err);
    case NH_OP_RLIMIT:
      return op_rlimit (op, err);
    case NH_OP_HOSTNAME:
      return sethostname (a, strlen (a)) < 0 ? nh_fail (err, errno, "sethostname %s", a) : 0;
    case NH_OP_NO_NEW_PRIVS:
      return no_new_privs (err);
    case NH_OP_CAPS:
      return nh_caps_bounding (a, err);
    case NH_OP_SECCOMP:
      return nh_seccomp_load (op, err);
    case NH_OP_SYSCTL:
      return nh_sysctl (a, b, err);
    case NH_OP_GROUPS:
      return op_groups (a, err);
    default:
      return nh_fail (err, EINVAL, "unknown op %d", (int) op->kind);
    }
}
