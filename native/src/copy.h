/* The "copy" storage driver: the rootfs of last resort, for hosts where
 * neither kernel overlayfs nor fuse-overlayfs mounts in a user namespace. */
#ifndef NH_COPY_H
#define NH_COPY_H

#include "error.h"

/* Builds the merged tree of LOWERS in TARGET, an existing directory. LOWERS is
 * what overlayfs's lowerdir gets: colon-separated, relative to DIR, the top
 * layer first. Runs as root of the user namespace (the layers' files belong
 * to subordinate ids). */
int nh_copy_layers (const char *dir, const char *lowers, const char *target, struct nh_error *err);

/* --copy-rootfs DIR LOWERS TARGET: nh_copy_layers, then TARGET bound onto
 * itself, so that it is a mount point as an overlay would be (pivot_root and
 * a read-only remount need one). */
int nh_copy_rootfs (const char *dir, const char *lowers, const char *target, struct nh_error *err);

#endif
