/* The sync protocol with nook: a closed set of newline-terminated messages on
 * one stream socket (fd given by --sync-fd). nook decodes every helper message
 * with an io-ts codec (src/runtime/helper-message.ts); keep the two in step.
 *
 *   helper -> nook  {"type":"map","pid":N}                 map my user namespace
 *   nook -> helper  mapped                                 maps written, go on
 *   helper -> nook  {"type":"net","pid":N}                 my network namespace is new: connect it
 *   nook -> helper  net-ready                              the network helper is attached, go on
 *   helper -> nook  {"type":"cgroup","pid":N}              put N (my host pid) in the container's cgroup
 *   nook -> helper  cgroup-ready                           done (limits set), go on
 *   helper -> nook  {"type":"created","pid":N}             (--exec-fifo) set up; the socket closes next
 *                                                          and the command waits for `start`
 *   helper -> nook  {"type":"error","step":S,"errno":E,"message":M}
 *                                                          step S failed with errno E
 *                                                          (M is strerror(E)); I exit
 *
 * After a successful exec the socket closes (it is close-on-exec): nook takes
 * end-of-file without an error message as "the command is running". */
#ifndef NH_SYNC_H
#define NH_SYNC_H

#include "error.h"

#include <sys/types.h>

/* Asks nook for a step on PID ("map", "net"). */
int nh_sync_request (int fd, const char *type, pid_t pid, struct nh_error *err);
/* Waits for nook's WORD; WHAT names the step in errors. */
int nh_sync_wait (int fd, const char *word, const char *what, struct nh_error *err);
/* Best effort: the helper is exiting anyway when it reports. */
void nh_sync_report (int fd, const struct nh_error *failure);

#endif
