/* The "copy" storage driver (DESIGN.md section 3): the image's layers copied
 * bottom-up into the container's merged/ directory, whiteouts applied as
 * overlayfs applies them, then merged/ bound onto itself. Slow and costly in
 * disk, but it needs nothing from the host beyond the user namespace.
 *
 * Safety: every file is reached relative to an open directory with
 * O_NOFOLLOW, and whatever stands where an entry goes is removed first unless
 * both are directories. A symlink from a lower layer ("etc -> /host/etc") is
 * replaced by what a higher layer puts there, never written through, so no
 * write leaves TARGET. The unpacker checked the layers already; this holds
 * without it.
 *
 * Whiteouts come in the two forms the unpacker writes (src/rootfs/unpack.ts):
 * a 0/0 character device named like what it hides, opaque directories marked
 * with the xattr user.overlay.opaque (or trusted.overlay.opaque) = "y"; or,
 * "keep", the OCI files .wh.NAME and .wh..wh..opq. A layer's whiteouts in a
 * directory are applied before its entries there are copied: they hide what
 * the layers below have, never what the same layer brings (image-spec
 * layer.md, "Whiteouts"). Markers are never copied.
 *
 * Metadata goes on in the unpacker's order: data, owner (chown(2) clears
 * setuid and security.capability), xattrs, mode, times; a directory's mode
 * and times after its contents (entries arriving change its mtime, and a
 * 0555 one must stay writable meanwhile). The overlay's own xattrs
 * (user.overlay.*, trusted.overlay.*) stay behind; the others, among them
 * user.containers.override_stat, come along as they are.
 *
 * Hard links: within a layer, a file with more than one link is copied once
 * and linked after that (its first copy found by the source's device and
 * inode). Links across layers do not exist: each layer is its own tree. */
#define _GNU_SOURCE
#include "copy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define WH_PREFIX ".wh."
#define WH_PREFIX_LEN 4
#define WH_OPAQUE ".wh..wh..opq"

struct link_slot
{
  dev_t dev;
  ino_t ino;
  char *path; /* the first copy, relative to the target; NULL: a free slot */
};

struct copy_ctx
{
  struct nh_error *err;
  int root;             /* the target */
  char path[PATH_MAX];  /* the entry at hand as the container sees it: "/etc/passwd", "" for the root */
  size_t len;
  struct link_slot *links; /* this layer's files with more than one link (open addressing) */
  size_t n_links, cap_links;
};

/* One buffer each, for the whole copy: the helper has no threads. */
static char xattr_names[XATTR_LIST_MAX];
static char xattr_value[XATTR_SIZE_MAX];
static char data_buf[128 * 1024];

static int
fail_at (struct copy_ctx *c, int errnum, const char *step)
{
  return nh_fail (c->err, errnum, "copy rootfs: %s %s", step, c->len ? c->path : "/");
}

static int
path_push (struct copy_ctx *c, const char *name, size_t *saved)
{
  size_t n = strlen (name);

  *saved = c->len;
  if (c->len + 1 + n >= sizeof c->path)
    return nh_fail (c->err, ENAMETOOLONG, "copy rootfs: %s/%s", c->path, name);
  c->path[c->len++] = '/';
  memcpy (c->path + c->len, name, n + 1);
  c->len += n;
  return 0;
}

static void
path_pop (struct copy_ctx *c, size_t saved)
{
  c->len = saved;
  c->path[saved] = '\0';
}

/* ------------------------------------------------------------ removal */

static int remove_at (struct copy_ctx *c, int dir, const char *name);

