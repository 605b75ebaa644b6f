/* The helper's interface is an op list in argv, bubblewrap style: parsing
 * appends ops in the order given, nh_ops_run() walks them once. Policy (which
 * ids, which namespaces) is decided by nook in TypeScript; this file only
 * carries it out. */
#ifndef NH_OPS_H
#define NH_OPS_H

#include "error.h"

enum nh_op_kind
{
  NH_OP_USERNS,         /* --userns: unshare a user namespace, have nook map it */
  NH_OP_NET_WAIT,       /* --net-wait PIDFILE: have nook attach a network helper to our network namespace;
                           that helper (its pid in PIDFILE) is ended with the container */
  NH_OP_SETGROUPS_CLEAR, /* --setgroups-clear: drop supplementary groups */
  NH_OP_DIE_WITH_PARENT, /* --die-with-parent: SIGKILL when nook dies */
  NH_OP_HUP_WITH_PARENT, /* --hup-with-parent: SIGHUP when nook dies; a waiting parent passes it on to pid 1
                            and kills it 2 s later, so that it can still clean up (--rm-after) */
  NH_OP_SETID,          /* --setid UID:GID: setresgid then setresuid */
  NH_OP_CHDIR,          /* --chdir DIR */
  /* Container setup (container.c), in the order nook gives them: */
  NH_OP_UNSHARE,        /* --unshare mount,pid,ipc,uts,net: new namespaces; with pid, fork: the
                           child goes on as pid 1, this process waits and passes its status on */
  NH_OP_RM_AFTER,       /* --rm-after DIR: the waiting parent removes DIR when the child is gone */
  NH_OP_MOUNT_PRIVATE,  /* --mount-private: no mount events leak back to the host */
  NH_OP_OVERLAY,        /* --overlay DIR LOWERS UPPER WORK TARGET: overlayfs, LOWERS relative to DIR */
  NH_OP_FUSE_OVERLAY,   /* --fuse-overlay DIR LOWERS UPPER WORK TARGET OPTS: the same with fuse-overlayfs,
                           OPTS (may be empty) added to its -o: uidmapping=...,gidmapping=... */
  NH_OP_COPY_ROOTFS,    /* --copy-rootfs DIR LOWERS TARGET: the layers copied into TARGET, which is then
                           bound onto itself (copy.c): the driver that needs nothing from the host */
  NH_OP_BIND,           /* --bind SRC DST */
  NH_OP_RO_BIND,        /* --ro-bind SRC DST */
  NH_OP_REMOUNT_RO,     /* --remount-ro DST: make a mount read-only (keeping its locked flags) */
  NH_OP_TMPFS,          /* --tmpfs DST OPTIONS */
  NH_OP_PROC,           /* --proc DST */
  NH_OP_DEV,            /* --dev DST: a tmpfs with the host's safe devices, pts, shm, mqueue */
  NH_OP_SYS,            /* --sys DST ro|rw: sysfs (read-only unless rw), or the host's /sys bound */
  NH_OP_PIVOT,          /* --pivot NEWROOT */
  NH_OP_MASK,           /* --mask PATH: /dev/null over a file, an empty read-only tmpfs over a dir */
  NH_OP_READONLY,       /* --readonly PATH: bound read-only onto itself, when it exists */
  NH_OP_HOSTNAME,       /* --hostname NAME */
  NH_OP_MONITOR,        /* --monitor DIR LOG LOGMAX tty|-: the pid namespace's waiting parent records pid 1
                           and its exit in DIR, logs its output to LOG (k8s-file, rotated past LOGMAX bytes) */
  NH_OP_JOIN,           /* --join PID: setns into PID's namespaces (user first), then fork */
  NH_OP_RLIMIT,         /* --rlimit RESOURCE SOFT HARD: setrlimit, values decimal or "unlimited" */
  NH_OP_NO_NEW_PRIVS,   /* --no-new-privs */
  NH_OP_CAPS,           /* --caps HEX: the bounding set to keep; inheritable and ambient emptied */
  NH_OP_SECCOMP,        /* --seccomp FILE FLAGS: load a compiled filter (read before the first op) */
  NH_OP_SYSCTL,         /* --sysctl NAME VALUE: write /proc/sys/NAME (dots become slashes) */
  NH_OP_GROUPS,         /* --groups G1,G2,... (empty: none) */
  NH_OP_INIT,           /* --init: pid 1 forks the command and reaps zombies until it exits; it takes
                           the --caps, --seccomp and --no-new-privs that follow for itself too */
  NH_OP_CGROUP_WAIT,    /* --cgroup-wait: have nook place this process (its host pid) in the container's
                           cgroup; in pid 1 of a monitored container, its memory.events goes to the monitor */
  NH_OP_SETNS,          /* --setns TYPE PATH: join the namespace at PATH (net, ipc, uts, cgroup, user) */
  NH_OP_EXEC_FIFO,      /* --exec-fifo PATH: hold PATH (O_PATH), reachable after pivot_root */
  NH_OP_EXEC_WAIT,      /* --exec-wait: tell nook the container is created, then wait until `start` opens
                           the --exec-fifo for reading (runc's exec.fifo): OCI create and start */
  NH_OP_TTY,            /* --tty SOCK ROWS COLS console|-: a pty from the container's devpts, its master sent
                           over SOCK, its slave stdio, /dev/console (with console) and the controlling
                           terminal of a new session */
};

#define NH_OP_MAX_ARGS 6

struct nh_op
{
  enum nh_op_kind kind;
  const char *path;                    /* the first argument */
  const char *args[NH_OP_MAX_ARGS];    /* all of them */
  unsigned long uid, gid;
  void *data;                          /* --seccomp: the filter, read before the ops run */
  size_t size;
};

#define NH_MAX_OPS 256

struct nh_config
{
  int sync_fd;          /* -1 when run by hand without nook */
  struct nh_op ops[NH_MAX_OPS];
  int n_ops;
  char **argv;          /* the command to exec, NULL-terminated */
};

/* Returns -1 with err filled (errnum 0) on a malformed command line. */
int nh_parse_args (int argc, char **argv, struct nh_config *cfg, struct nh_error *err);
int nh_ops_run (struct nh_config *cfg, struct nh_error *err);

#endif
