/* Error contract (after crun's design-docs/error_handling.md): a function that
 * can fail returns a negative value and fills a struct nh_error naming the step
 * that failed and the errno it failed with. Callers add nothing; the top level
 * reports the error once, to nook over the sync socket or to stderr. */
#ifndef NH_ERROR_H
#define NH_ERROR_H

#include <stddef.h>

struct nh_error {
  int errnum;       /* errno of the failure, 0 when there is none */
  char step[256];   /* what was being done: "unshare user namespace" */
};

/* Records the step (printf-style) and errnum; always returns -1. */
int nh_fail (struct nh_error *err, int errnum, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* Writes s into buf (size n) as the body of a JSON string, escaping quotes,
 * backslashes and control characters; truncates cleanly. */
void nh_json_escape (char *buf, size_t n, const char *s);

#endif
