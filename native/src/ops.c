#define _GNU_SOURCE
#include "ops.h"
#include "sync.h"
#include "container.h"
#include "security.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
parse_ulong (const char *s, unsigned long *out)
{
  char *end;

  if (*s < '0' || *s > '9')
    return -1;
  errno = 0;
  *out = strtoul (s, &end, 10);
  return (errno || end == s) ? -1 : (int) (end - s);
}

/* "UID:GID", both decimal. */
static int
parse_ids (const char *s, struct nh_op *op)
{
  int n = parse_ulong (s, &op->uid);

  if (n < 0 || s[n] != ':')
    return -1;
  s += n + 1;
  n = parse_ulong (s, &op->gid);
  return (n < 0 || s[n] != '\0') ? -1 : 0;
}

static int
add_op (struct nh_config *cfg, enum nh_op_kind kind, struct nh_error *err)
{
  if (cfg->n_ops == NH_MAX_OPS)
    return nh_fail (err, E2BIG, "parse arguments: more than %d ops", NH_MAX_OPS);
  memset (&cfg->ops[cfg->n_ops], 0, sizeof cfg->ops[0]);
  cfg->ops[cfg->n_ops].kind = kind;
  return cfg->n_ops++;
}

/* The options that take a fixed number of words after them. */
static const struct
{
  const char *name;
  enum nh_op_kind kind;
  int n_args;
} OPTIONS[] = {
  { "--userns", NH_OP_USERNS, 0 },
  { "--net-wait", NH_OP_NET_WAIT, 1 },
  { "--setgroups-clear", NH_OP_SETGROUPS_CLEAR, 0 },
  { "--die-with-parent", NH_OP_DIE_WITH_PARENT, 0 },
  { "--hup-with-parent", NH_OP_HUP_WITH_PARENT, 0 },
  { "--setid", NH_OP_SETID, 1 },
  { "--chdir", NH_OP_CHDIR, 1 },
  { "--unshare", NH_OP_UNSHARE, 1 },
  { "--rm-after", NH_OP_RM_AFTER, 1 },
  { "--mount-private", NH_OP_MOUNT_PRIVATE, 0 },
  { "--overlay", NH_OP_OVERLAY, 5 },
  { "--fuse-overlay", NH_OP_FUSE_OVERLAY, 6 },
  { "--copy-rootfs", NH_OP_COPY_ROOTFS, 3 },
  { "--bind", NH_OP_BIND, 2 },
  { "--ro-bind", NH_OP_RO_BIND, 2 },
  { "--remount-ro", NH_OP_REMOUNT_RO, 1 },
  { "--tmpfs", NH_OP_TMPFS, 2 },
  { "--proc", NH_OP_PROC, 1 },
  { "--dev", NH_OP_DEV, 1 },
  { "--sys", NH_OP_SYS, 2 },
  { "--pivot", NH_OP_PIVOT, 1 },
  { "--mask", NH_OP_MASK, 1 },
  { "--readonly", NH_OP_READONLY, 1 },
  { "--hostname", NH_OP_HOSTNAME, 1 },
  { "--rlimit", NH_OP_RLIMIT, 3 },
  { "--monitor", NH_OP_MONITOR, 4 },
  { "--join", NH_OP_JOIN, 1 },
  { "--no-new-privs", NH_OP_NO_NEW_PRIVS, 0 },
  { "--caps", NH_OP_CAPS, 1 },
  { "--seccomp", NH_OP_SECCOMP, 2 },
  { "--sysctl", NH_OP_SYSCTL, 2 },
  { "--groups", NH_OP_GROUPS, 1 },
  { "--init", NH_OP_INIT, 0 },
  { "--tty", NH_OP_TTY, 4 },
  { "--cgroup-wait", NH_OP_CGROUP_WAIT, 0 },
  { "--exec-fifo", NH_OP_EXEC_FIFO, 1 },
  { "--setns", NH_OP_SETNS, 2 },
  { "--exec-wait", NH_OP_EXEC_WAIT, 0 },
};

/* Parses one option at argv[i]; returns how many words it used, or -1. */
static int
parse_one (char **argv, int i, int argc, struct nh_config *cfg, struct nh_error *err)
{
  const char *opt = argv[i];
  unsigned long fd;
  int k;

  if (strcmp (opt, "--sync-fd") == 0)
    {
      const char *val = i + 1 < argc ? argv[i + 1] : "";
      if (parse_ulong (val, &fd) != (int) strlen (val) || fd > 1024)
        return nh_fail (err, 0, "parse arguments: --sync-fd wants a file descriptor, got %s", val);
      cfg->sync_fd = (int) fd;
      return 2;
    }
  for (size_t o = 0; o < sizeof OPTIONS / sizeof OPTIONS[0]; o++)
    {
      if (strcmp (opt, OPTIONS[o].name) != 0)
        continue;
      if (i + OPTIONS[o].n_args >= argc)
        return nh_fail (err, 0, "parse arguments: %s wants %d value(s)", opt, OPTIONS[o].n_args);
      if ((k = add_op (cfg, OPTIONS[o].kind, err)) < 0)
        return -1;
      for (int a = 0; a < OPTIONS[o].n_args; a++)
        cfg->ops[k].args[a] = argv[i + 1 + a];
      cfg->ops[k].path = cfg->ops[k].args[0];
      if (OPTIONS[o].kind == NH_OP_SETID && parse_ids (argv[i + 1], &cfg->ops[k]) < 0)
        return nh_fail (err, 0, "parse arguments: --setid wants UID:GID, got %s", argv[i + 1]);
      return 1 + OPTIONS[o].n_args;
    }
  return nh_fail (err, 0, "parse arguments: unknown option: %s", opt);
}

