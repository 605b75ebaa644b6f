/* Passing a file descriptor over a unix socket (SCM_RIGHTS, unix(7)): the tty
 * op hands a pty's master to nook or to a detached container's monitor. */
#ifndef NH_FDPASS_H
#define NH_FDPASS_H

#include "error.h"

/* Sends FD with one byte of data. */
int nh_send_fd (int sock, int fd, struct nh_error *err);
/* The descriptor waiting on SOCK (close-on-exec), or -1. */
int nh_recv_fd (int sock);

#endif