/* Empties an open directory, never following a symlink in it. */
static int
empty_dir (struct copy_ctx *c, int fd)
{
  int own = fcntl (fd, F_DUPFD_CLOEXEC, 0);
  DIR *d = own < 0 ? NULL : fdopendir (own);
  struct dirent *de;
  size_t saved;
  int r = 0;

  if (!d)
    {
      int e = errno;
      if (own >= 0)
        close (own);
      return fail_at (c, e, "read directory");
    }
  while (r == 0 && (errno = 0, de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if ((r = path_push (c, de->d_name, &saved)) == 0)
        r = remove_at (c, dirfd (d), de->d_name);
      path_pop (c, saved);
    }
  if (r == 0 && errno != 0)
    r = fail_at (c, errno, "read directory");
  closedir (d);
  return r;
}

/* Removes NAME in DIR (c->path names it), a directory with all it holds;
 * nothing there is fine. */
static int
remove_at (struct copy_ctx *c, int dir, const char *name)
{
  struct stat st;
  int fd, r;

  if (fstatat (dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : fail_at (c, errno, "stat");
  if (!S_ISDIR (st.st_mode))
    return unlinkat (dir, name, 0) < 0 ? fail_at (c, errno, "remove") : 0;
  fd = openat (dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return fail_at (c, errno, "open");
  r = empty_dir (c, fd);
  close (fd);
  if (r == 0 && unlinkat (dir, name, AT_REMOVEDIR) < 0)
    return fail_at (c, errno, "remove");
  return r;
}

/* ------------------------------------------------------------ whiteouts */

/* The name a whiteout entry hides; NULL when the entry is none. */
static const char *
whiteout_target (int dir, const struct dirent *de)
{
  const char *t = de->d_name + WH_PREFIX_LEN;
  struct stat st;

  if (strncmp (de->d_name, WH_PREFIX, WH_PREFIX_LEN) == 0)
    /* .wh..wh..opq (and aufs's .wh..wh.*) hide no name of their own. */
    return strncmp (t, WH_PREFIX, WH_PREFIX_LEN) == 0 || !*t || !strcmp (t, ".") || !strcmp (t, "..") ? NULL : t;
  if (de->d_type != DT_CHR && de->d_type != DT_UNKNOWN)
    return NULL;
  if (fstatat (dir, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return NULL;
  return S_ISCHR (st.st_mode) && st.st_rdev == 0 ? de->d_name : NULL;
}

static int
is_opaque (int dir)
{
  char v[2];
  struct stat st;

  if (fgetxattr (dir, "user.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y')
    return 1;
  if (fgetxattr (dir, "trusted.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y')
    return 1;
  return fstatat (dir, WH_OPAQUE, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* What a layer's directory hides of the layers below: everything when it is
 * opaque, else the names of its whiteouts. D is left rewound. */
static int
apply_whiteouts (struct copy_ctx *c, DIR *d, int dst)
{
  struct dirent *de;
  const char *hidden;
  size_t saved;
  int r = 0;

  if (is_opaque (dirfd (d)))
    return empty_dir (c, dst);
  while (r == 0 && (errno = 0, de = readdir (d)) != NULL)
    {
      if ((hidden = whiteout_target (dirfd (d), de)) == NULL)
        continue;
      if ((r = path_push (c, hidden, &saved)) == 0)
        r = remove_at (c, dst, hidden);
      path_pop (c, saved);
    }
  if (r == 0 && errno != 0)
    r = fail_at (c, errno, "read directory");
  rewinddir (d);
  return r;
}

/* ------------------------------------------------------------ hard links */

static struct link_slot *
link_slot (struct copy_ctx *c, dev_t dev, ino_t ino)
{
  size_t mask = c->cap_links - 1;
  size_t i = (size_t) ((ino ^ (dev << 7)) * UINT64_C (0x9E3779B97F4A7C15)) & mask;

  while (c->links[i].path && !(c->links[i].dev == dev && c->links[i].ino == ino))
    i = (i + 1) & mask;
  return &c->links[i];
}

/* Keeps the load under a half, so that a probe always ends on a free slot. */
static int
links_grow (struct copy_ctx *c)
{
  struct link_slot *old = c->links;
  size_t old_cap = c->cap_links, cap = old_cap ? old_cap * 2 : 64;

  if ((c->n_links + 1) * 2 < old_cap)
    return 0;
  c->links = calloc (cap, sizeof *c->links);
  if (!c->links)
    {
      c->links = old;
      return fail_at (c, ENOMEM, "remember the hard link");
    }
  c->cap_links = cap;
  for (size_t i = 0; i < old_cap; i++)
    if (old[i].path)
      *link_slot (c, old[i].dev, old[i].ino) = old[i];
  free (old);
  return 0;
}

static int
links_remember (struct copy_ctx *c, const struct stat *st)
{
  struct link_slot *slot;

  if (links_grow (c) < 0)
    return -1;
  slot = link_slot (c, st->st_dev, st->st_ino);
  if (slot->path)
    return 0;
  slot->path = strdup (c->path + 1);
  if (!slot->path)
    return fail_at (c, ENOMEM, "remember the hard link");
  slot->dev = st->st_dev;
  slot->ino = st->st_ino;
  c->n_links++;
  return 0;
}

static void
links_forget (struct copy_ctx *c)
{
  for (size_t i = 0; i < c->cap_links; i++)
    free (c->links[i].path);
  free (c->links);
  c->links = NULL;
  c->n_links = c->cap_links = 0;
}

/* The directory holding PATH (relative to the target), walked one component
 * at a time with O_NOFOLLOW; *BASE is set to the last component. */
static int
open_parent (int root, const char *path, char *buf, size_t size, const char **base)
{
  int fd = root;
  char *p = buf, *slash;

  if (strlen (path) >= size)
    return -1;
  strcpy (buf, path);
  while ((slash = strchr (p, '/')) != NULL)
    {
      int next;
      *slash = '\0';
      next = openat (fd, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd != root)
        close (fd);
      if (next < 0)
        return -1;
      fd = next;
      p = slash + 1;
    }
  *base = p;
  return fd == root ? fcntl (root, F_DUPFD_CLOEXEC, 0) : fd;
}

/* Links NAME in DST to the copy of the same source inode made earlier in this
 * layer; -1 when there is none or linking failed (then NAME is copied). */
static int
link_known (struct copy_ctx *c, const struct stat *st, int dst, const char *name)
{
  struct link_slot *slot;
  char buf[PATH_MAX];
  const char *base;
  int parent, r;

  if (c->cap_links == 0)
    return -1;
  slot = link_slot (c, st->st_dev, st->st_ino);
  if (!slot->path)
    return -1;
  parent = open_parent (c->root, slot->path, buf, sizeof buf, &base);
  if (parent < 0)
    return -1;
  /* Flags 0: the last component is linked, not followed. */
  r = linkat (parent, base, dst, name, 0);
  close (parent);
  return r;
}

/* ------------------------------------------------------------ metadata */

static int
is_overlay_xattr (const char *name)
{
  return strncmp (name, "user.overlay.", 13) == 0 || strncmp (name, "trusted.overlay.", 16) == 0;
}

/* A directory merged into keeps only the xattrs of the layer on top, as the
 * overlay shows only the top one's. */
static int
drop_user_xattrs (struct copy_ctx *c, int out)
{
  ssize_t len = flistxattr (out, xattr_names, sizeof xattr_names);

  if (len < 0)
    return errno == ENOTSUP ? 0 : fail_at (c, errno, "list the xattrs of");
  for (char *n = xattr_names; n < xattr_names + len; n += strlen (n) + 1)
    if (strncmp (n, "user.", 5) == 0 && fremovexattr (out, n) < 0 && errno != ENODATA)
      return fail_at (c, errno, "remove the xattrs of");
  return 0;
}

/* A name outside user.* that cannot be set (security.selinux, which the
 * policy gives the copy anyway) is left out: the unpacker only writes user.*
 * and security.capability, which root of the namespace may set. */
static int
copy_xattrs (struct copy_ctx *c, int in, int out)
{
  ssize_t len = flistxattr (in, xattr_names, sizeof xattr_names), vlen;

  if (len < 0)
    return errno == ENOTSUP ? 0 : fail_at (c, errno, "list the xattrs of");
  for (char *n = xattr_names; n < xattr_names + len; n += strlen (n) + 1)
    {
      if (is_overlay_xattr (n))
        continue;
      vlen = fgetxattr (in, n, xattr_value, sizeof xattr_value);
      if (vlen < 0)
        return fail_at (c, errno, "read the xattrs of");
      if (fsetxattr (out, n, xattr_value, (size_t) vlen, 0) < 0
          && (strncmp (n, "user.", 5) == 0 || (errno != EPERM && errno != ENOTSUP && errno != EACCES)))
        return fail_at (c, errno, "set the xattrs of");
    }
  return 0;
}

/* Owner, then xattrs (chown clears security.capability). */
static int
set_owner_xattrs (struct copy_ctx *c, int in, int out, const struct stat *st, int merged)
{
  if (fchown (out, st->st_uid, st->st_gid) < 0)
    return fail_at (c, errno, "chown");
  if (merged && drop_user_xattrs (c, out) < 0)
    return -1;
  return copy_xattrs (c, in, out);
}

/* Mode after the owner (chown clears setuid), times last. */
static int
set_mode_times (struct copy_ctx *c, int out, const struct stat *st)
{
  const struct timespec times[2] = { st->st_atim, st->st_mtim };

  if (fchmod (out, st->st_mode & 07777) < 0)
    return fail_at (c, errno, "chmod");
  return futimens (out, times) < 0 ? fail_at (c, errno, "set the times of") : 0;
}

/* For what cannot be opened (symlinks, fifos): by name in the directory it
 * was just made in. user.* xattrs are not allowed on them, so none to copy. */
static int
set_meta_at (struct copy_ctx *c, int dst, const char *name, const struct stat *st)
{
  const struct timespec times[2] = { st->st_atim, st->st_mtim };

  if (fchownat (dst, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
    return fail_at (c, errno, "chown");
  /* fchmodat follows a symlink; this is the node made a moment ago, never one. */
  if (!S_ISLNK (st->st_mode) && fchmodat (dst, name, st->st_mode & 07777, 0) < 0)
    return fail_at (c, errno, "chmod");
  return utimensat (dst, name, times, AT_SYMLINK_NOFOLLOW) < 0 ? fail_at (c, errno, "set the times of") : 0;
}

/* ------------------------------------------------------------ entries */

static int
copy_by_read (struct copy_ctx *c, int in, int out)
{
  ssize_t n, w;

  while ((n = read (in, data_buf, sizeof data_buf)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return fail_at (c, errno, "read");
      for (ssize_t off = 0; off < n; off += w)
        if ((w = write (out, data_buf + off, (size_t) (n - off))) < 0)
          {
            if (errno != EINTR)
              return fail_at (c, errno, "write");
            w = 0;
          }
    }
  return 0;
}

/* copy_file_range shares extents where the file system can (btrfs, XFS);
 * read and write where it cannot work at all (EXDEV before Linux 5.19 across
 * file systems, EINVAL or EOPNOTSUPP on some). Both go on from the offsets
 * the other left. */
static int
copy_data (struct copy_ctx *c, int in, int out)
{
  ssize_t n;

  while ((n = copy_file_range (in, NULL, out, NULL, 1 << 30, 0)) > 0)
    ;
  if (n == 0)
    return 0;
  if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
    return fail_at (c, errno, "copy");
  return copy_by_read (c, in, out);
}

static int
copy_file (struct copy_ctx *c, int src, int dst, const char *name, const struct stat *st)
{
  int in, out, r;

  in = openat (src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0)
    return fail_at (c, errno, "open");
  out = openat (dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0)
    {
      int e = errno;
      close (in);
      return fail_at (c, e, "create");
    }
  r = copy_data (c, in, out);
  if (r == 0)
    r = set_owner_xattrs (c, in, out, st, 0);
  if (r == 0)
    r = set_mode_times (c, out, st);
  close (in);
  close (out);
  return r;
}

static int
copy_symlink (struct copy_ctx *c, int src, int dst, const char *name, const struct stat *st)
{
  char target[PATH_MAX];
  ssize_t n = readlinkat (src, name, target, sizeof target);

  if (n < 0 || (size_t) n == sizeof target)
    return fail_at (c, n < 0 ? errno : ENAMETOOLONG, "read the symlink");
  target[n] = '\0';
  if (symlinkat (target, dst, name) < 0)
    return fail_at (c, errno, "symlink");
  return set_meta_at (c, dst, name, st);
}

/* Fifos and sockets (device nodes other than whiteouts the unpacker never
 * writes: mknod of one fails here as it would have there). */
static int
copy_node (struct copy_ctx *c, int dst, const char *name, const struct stat *st)
{
  if (mknodat (dst, name, (st->st_mode & S_IFMT) | 0600, st->st_rdev) < 0)
    return fail_at (c, errno, "mknod");
  return set_meta_at (c, dst, name, st);
}

static int copy_dir (struct copy_ctx *c, int src, int dst, int fresh);

/* A directory: made (or merged into, MERGE), owner and xattrs first, its
 * contents, then mode and times. */
static int
copy_subdir (struct copy_ctx *c, int src, int dst, const char *name, const struct stat *st, int merge)
{
  int in, out, r;

  if (!merge && mkdirat (dst, name, 0700) < 0)
    return fail_at (c, errno, "mkdir");
  in = openat (src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0)
    return fail_at (c, errno, "open");
  out = openat (dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (out < 0)
    {
      int e = errno;
      close (in);
      return fail_at (c, e, "open");
    }
  /* copy_dir takes IN over (it becomes the directory stream). */
  if ((r = set_owner_xattrs (c, in, out, st, merge)) < 0)
    close (in);
  else
    r = copy_dir (c, in, out, !merge);
  if (r == 0)
    r = set_mode_times (c, out, st);
  close (out);
  return r;
}

/* A directory over a directory merges; anything else clears the way first. */
static int
place_entry (struct copy_ctx *c, int src, int dst, const char *name, const struct stat *st)
{
  struct stat old;
  int merge, r;

  merge = S_ISDIR (st->st_mode) && fstatat (dst, name, &old, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR (old.st_mode);
  if (!merge && remove_at (c, dst, name) < 0)
    return -1;
  if (S_ISDIR (st->st_mode))
    return copy_subdir (c, src, dst, name, st, merge);
  if (st->st_nlink > 1 && link_known (c, st, dst, name) == 0)
    return 0;
  if (S_ISREG (st->st_mode))
    r = copy_file (c, src, dst, name, st);
  else if (S_ISLNK (st->st_mode))
    r = copy_symlink (c, src, dst, name, st);
  else
    r = copy_node (c, dst, name, st);
  return r == 0 && st->st_nlink > 1 ? links_remember (c, st) : r;
}

static int
copy_entry (struct copy_ctx *c, int src, int dst, const char *name)
{
  struct stat st;
  size_t saved;
  int r;

  if (path_push (c, name, &saved) < 0)
    return -1;
  if (fstatat (src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    r = fail_at (c, errno, "stat");
  else if (S_ISCHR (st.st_mode) && st.st_rdev == 0)
    r = 0; /* a whiteout, applied already */
  else
    r = place_entry (c, src, dst, name, &st);
  path_pop (c, saved);
  return r;
}

/* One layer's directory SRC into DST. FRESH: DST was made for it, so nothing
 * below is there to hide. SRC is taken over and closed. */
static int
copy_dir (struct copy_ctx *c, int src, int dst, int fresh)
{
  DIR *d = fdopendir (src);
  struct dirent *de;
  int r;

  if (!d)
    {
      int e = errno;
      close (src);
      return fail_at (c, e, "read directory");
    }
  r = fresh ? 0 : apply_whiteouts (c, d, dst);
  while (r == 0 && (errno = 0, de = readdir (d)) != NULL)
    {
      const char *n = de->d_name;
      if (strcmp (n, ".") == 0 || strcmp (n, "..") == 0 || strncmp (n, WH_PREFIX, WH_PREFIX_LEN) == 0)
        continue;
      r = copy_entry (c, dirfd (d), dst, n);
    }
  if (r == 0 && errno != 0)
    r = fail_at (c, errno, "read directory");
  closedir (d);
  return r;
}

/* The root keeps the target's own owner and mode, as an overlay's root has
 * its upper directory's: nook made it for the container. */
static int
copy_layer (struct copy_ctx *c, int base, const char *layer, int first)
{
  int src = openat (base, layer, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int r;

  if (src < 0)
    return nh_fail (c->err, errno, "copy rootfs: open layer %s", layer);
  path_pop (c, 0);
  r = copy_dir (c, src, c->root, first);
  links_forget (c);
  return r;
}

/* Splits LIST at its colons in place; returns the number of names, or -1. */
static int
split_lowers (char *list, char ***names)
{
  size_t n = 1;

  for (char *p = list; *p; p++)
    n += *p == ':';
  *names = calloc (n, sizeof **names);
  if (!*names)
    return -1;
  n = 0;
  for (char *p = strtok (list, ":"); p; p = strtok (NULL, ":"))
    (*names)[n++] = p;
  return (int) n;
}

int
nh_copy_layers (const char *dir, const char *lowers, const char *target, struct nh_error *err)
{
  struct copy_ctx c = { .err = err, .root = -1 };
  char *list = strdup (lowers), **names = NULL;
  int n = list ? split_lowers (list, &names) : -1, base = -1, r = -1;

  if (n < 0)
    nh_fail (err, ENOMEM, "copy rootfs: layer list");
  else if ((base = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    nh_fail (err, errno, "copy rootfs: open %s", dir);
  else if ((c.root = open (target, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
    nh_fail (err, errno, "copy rootfs: open %s", target);
  else
    {
      /* Bottom-up: the list has the top layer first. */
      r = 0;
      for (int i = n - 1; r == 0 && i >= 0; i--)
        r = copy_layer (&c, base, names[i], i == n - 1);
    }
  if (c.root >= 0)
    close (c.root);
  if (base >= 0)
    close (base);
  free (names);
  free (list);
  return r;
}

int
nh_copy_rootfs (const char *dir, const char *lowers, const char *target, struct nh_error *err)
{
  if (nh_copy_layers (dir, lowers, target, err) < 0)
    return -1;
  if (mount (target, target, NULL, MS_BIND, NULL) < 0)
    return nh_fail (err, errno, "bind %s onto itself", target);
  return 0;
}
