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
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define PTY_FD 4
/* Attached clients at once; one more is refused (closed at once). */
#define MAX_CLIENTS 8
/* How long start -a's monitor holds the output back for its client. */
#define ATTACH_WAIT_MS 30000
#define FRAME_HEAD 5
#define FRAME_MAX 65536

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

/* DIR/attach, listening. Named through /proc/self/fd: a store path can be
 * longer than sun_path holds (108 bytes), as conmon found. */
static int
attach_listen (struct nh_monitor *m, struct nh_error *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int dirfd = open (m->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);

  if (dirfd < 0)
    return nh_fail (err, errno, "open %s", m->dir);
  snprintf (addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/attach", dirfd);
  unlink (addr.sun_path);
  m->listen_fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (m->listen_fd < 0 || bind (m->listen_fd, (struct sockaddr *) &addr, sizeof addr) < 0
      || listen (m->listen_fd, MAX_CLIENTS) < 0)
    {
      int e = errno;
      close (dirfd);
      return nh_fail (err, e, "attach socket in %s", m->dir);
    }
  /* Only its owner may attach: the socket is as private as the log. */
  if (fchmodat (dirfd, "attach", 0600, 0) < 0)
    {
      int e = errno;
      close (dirfd);
      return nh_fail (err, e, "chmod the attach socket in %s", m->dir);
    }
  close (dirfd);
  return 0;
}

int
nh_monitor_prepare (struct nh_monitor *m, struct nh_error *err)
{
  m->out[0] = m->out[1] = m->err[0] = m->err[1] = m->sock[0] = m->sock[1] = -1;
  m->in[0] = m->in[1] = m->listen_fd = -1;
  m->oom = 0;
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, m->cg) < 0)
    return nh_fail (err, errno, "socketpair for the container's memory events");
  /* In the foreground (no log) the output stays nook's. */
  if (!m->log)
    return 0;
  if (attach_listen (m, err) < 0)
    return -1;
  if (m->keep_stdin && !m->tty && pipe2 (m->in, O_CLOEXEC) < 0)
    return nh_fail (err, errno, "pipe for the container's input");
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
  close (m->cg[0]);
  if (!m->log)
    return 0;
  close (m->listen_fd);
  if (m->in[0] >= 0)
    {
      close (m->in[1]);
      if (dup2 (m->in[0], STDIN_FILENO) < 0)
        return nh_fail (err, errno, "dup2 the container's input");
      close (m->in[0]);
    }
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
nh_monitor_send_events (struct nh_monitor *m)
{
  char line[4096], path[4200];
  FILE *f = fopen ("/proc/self/cgroup", "re");
  int fd = -1;

  /* cgroup v2: one line "0::PATH". Nothing to watch elsewhere. */
  if (f != NULL && fgets (line, sizeof line, f) != NULL && strncmp (line, "0::", 3) == 0)
    {
      line[strcspn (line, "\n")] = 0;
      snprintf (path, sizeof path, "/sys/fs/cgroup%s/memory.events", line + 3);
      fd = open (path, O_RDONLY | O_CLOEXEC);
    }
  if (f != NULL)
    fclose (f);
  if (fd >= 0)
    {
      struct nh_error ignored;
      nh_send_fd (m->cg[1], fd, &ignored);
      close (fd);
    }
  close (m->cg[1]);
  m->cg[1] = -1;
}

/* memory.events says how often the OOM killer killed in the cgroup. */
static void
read_oom (struct nh_monitor *m, int fd)
{
  char buf[512];
  ssize_t n = pread (fd, buf, sizeof buf - 1, 0);
  const char *k;

  if (n <= 0)
    return;
  buf[n] = 0;
  k = strstr (buf, "oom_kill ");
  if (k != NULL && strtoul (k + 9, NULL, 10) > 0)
    m->oom = 1;
}

/* The attached clients, and what their input left for the container. */
struct client
{
  int fd;
  size_t len;
  unsigned char buf[FRAME_HEAD + FRAME_MAX];
};
static struct client clients[MAX_CLIENTS];
static int stdin_fd = -1;       /* the stdin pipe's write end, or the pty's master */
static int close_stdin_after;   /* a client asked for end of file once pending is written */
static size_t pending_len;
static unsigned char pending[FRAME_MAX];

static void
drop_client (struct client *c)
{
  close (c->fd);
  c->fd = -1;
  c->len = 0;
}

/* One frame to every client. A client that takes nothing for 5 s (stopped,
 * or gone without closing) is dropped rather than stall the container. */
