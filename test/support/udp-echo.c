/* A UDP echo server for the network tests (busybox's nc has no UDP):
 * answers every datagram on PORT with "echo:" and the datagram. Built
 * statically by the test, so it runs in any image. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int
main (int argc, char **argv)
{
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_ANY) };
  char buf[2048], out[2100];
  int s = socket (AF_INET, SOCK_DGRAM, 0);

  addr.sin_port = htons ((unsigned short) atoi (argc > 1 ? argv[1] : "9999"));
  if (s < 0 || bind (s, (struct sockaddr *) &addr, sizeof addr) < 0)
    {
      perror ("udp-echo");
      return 1;
    }
  printf ("listening\n");
  fflush (stdout);
  for (;;)
    {
      struct sockaddr_in from;
      socklen_t len = sizeof from;
      ssize_t n = recvfrom (s, buf, sizeof buf - 1, 0, (struct sockaddr *) &from, &len);
      if (n < 0)
        continue;
      memcpy (out, "echo:", 5);
      memcpy (out + 5, buf, (size_t) n);
      sendto (s, out, (size_t) n + 5, 0, (struct sockaddr *) &from, len);
    }
}
