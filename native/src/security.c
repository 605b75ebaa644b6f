#define _GNU_SOURCE
#include "security.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int
parse_mask (const char *hex, unsigned long long *mask, struct nh_error *err)
{
  char *end;

  errno = 0;
  *mask = strtoull (hex, &end, 16);
  if (*hex == '\0' || *end != '\0' || errno != 0)
    return nh_fail (err, EINVAL, "capabilities: bad mask %s", hex);
  return 0;
}

/* glibc has no capget/capset wrappers; version 3 is two 32-bit halves. */
static int
caps_get (struct __user_cap_data_struct data[2], struct nh_error *err)
{
  struct __user_cap_header_struct head = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };

  return syscall (SYS_capget, &head, data) < 0 ? nh_fail (err, errno, "capget") : 0;
}

static int
caps_set (struct __user_cap_data_struct data[2], struct nh_error *err)
{
  struct __user_cap_header_struct head = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };

  return syscall (SYS_capset, &head, data) < 0 ? nh_fail (err, errno, "capset") : 0;
}

/* Inheritable stays empty, as in Docker and Podman since CVE-2022-24769 and
 * CVE-2022-27651: with the set in it, a non-root user who execs a program
 * with inheritable file capabilities would gain them. */
int
nh_caps_bounding (const char *hex, struct nh_error *err)
{
  struct __user_cap_data_struct data[2];
  unsigned long long keep;

  if (parse_mask (hex, &keep, err) < 0)
    return -1;
  /* PR_CAPBSET_READ fails with EINVAL past the last capability the kernel has. */
  for (int cap = 0; cap < 64; cap++)
    {
      int has = prctl (PR_CAPBSET_READ, cap, 0, 0, 0);
      if (has < 0)
        break;
      if (has == 1 && !(keep & (1ULL << cap)) && prctl (PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
        return nh_fail (err, errno, "drop capability %d from the bounding set", cap);
    }
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return nh_fail (err, errno, "clear the ambient capabilities");
  if (caps_get (data, err) < 0)
    return -1;
  data[0].inheritable = data[1].inheritable = 0;
  return caps_set (data, err);
}

int
nh_caps_limit_self (const char *hex, struct nh_error *err)
{
  struct __user_cap_data_struct data[2];
  unsigned long long keep;

  if (parse_mask (hex, &keep, err) < 0 || caps_get (data, err) < 0)
    return -1;
  for (int half = 0; half < 2; half++)
    {
      unsigned int bits = (unsigned int) (keep >> (32 * half));
      data[half].permitted &= bits;
      data[half].effective &= bits;
      data[half].inheritable = 0;
    }
  return caps_set (data, err);
}

int
nh_seccomp_read (struct nh_op *op, struct nh_error *err)
{
  struct stat st;
  int fd = open (op->args[0], O_RDONLY | O_CLOEXEC);
  ssize_t n;

  if (fd < 0)
    return nh_fail (err, errno, "open the seccomp filter %s", op->args[0]);
  if (fstat (fd, &st) < 0 || st.st_size <= 0 || st.st_size % sizeof (struct sock_filter) != 0
      || st.st_size > (off_t) (BPF_MAXINSNS * sizeof (struct sock_filter)))
    {
      close (fd);
      return nh_fail (err, EINVAL, "read the seccomp filter %s: not a filter", op->args[0]);
    }
  op->data = malloc ((size_t) st.st_size);
  if (!op->data)
    {
      close (fd);
      return nh_fail (err, ENOMEM, "read the seccomp filter %s", op->args[0]);
    }
  n = read (fd, op->data, (size_t) st.st_size);
  close (fd);
  if (n != st.st_size)
    return nh_fail (err, n < 0 ? errno : EIO, "read the seccomp filter %s", op->args[0]);
  op->size = (size_t) n;
  return 0;
}

/* Without no_new_privs this needs CAP_SYS_ADMIN (seccomp(2)): nook orders it
 * before the capabilities go and the user changes, and the filter must then
 * allow what the remaining steps call (capset, setresuid, prctl, execve...). */
int
nh_seccomp_load (const struct nh_op *op, struct nh_error *err)
{
  struct sock_fprog prog = {
    .len = (unsigned short) (op->size / sizeof (struct sock_filter)),
    .filter = (struct sock_filter *) op->data,
  };
  unsigned long flags = strtoul (op->args[1], NULL, 10);

  if (!op->data)
    return nh_fail (err, EINVAL, "load the seccomp filter %s: not read", op->args[0]);
  if (syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog) < 0)
    return nh_fail (err, errno, "load the seccomp filter");
  return 0;
}

int
nh_sysctl (const char *name, const char *value, struct nh_error *err)
{
  char path[512];
  size_t len = strlen (value);
  int fd, n;

  n = snprintf (path, sizeof path, "/proc/sys/%s", name);
  if (n < 0 || (size_t) n >= sizeof path)
    return nh_fail (err, ENAMETOOLONG, "sysctl %s", name);
  for (char *p = path + strlen ("/proc/sys/"); *p; p++)
    if (*p == '.')
      *p = '/';
  fd = open (path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return nh_fail (err, errno, "sysctl %s", name);
  if (write (fd, value, len) != (ssize_t) len)
    {
      int e = errno;
      close (fd);
      return nh_fail (err, e, "sysctl %s=%s", name, value);
    }
  close (fd);
  return 0;
}
