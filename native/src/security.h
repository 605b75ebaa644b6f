/* The container's confinement: capabilities, the seccomp filter, namespaced
 * sysctls. What to allow is nook's policy (src/runtime/capabilities.ts,
 * src/runtime/seccomp/); these carry it out. */
#ifndef NH_SECURITY_H
#define NH_SECURITY_H

#include "error.h"
#include "ops.h"

/* --caps HEX: the capabilities (bit N = capability N) to keep in the bounding
 * set; every other one is dropped from it, and the inheritable and ambient
 * sets are emptied. Permitted and effective stay as they are: the exec that
 * follows computes them from the bounding set (all of it for root, none for
 * another user), and the steps before it still need them. */
int nh_caps_bounding (const char *hex, struct nh_error *err);

/* Permitted and effective cut to HEX, for a process that never execs (--init). */
int nh_caps_limit_self (const char *hex, struct nh_error *err);

/* --seccomp FILE FLAGS: FILE holds a compiled filter (struct sock_filter, host
 * byte order), read into memory before any op runs, as the root is the
 * container's by the time it is loaded. */
int nh_seccomp_read (struct nh_op *op, struct nh_error *err);
int nh_seccomp_load (const struct nh_op *op, struct nh_error *err);

/* --sysctl NAME VALUE: written to /proc/sys of the container's namespaces. */
int nh_sysctl (const char *name, const char *value, struct nh_error *err);

#endif