static void
broadcast (int type, const char *data, size_t len)
{
  unsigned char head[FRAME_HEAD] = { (unsigned char) type };
  uint32_t n = htonl ((uint32_t) len);

  memcpy (head + 1, &n, 4);
  for (int i = 0; i < MAX_CLIENTS; i++)
    {
      struct iovec iov[2] = { { head, FRAME_HEAD }, { (void *) data, len } };
      struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
      size_t left = FRAME_HEAD + len;
      if (clients[i].fd < 0)
        continue;
      while (left > 0)
        {
          ssize_t w = sendmsg (clients[i].fd, &msg, MSG_NOSIGNAL);
          if (w < 0 && errno == EINTR)
            continue;
          if (w <= 0)
            {
              drop_client (&clients[i]);
              break;
            }
          left -= (size_t) w;
          while (msg.msg_iovlen > 0 && (size_t) w >= msg.msg_iov[0].iov_len)
            {
              w -= (ssize_t) msg.msg_iov[0].iov_len;
              msg.msg_iov++;
              msg.msg_iovlen--;
            }
          if (msg.msg_iovlen > 0)
            {
              msg.msg_iov[0].iov_base = (char *) msg.msg_iov[0].iov_base + w;
              msg.msg_iov[0].iov_len -= (size_t) w;
            }
        }
    }
}

static void
accept_client (int listen_fd)
{
  struct timeval timeout = { .tv_sec = 5 };
  int fd = accept4 (listen_fd, NULL, NULL, SOCK_CLOEXEC);

  if (fd < 0)
    return;
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (clients[i].fd < 0)
      {
        clients[i].fd = fd;
        clients[i].len = 0;
        return;
      }
  close (fd);
}

/* Writes what is pending to the container's stdin, as far as it takes it now. */
static void
flush_stdin (void)
{
  while (pending_len > 0 && stdin_fd >= 0)
    {
      ssize_t w = write (stdin_fd, pending, pending_len);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0 && errno == EAGAIN)
        return;
      if (w <= 0)
        {
          /* Nobody reads the container's stdin any more: the input goes. */
          pending_len = 0;
          break;
        }
      memmove (pending, pending + w, pending_len - (size_t) w);
      pending_len -= (size_t) w;
    }
  if (pending_len == 0 && close_stdin_after && stdin_fd >= 0)
    {
      close (stdin_fd);
      stdin_fd = -1;
    }
}

/* The complete frames in a client's buffer: input queued for stdin (only
 * while nothing is pending, so input from one client stays in order),
 * end of input, window sizes. */
static void
client_frames (struct nh_monitor *m, struct client *c, int master)
{
  size_t off = 0;

  while (c->len - off >= FRAME_HEAD && pending_len == 0)
    {
      unsigned char *f = c->buf + off;
      uint32_t n;
      memcpy (&n, f + 1, 4);
      n = ntohl (n);
      if (n > FRAME_MAX)
        {
          drop_client (c);
          return;
        }
      if (c->len - off < FRAME_HEAD + n)
        break;
      if (f[0] == NH_ATTACH_STDIN && stdin_fd >= 0)
        {
          memcpy (pending, f + FRAME_HEAD, n);
          pending_len = n;
        }
      else if (f[0] == NH_ATTACH_CLOSE_STDIN && !m->tty)
        close_stdin_after = 1;
      else if (f[0] == NH_ATTACH_RESIZE && n == 4 && master >= 0)
        {
          struct winsize ws = { .ws_row = (unsigned short) (f[5] << 8 | f[6]),
                                .ws_col = (unsigned short) (f[7] << 8 | f[8]) };
          ioctl (master, TIOCSWINSZ, &ws);
        }
      off += FRAME_HEAD + n;
      flush_stdin ();
    }
  memmove (c->buf, c->buf + off, c->len - off);
  c->len -= off;
}

static void
client_read (struct nh_monitor *m, struct client *c, int master)
{
  ssize_t n = read (c->fd, c->buf + c->len, sizeof c->buf - c->len);

  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n <= 0)
    {
      drop_client (c);
      return;
    }
  c->len += (size_t) n;
  client_frames (m, c, master);
}

