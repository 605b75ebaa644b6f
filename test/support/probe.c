/* The security tests' program inside the container (crun's tests/init.c
 * idea): asks the kernel directly and prints what it answered, so that a test
 * reads the container's view from its output. Built static by the tests.
 *
 *   probe ids              uid=U euid=E, then the Cap*, Seccomp and NoNewPrivs
 *                          lines of /proc/self/status
 *   probe syscall NAME...  NAME=ok or NAME=ERRNO for each, with harmless
 *                          arguments: keyctl add_key bpf perf_event_open mount
 *                          unshare clone3 chown mkdir future
 *
 * It refuses to run outside a user namespace: some of these calls change
 * things for whoever may make them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int
ids (void)
{
  char line[256];
  FILE *f = fopen ("/proc/self/status", "r");

  printf ("uid=%d euid=%d\n", (int) getuid (), (int) geteuid ());
  if (!f)
    return 1;
  while (fgets (line, sizeof line, f))
    if (strncmp (line, "Cap", 3) == 0 || strncmp (line, "Seccomp:", 8) == 0 || strncmp (line, "NoNewPrivs:", 11) == 0)
      fputs (line, stdout);
  fclose (f);
  return 0;
}

static long
perf_open (void)
{
  struct perf_event_attr attr;

  memset (&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_TASK_CLOCK;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  return syscall (SYS_perf_event_open, &attr, 0, -1, -1, 0);
}

/* -1 with errno set, or something else on success. */
static long
call (const char *name)
{
  union bpf_attr battr;

  if (strcmp (name, "keyctl") == 0)
    return syscall (SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_PROCESS_KEYRING, 1);
  if (strcmp (name, "add_key") == 0)
    return syscall (SYS_add_key, "user", "probe", "x", 1, KEY_SPEC_PROCESS_KEYRING);
  if (strcmp (name, "bpf") == 0)
    {
      memset (&battr, 0, sizeof battr);
      battr.map_type = BPF_MAP_TYPE_ARRAY;
      battr.key_size = 4;
      battr.value_size = 4;
      battr.max_entries = 1;
      return syscall (SYS_bpf, BPF_MAP_CREATE, &battr, sizeof battr);
    }
  if (strcmp (name, "perf_event_open") == 0)
    return perf_open ();
  /* No such file system type: ENODEV where mounting is allowed, and nothing mounted. */
  if (strcmp (name, "mount") == 0)
    return mount ("probe", "/", "nook-probe-nofs", 0, NULL);
  if (strcmp (name, "unshare") == 0)
    return unshare (CLONE_NEWUTS);
  /* Too small a struct: EINVAL from the kernel, never a new process. */
  if (strcmp (name, "clone3") == 0)
    return syscall (SYS_clone3, NULL, 0);
  if (strcmp (name, "chown") == 0)
    return chown ("/probe-chown", 4242, 4242);
  if (strcmp (name, "mkdir") == 0)
    return mkdir ("/tmp/probe-dir", 0755);
  /* A number no kernel has yet. */
  if (strcmp (name, "future") == 0)
    return syscall (1000);
  errno = EINVAL;
  fprintf (stderr, "probe: unknown syscall %s\n", name);
  exit (2);
}

/* The initial user namespace maps all ids onto themselves. */
static int
in_user_namespace (void)
{
  char map[128] = { 0 };
  FILE *f = fopen ("/proc/self/uid_map", "r");
  unsigned long inside, outside, count;

  if (!f)
    return 0;
  if (!fgets (map, sizeof map, f))
    map[0] = '\0';
  fclose (f);
  if (sscanf (map, "%lu %lu %lu", &inside, &outside, &count) != 3)
    return 0;
  return !(inside == 0 && outside == 0 && count == 4294967295UL);
}

int
main (int argc, char **argv)
{
  if (!in_user_namespace ())
    {
      fprintf (stderr, "probe: runs only inside a user namespace\n");
      return 3;
    }
  if (argc >= 2 && strcmp (argv[1], "ids") == 0)
    return ids ();
  if (argc >= 3 && strcmp (argv[1], "syscall") == 0)
    {
      for (int i = 2; i < argc; i++)
        {
          long r = call (argv[i]);
          const char *e = r < 0 ? strerrorname_np (errno) : NULL;
          printf ("%s=%s\n", argv[i], r < 0 ? (e ? e : "?") : "ok");
        }
      return 0;
    }
  fprintf (stderr, "usage: probe ids | probe syscall NAME...\n");
  return 2;
}
