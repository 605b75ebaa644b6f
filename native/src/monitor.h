/* The monitor of a detached container: the waiting parent of the container's
 * pid 1 (container.c) that outlives nook, as Podman's conmon does. It holds
 * the container's stdout and stderr (pipes, or the master of its pty), writes
 * them to a log file in Podman's k8s-file format, and records pid 1 and its
 * exit status in the container's directory for nook to read. */
#ifndef NH_MONITOR_H
#define NH_MONITOR_H

#include "error.h"

#include <sys/types.h>

struct nh_monitor
{
  const char *dir;         /* where "pid" and "exit" are written */
  const char *log;         /* the log file, NULL for none */
  unsigned long log_max;   /* bytes before the log is rotated to LOG.1; 0: never */
  int tty;                 /* the command has a pty whose master comes over a socket (with a log) */
  int out[2], err[2], sock[2];
};

/* Before the fork: the pipes (or the socket for the pty's master). */
int nh_monitor_prepare (struct nh_monitor *m, struct nh_error *err);
/* In pid 1 after the fork: stdout and stderr onto the pipes, or the socket onto
 * fd 4 where the tty op sends the master. */
int nh_monitor_child (struct nh_monitor *m, struct nh_error *err);
/* In the waiting parent: records pid 1, copies its output to the log until
 * every writer is gone. */
void nh_monitor_run (struct nh_monitor *m, pid_t child);
/* Records the exit status (a wait status), with the time. */
void nh_monitor_finished (struct nh_monitor *m, int status);

#endif