static long
ms_since (const struct timespec *t0)
{
  struct timespec t;

  clock_gettime (CLOCK_MONOTONIC, &t);
  return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

enum
{
  P_OUT,
  P_ERR,
  P_SOCK,
  P_LISTEN,
  P_STDIN,
  P_CG,
  P_EVENTS,
  P_CHILD,
  P_CLIENTS
};

void
nh_monitor_run (struct nh_monitor *m, pid_t child)
{
  char text[160], ts[64];
  /* The output (stdout or the pty's master, stderr), the socket the master
   * comes over, the attach socket, the container's stdin, the clients. */
  struct pollfd pfd[P_CLIENTS + MAX_CLIENTS];
  static char buf[65536];
  struct timespec t0;
  int master = -1, waiting = m->wait_attach;
  int cg = m->cg[0], events = -1;
  /* Readable once pid 1 has exited: the loop runs until then, and until its
   * output is all read. */
  int child_fd = (int) syscall (SYS_pidfd_open, child, 0);

  close (m->cg[1]);
  close (m->out[1]);
  close (m->err[1]);
  close (m->sock[1]);
  close (m->in[0]);
  stdin_fd = m->in[1];
  if (stdin_fd >= 0)
    fcntl (stdin_fd, F_SETFL, O_NONBLOCK);
  for (int i = 0; i < MAX_CLIENTS; i++)
    clients[i].fd = -1;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  now_rfc3339 (ts, sizeof ts);
  snprintf (text, sizeof text, "{\"pid\":%d,\"startedAt\":\"%s\"}\n", (int) child, ts);
  write_file (m->dir, "pid", text);
  if (m->log)
    log_open (m);
  int fds[3] = { m->out[0], m->err[0], m->sock[0] };
  while (fds[P_OUT] >= 0 || fds[P_ERR] >= 0 || fds[P_SOCK] >= 0 || child_fd >= 0)
    {
      int timeout = -1;
      if (waiting)
        {
          long left = ATTACH_WAIT_MS - ms_since (&t0);
          for (int i = 0; i < MAX_CLIENTS; i++)
            if (clients[i].fd >= 0)
              left = 0;
          waiting = left > 0;
          timeout = waiting ? (int) left : -1;
        }
      /* While start -a waits for its client the output stays in the pipes. */
      for (int i = 0; i < 3; i++)
        pfd[i] = (struct pollfd){ .fd = waiting && i != P_SOCK ? -1 : fds[i], .events = POLLIN };
      pfd[P_LISTEN] = (struct pollfd){ .fd = m->listen_fd, .events = POLLIN };
      pfd[P_STDIN] = (struct pollfd){ .fd = pending_len > 0 ? stdin_fd : -1, .events = POLLOUT };
      pfd[P_CG] = (struct pollfd){ .fd = cg, .events = POLLIN };
      pfd[P_EVENTS] = (struct pollfd){ .fd = events, .events = POLLPRI };
      pfd[P_CHILD] = (struct pollfd){ .fd = child_fd, .events = POLLIN };
      for (int i = 0; i < MAX_CLIENTS; i++)
        pfd[P_CLIENTS + i] = (struct pollfd){ .fd = pending_len > 0 ? -1 : clients[i].fd, .events = POLLIN };
      if (poll (pfd, P_CLIENTS + MAX_CLIENTS, timeout) < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      if (pfd[P_SOCK].fd >= 0 && pfd[P_SOCK].revents)
        {
          /* The master, or nothing when the command failed before its tty op. */
          fds[P_OUT] = master = nh_recv_fd (fds[P_SOCK]);
          close (fds[P_SOCK]);
          fds[P_SOCK] = -1;
          if (master >= 0)
            {
              fcntl (master, F_SETFL, O_NONBLOCK);
              stdin_fd = master;
            }
        }
      if (pfd[P_LISTEN].revents & POLLIN)
        accept_client (m->listen_fd);
      if (pfd[P_CG].revents)
        {
          /* memory.events, or nothing: no cgroup v2, or pid 1 failed first. */
          events = nh_recv_fd (cg);
          close (cg);
          cg = -1;
        }
      if (events >= 0 && pfd[P_EVENTS].revents)
        read_oom (m, events);
      if (pfd[P_CHILD].revents)
        {
          close (child_fd);
          child_fd = -1;
        }
      if (pfd[P_STDIN].revents)
        flush_stdin ();
      for (int i = 0; i < MAX_CLIENTS; i++)
        if (clients[i].fd >= 0 && pfd[P_CLIENTS + i].fd >= 0 && pfd[P_CLIENTS + i].revents)
          client_read (m, &clients[i], master);
      /* Frames left behind while input was pending. */
      for (int i = 0; i < MAX_CLIENTS && pending_len == 0; i++)
        if (clients[i].fd >= 0 && clients[i].len > 0)
          client_frames (m, &clients[i], master);
      for (int i = 0; i < 2; i++)
        {
          ssize_t n;
          if (pfd[i].fd < 0 || !pfd[i].revents)
            continue;
          n = read (fds[i], buf, sizeof buf);
          if (n > 0)
            {
              log_chunk (m, i == P_OUT ? "stdout" : "stderr", buf, (size_t) n);
              broadcast (i == P_OUT ? NH_ATTACH_STDOUT : NH_ATTACH_STDERR, buf, (size_t) n);
            }
          else if (n == 0 || (errno != EINTR && errno != EAGAIN))
            {
              /* EOF, or EIO from a master whose slaves are all closed. */
              if (fds[i] == stdin_fd)
                stdin_fd = -1;
              close (fds[i]);
              fds[i] = -1;
            }
        }
    }
  if (events >= 0)
    {
      /* An OOM kill just before the end may not have woken us yet. */
      read_oom (m, events);
      close (events);
    }
  if (cg >= 0)
    close (cg);
}

void
nh_monitor_finished (struct nh_monitor *m, int status)
{
  char text[160], ts[64];
  int code = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);

  now_rfc3339 (ts, sizeof ts);
  snprintf (text, sizeof text, "{\"exitCode\":%d,\"signal\":%d,\"finishedAt\":\"%s\"%s}\n", code,
            WIFSIGNALED (status) ? WTERMSIG (status) : 0, ts, m->oom ? ",\"oomKilled\":true" : "");
  write_file (m->dir, "exit", text);
  if (log_fd >= 0)
    close (log_fd);
  /* Clients read the exit once their connection ends. */
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (clients[i].fd >= 0)
      drop_client (&clients[i]);
  if (m->listen_fd >= 0)
    {
      char path[4096];
      snprintf (path, sizeof path, "%s/attach", m->dir);
      unlink (path);
    }
}