int
nh_parse_args (int argc, char **argv, struct nh_config *cfg, struct nh_error *err)
{
  int i = 1;

  cfg->sync_fd = -1;
  cfg->n_ops = 0;
  cfg->argv = NULL;
  while (i < argc && strcmp (argv[i], "--") != 0)
    {
      int used = parse_one (argv, i, argc, cfg, err);
      if (used < 0)
        return -1;
      i += used;
    }
  if (i + 1 >= argc)
    return nh_fail (err, 0, "parse arguments: no command after --");
  cfg->argv = &argv[i + 1];
  return 0;
}

/* Step 1 of DESIGN.md section 1: the unshare must happen in this
 * single-threaded process (unshare(2) refuses CLONE_NEWUSER in a threaded
 * one). Only our own uid is mapped until nook runs newuidmap/newgidmap on us
 * (they are setuid and check /etc/subuid), so we wait for its word. */
static int
op_userns (struct nh_config *cfg, struct nh_error *err)
{
  if (cfg->sync_fd < 0)
    return nh_fail (err, EINVAL, "unshare user namespace: --userns needs --sync-fd (nook writes the id maps)");
  if (unshare (CLONE_NEWUSER) < 0)
    return nh_fail (err, errno, "unshare user namespace");
  if (nh_sync_request (cfg->sync_fd, "map", getpid (), err) < 0)
    return -1;
  return nh_sync_wait (cfg->sync_fd, "mapped", "map the user namespace", err);
}

/* A new network namespace has only lo: nook attaches pasta or slirp4netns to
 * it (they join it through our pid) before anything runs inside. */
static int
op_net_wait (struct nh_config *cfg, const char *pid_file, struct nh_error *err)
{
  char text[32] = { 0 };
  int fd;
  long pid;

  if (cfg->sync_fd < 0)
    return nh_fail (err, EINVAL, "--net-wait needs --sync-fd");
  if (nh_sync_request (cfg->sync_fd, "net", getpid (), err) < 0
      || nh_sync_wait (cfg->sync_fd, "net-ready", "attach the network", err) < 0)
    return -1;
  /* The network helper's pid, written by nook or by pasta itself: held as a
   * pidfd, so that the container's end ends it too (container.c). */
  fd = open (pid_file, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return nh_fail (err, errno, "open %s", pid_file);
  if (read (fd, text, sizeof text - 1) < 0)
    {
      close (fd);
      return nh_fail (err, errno, "read %s", pid_file);
    }
  close (fd);
  pid = strtol (text, NULL, 10);
  if (pid <= 0)
    return nh_fail (err, EINVAL, "read %s: no pid", pid_file);
  nh_container_end_with ((pid_t) pid);
  return 0;
}

/* The kernel sends SIGKILL when the thread that spawned us exits (nook's
 * main thread: libuv spawns from the loop thread), so a nook killed with -9
 * takes its helper and the helper's command with it (bubblewrap's
 * --die-with-parent). The death signal survives execve. If nook died before
 * the prctl, our parent is already someone else: exit now. */
static int
op_die_with_parent (int sig, struct nh_error *err)
{
  pid_t parent = getppid ();

  if (prctl (PR_SET_PDEATHSIG, sig) < 0)
    return nh_fail (err, errno, "prctl PR_SET_PDEATHSIG");
  if (getppid () != parent || parent == 1)
    return nh_fail (err, ESRCH, "nook exited before the helper started");
  return 0;
}

/* Group first: after setresuid to a non-root id we would lose CAP_SETGID. */
static int
op_setid (const struct nh_op *op, struct nh_error *err)
{
  if (setresgid ((gid_t) op->gid, (gid_t) op->gid, (gid_t) op->gid) < 0)
    return nh_fail (err, errno, "setresgid %lu", op->gid);
  if (setresuid ((uid_t) op->uid, (uid_t) op->uid, (uid_t) op->uid) < 0)
    return nh_fail (err, errno, "setresuid %lu", op->uid);
  return 0;
}

static int
run_op (struct nh_config *cfg, const struct nh_op *op, struct nh_error *err)
{
  switch (op->kind)
    {
    case NH_OP_USERNS:
      return op_userns (cfg, err);
    case NH_OP_NET_WAIT:
      return op_net_wait (cfg, op->path, err);
    case NH_OP_SETGROUPS_CLEAR:
      return setgroups (0, NULL) < 0 ? nh_fail (err, errno, "setgroups") : 0;
    case NH_OP_DIE_WITH_PARENT:
      return op_die_with_parent (SIGKILL, err);
    case NH_OP_HUP_WITH_PARENT:
      return op_die_with_parent (SIGHUP, err);
    case NH_OP_SETID:
      return op_setid (op, err);
    case NH_OP_CHDIR:
      return chdir (op->path) < 0 ? nh_fail (err, errno, "chdir %s", op->path) : 0;
    default:
      return nh_container_op (cfg, op, err);
    }
}

int
nh_ops_run (struct nh_config *cfg, struct nh_error *err)
{
  if (cfg->sync_fd >= 0 && fcntl (cfg->sync_fd, F_SETFD, FD_CLOEXEC) < 0)
    return nh_fail (err, errno, "set close-on-exec on the sync socket");
  /* Files named by ops that run after pivot_root are read while the host's
   * paths are still ours. */
  for (int i = 0; i < cfg->n_ops; i++)
    if (cfg->ops[i].kind == NH_OP_SECCOMP && nh_seccomp_read (&cfg->ops[i], err) < 0)
      return -1;
  for (int i = 0; i < cfg->n_ops; i++)
    if (run_op (cfg, &cfg->ops[i], err) < 0)
      return -1;
  return 0;
}
