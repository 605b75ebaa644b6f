#include "error.h"

#include <stdarg.h>
#include <stdio.h>

int
nh_fail (struct nh_error *err, int errnum, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (err->step, sizeof err->step, fmt, ap);
  va_end (ap);
  err->errnum = errnum;
  return -1;
}

void
nh_json_escape (char *buf, size_t n, const char *s)
{
  size_t o = 0;

  for (; *s && o + 7 < n; s++)
    {
      unsigned char c = (unsigned char) *s;
      if (c == '"' || c == '\\')
        {
          buf[o++] = '\\';
          buf[o++] = (char) c;
        }
      else if (c < 0x20)
        o += (size_t) snprintf (buf + o, n - o, "\\u%04x", c);
      else
        buf[o++] = (char) c;
    }
  buf[o] = '\0';
}
