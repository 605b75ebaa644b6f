/* A detached container's monitor (monitor.h): a poll loop over the
 * container's output and two small files. Kept to what conmon does for one
 * container, so that it costs little memory per container. */
#define _GNU_SOURCE
#include "monitor.h"
#include "fdpass.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PTY_FD 4

/* RFC 3339 with nanoseconds, UTC: the k8s-file timestamp. */
static void
now_rfc3339 (char *buf, size_t n)
{
  struct timespec ts;
  struct tm tm;
  size_t k;

  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  k = strftime (buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (buf + k, n - k, ".%09ldZ", ts.tv_nsec);
}

/* DIR/NAME written whole or not at all: a temp file renamed over it. */
static void
write_file (const char *dir, const char *name, const char *text)
{
  char path[4096], tmp[4096];
  size_t len = strlen (text);
  int fd;

  snprintf (path, sizeof path, "%s/%s", dir, name);
  snprintf (tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
  fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return;
  if (write (fd, text, len) == (ssize_t) len && fsync (fd) == 0)
    {
      close (fd);
      rename (tmp, path);
      return;
    }
  close (fd);
  unlink (tmp);
}

static int log_fd = -1;
static unsigned long log_size;

static void
log_open (struct nh_monitor *m)
{
  struct stat st;

  log_fd = open (m->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  log_size = log_fd >= 0 && fstat (log_fd, &st) == 0 ? (unsigned long) st.st_size : 0;
}

/* Past the cap, the log moves to LOG.1 (dropping the one before) and a new
 * one starts: at most twice the cap on disk, the recent lines kept. */
static void
log_rotate (struct nh_monitor *m)
{
  char old[4096];

  snprintf (old, sizeof old, "%s.1", m->log);
  close (log_fd);
  rename (m->log, old);
  log_open (m);
}

/* One k8s-file entry: "TIME STREAM F|P TEXT\n"; P marks a piece of a line
 * that the next entry of the stream continues. */
static void
log_entry (struct nh_monitor *m, const char *stream, int partial, const char *data, size_t len)
{
  char head[128];
  struct iovec iov[3];
  int n;

  if (log_fd < 0)
    return;
  now_rfc3339 (head, 64);
  n = (int) strlen (head);
  n += snprintf (head + n, sizeof head - (size_t) n, " %s %c ", stream, partial ? 'P' : 'F');
  iov[0] = (struct iovec){ .iov_base = head, .iov_len = (size_t) n };
  iov[1] = (struct iovec){ .iov_base = (void *) data, .iov_len = len };
  iov[2] = (struct iovec){ .iov_base = (void *) "\n", .iov_len = 1 };
  if (writev (log_fd, iov, 3) > 0)
    log_size += (unsigned long) n + len + 1;
  if (m->log_max && log_size > m->log_max)
    log_rotate (m);
}

static void
log_chunk (struct nh_monitor *m, const char *stream, const char *buf, size_t len)
{
  const char *p = buf, *end = buf + len, *nl;

  /* A pty turns "\n" into "\r\n": the line ends at the "\n", the "\r" goes. */
  while ((nl = memchr (p, '\n', (size_t) (end - p))) != NULL)
    {
      size_t l = (size_t) (nl - p);
      if (m->tty && l > 0 && p[l - 1] == '\r')
        l--;
      log_entry (m, stream, 0, p, l);
      p = nl + 1;
    }
  if (p < end)
    log_entry (m, stream, 1, p, (size_t) (end - p));
}

int
nh_monitor_prepare (struct nh_monitor *m, struct nh_error *err)
{
  m->out[0] = m->out[1] = m->err[0] = m->err[1] = m->sock[0] = m->sock[1] = -1;
  /* In the foreground (no log) the output stays nook's. */
  if (!m->log)
    return 0;
  if (m->tty)
    return socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, m->sock) < 0
               ? nh_fail (err, errno, "socketpair for the container's terminal")
               : 0;
  if (pipe2 (m->out, O_CLOEXEC) < 0 || pipe2 (m->err, O_CLOEXEC) < 0)
    return nh_fail (err, errno, "pipe for the container's output");
  return 0;
}

int
nh_monitor_child (struct nh_monitor *m, struct nh_error *err)
{
  if (!m->log)
    return 0;
  if (m->tty)
    {
      close (m->sock[0]);
      if (dup2 (m->sock[1], PTY_FD) < 0)
        return nh_fail (err, errno, "dup2 the terminal's socket");
      close (m->sock[1]);
      return 0;
    }
  close (m->out[0]);
  close (m->err[0]);
  if (dup2 (m->out[1], STDOUT_FILENO) < 0 || dup2 (m->err[1], STDERR_FILENO) < 0)
    return nh_fail (err, errno, "dup2 the container's output");
  close (m->out[1]);
  close (m->err[1]);
  return 0;
}

void
nh_monitor_run (struct nh_monitor *m, pid_t child)
{
  char text[160], ts[64];
  /* pfd[0]: stdout or the pty's master; pfd[1]: stderr; pfd[2]: the socket the master comes over. */
  struct pollfd pfd[3] = { { .fd = m->out[0], .events = POLLIN },
                           { .fd = m->err[0], .events = POLLIN },
                           { .fd = m->sock[0], .events = POLLIN } };
  static char buf[65536];

  close (m->out[1]);
  close (m->err[1]);
  close (m->sock[1]);
  now_rfc3339 (ts, sizeof ts);
  snprintf (text, sizeof text, "{\"pid\":%d,\"startedAt\":\"%s\"}\n", (int) child, ts);
  write_file (m->dir, "pid", text);
  if (m->log)
    log_open (m);
  while (pfd[0].fd >= 0 || pfd[1].fd >= 0 || pfd[2].fd >= 0)
    {
      if (poll (pfd, 3, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      if (pfd[2].fd >= 0 && pfd[2].revents)
        {
          /* The master, or nothing when the command failed before its tty op. */
          pfd[0].fd = nh_recv_fd (pfd[2].fd);
          close (pfd[2].fd);
          pfd[2].fd = -1;
        }
      for (int i = 0; i < 2; i++)
        {
          ssize_t n;
          if (pfd[i].fd < 0 || !pfd[i].revents)
            continue;
          n = read (pfd[i].fd, buf, sizeof buf);
          if (n > 0)
            log_chunk (m, i == 0 ? "stdout" : "stderr", buf, (size_t) n);
          else if (n == 0 || errno != EINTR)
            {
              /* EOF, or EIO from a master whose slaves are all closed. */
              close (pfd[i].fd);
              pfd[i].fd = -1;
            }
        }
    }
}

void
nh_monitor_finished (struct nh_monitor *m, int status)
{
  char text[160], ts[64];
  int code = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);

  now_rfc3339 (ts, sizeof ts);
  snprintf (text, sizeof text, "{\"exitCode\":%d,\"signal\":%d,\"finishedAt\":\"%s\"}\n", code,
            WIFSIGNALED (status) ? WTERMSIG (status) : 0, ts);
  write_file (m->dir, "exit", text);
  if (log_fd >= 0)
    close (log_fd);
}
