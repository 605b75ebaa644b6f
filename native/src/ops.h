/* The helper's interface is an op list in argv, bubblewrap style: parsing
 * appends ops in the order given, nh_ops_run() walks them once. Policy (which
 * ids, which namespaces) is decided by nook in TypeScript; this file only
 * carries it out. */
#ifndef NH_OPS_H
#define NH_OPS_H

#include "error.h"

enum nh_op_kind
{
  NH_OP_USERNS,         /* --userns: unshare a user namespace, have nook map it */
  NH_OP_SETGROUPS_CLEAR, /* --setgroups-clear: drop supplementary groups */
  NH_OP_DIE_WITH_PARENT, /* --die-with-parent: SIGKILL when nook dies */
  NH_OP_SETID,          /* --setid UID:GID: setresgid then setresuid */
  NH_OP_CHDIR,          /* --chdir DIR */
};

struct nh_op
{
  enum nh_op_kind kind;
  const char *path;
  unsigned long uid, gid;
};

#define NH_MAX_OPS 256

struct nh_config
{
  int sync_fd;          /* -1 when run by hand without nook */
  struct nh_op ops[NH_MAX_OPS];
  int n_ops;
  char **argv;          /* the command to exec, NULL-terminated */
};

/* Returns -1 with err filled (errnum 0) on a malformed command line. */
int nh_parse_args (int argc, char **argv, struct nh_config *cfg, struct nh_error *err);
int nh_ops_run (struct nh_config *cfg, struct nh_error *err);

#endif
