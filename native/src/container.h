/* Container setup ops: namespaces, mounts, pivot_root and process
 * attributes, one function per op (container.c). */
#ifndef NH_CONTAINER_H
#define NH_CONTAINER_H

#include "error.h"
#include "ops.h"

#include <sys/types.h>

/* Carries out one of the container ops of ops.h (NH_OP_UNSHARE and after). */
int nh_container_op (struct nh_config *cfg, const struct nh_op *op, struct nh_error *err);
/* The waiting parent of CHILD (pid 1 of a pid namespace, or a process that
 * joined one): passes signals on, leaves with its status. Never returns. */
void nh_container_wait (pid_t child, int sync_fd) __attribute__ ((noreturn));
/* A process to end (SIGTERM) when the container ends: its network helper. */
void nh_container_end_with (pid_t pid);

#endif
