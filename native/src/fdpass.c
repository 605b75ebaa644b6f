#define _GNU_SOURCE
#include "fdpass.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

union control
{
  char buf[CMSG_SPACE (sizeof (int))];
  struct cmsghdr align;
};

int
nh_send_fd (int sock, int fd, struct nh_error *err)
{
  char byte = 'T';
  struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
  union control control;
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                        .msg_controllen = sizeof control.buf };
  struct cmsghdr *c;

  memset (control.buf, 0, sizeof control.buf);
  c = CMSG_FIRSTHDR (&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (c), &fd, sizeof (int));
  while (sendmsg (sock, &msg, MSG_NOSIGNAL) < 0)
    if (errno != EINTR)
      return nh_fail (err, errno, "send the pty");
  return 0;
}

int
nh_recv_fd (int sock)
{
  char byte;
  struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
  union control control;
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                        .msg_controllen = sizeof control.buf };
  struct cmsghdr *c;
  int fd = -1;

  if (recvmsg (sock, &msg, MSG_CMSG_CLOEXEC) <= 0)
    return -1;
  c = CMSG_FIRSTHDR (&msg);
  if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
    memcpy (&fd, CMSG_DATA (c), sizeof fd);
  return fd;
}
