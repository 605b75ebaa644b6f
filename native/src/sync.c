#include "sync.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int
write_all (int fd, const char *buf, size_t len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, buf, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      buf += n;
      len -= (size_t) n;
    }
  return 0;
}

int
nh_sync_request (int fd, const char *type, pid_t pid, struct nh_error *err)
{
  char msg[64];
  int len = snprintf (msg, sizeof msg, "{\"type\":\"%s\",\"pid\":%d}\n", type, (int) pid);

  if (write_all (fd, msg, (size_t) len) < 0)
    return nh_fail (err, errno, "send %s request to nook", type);
  return 0;
}

/* Reads one line; only WORD lets the helper go on. End-of-file means nook
 * went away (killed, or it gave up after a failed step and said why). */
int
nh_sync_wait (int fd, const char *word, const char *what, struct nh_error *err)
{
  char line[32];
  size_t used = 0;

  while (used < sizeof line - 1)
    {
      ssize_t n = read (fd, line + used, 1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return nh_fail (err, errno, "wait for nook to %s", what);
      if (n == 0)
        return nh_fail (err, 0, "wait for nook to %s: nook closed the sync socket", what);
      if (line[used] == '\n')
        break;
      used++;
    }
  line[used] = '\0';
  if (strcmp (line, word) != 0)
    return nh_fail (err, EPROTO, "wait for nook to %s: unexpected message", what);
  return 0;
}

void
nh_sync_report (int fd, const struct nh_error *failure)
{
  char step[600];
  char text[300];
  char msg[1024];
  int len;

  nh_json_escape (step, sizeof step, failure->step);
  nh_json_escape (text, sizeof text, failure->errnum ? strerror (failure->errnum) : "");
  len = snprintf (msg, sizeof msg,
                  "{\"type\":\"error\",\"step\":\"%s\",\"errno\":%d,\"message\":\"%s\"}\n",
                  step, failure->errnum, text);
  (void) write_all (fd, msg, (size_t) len);
}
