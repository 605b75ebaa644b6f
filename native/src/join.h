#ifndef NH_JOIN_H
#define NH_JOIN_H

#include "error.h"
#include "ops.h"

/* --join PID: into the namespaces of PID (a container's pid 1), then a fork. */
int nh_join (struct nh_config *cfg, const char *pid, struct nh_error *err);

#endif
