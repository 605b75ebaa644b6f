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
  int keep_stdin;          /* -i without -t: a pipe to the container's stdin, fed by attached clients */
  int wait_attach;         /* start -a: no output is read before the first client (or 30 s) */
  int out[2], err[2], sock[2], in[2];
  int cg[2];               /* pid 1 sends its cgroup's memory.events over this once it is placed */
  int oom;                 /* the OOM killer killed in the container's cgroup (memory.events' oom_kill) */
  int listen_fd;           /* DIR/attach, the attach socket (see attach protocol below) */
};

/* The attach protocol, on a stream socket at DIR/attach: frames of a type
 * byte, a big-endian 32-bit length and that many bytes. The monitor sends
 * NH_ATTACH_STDOUT and NH_ATTACH_STDERR (a pty's output is stdout) and closes
 * the connection once the exit is recorded; a client sends NH_ATTACH_STDIN,
 * NH_ATTACH_CLOSE_STDIN (the container's stdin reaches end of file) and
 * NH_ATTACH_RESIZE (rows and cols, two big-endian 16-bit numbers). */
enum
{
  NH_ATTACH_STDIN = 0,
  NH_ATTACH_STDOUT = 1,
  NH_ATTACH_STDERR = 2,
  NH_ATTACH_CLOSE_STDIN = 3,
  NH_ATTACH_RESIZE = 4,
};

/* Before the fork: the pipes (or the socket for the pty's master) and the attach socket. */
int nh_monitor_prepare (struct nh_monitor *m, struct nh_error *err);
/* In pid 1 after the fork: stdout and stderr onto the pipes (stdin too with
 * keep_stdin), or the socket onto fd 4 where the tty op sends the master. */
int nh_monitor_child (struct nh_monitor *m, struct nh_error *err);
/* In pid 1, once nook has placed it in its cgroup: memory.events to the monitor. */
void nh_monitor_send_events (struct nh_monitor *m);
/* In the waiting parent: records pid 1, copies its output to the log and to
 * attached clients, and their input to the container, until every writer of
 * the output is gone. */
void nh_monitor_run (struct nh_monitor *m, pid_t child);
/* Records the exit status (a wait status), with the time, then lets the
 * attached clients go. */
void nh_monitor_finished (struct nh_monitor *m, int status);

#endif
