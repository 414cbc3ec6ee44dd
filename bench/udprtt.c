/*
 * udprtt: round trips of one UDP payload, one at a time, for bench-nfq's
 * latency: what a judged message adds over a bare reader.
 *   udprtt -s IP PORT                  echo every datagram back
 *   udprtt SRC_IP DST_IP PORT FILE N   send FILE N times, each after the
 *                                      last one's echo; print p50 and
 *                                      p99 of the round trips, in us
 * A datagram lost (no echo within 100 ms) is counted apart and sent
 * again as the next.  For bench-nfq only, inside its namespaces.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static int
by_value(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
bound(const char *ip, int port)
{
	struct sockaddr_in	 a;
	int			 fd;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, ip, &a.sin_addr);
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) == -1) {
		perror("udprtt");
		exit(1);
	}
	return fd;
}

static void __attribute__((noreturn))
echo(const char *ip, int port)
{
	static char		 buf[65536];
	struct sockaddr_in	 peer;
	socklen_t		 plen;
	int			 fd = bound(ip, port);

	for (;;) {
		ssize_t	 n;

		plen = sizeof(peer);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer,
		    &plen);
		if (n > 0)
			(void)sendto(fd, buf, (size_t)n, 0,
			    (struct sockaddr *)&peer, plen);
	}
}

int
main(int argc, char *argv[])
{
	static char		 payload[65536], buf[65536];
	struct sockaddr_in	 dst;
	struct pollfd		 pfd;
	double			*rtt;
	size_t			 len;
	FILE			*fp;
	int			 fd, n, got = 0, lost = 0;

	if (argc == 4 && strcmp(argv[1], "-s") == 0)
		echo(argv[2], atoi(argv[3]));
	if (argc != 6 || (n = atoi(argv[5])) <= 0)
		return 2;
	if ((fp = fopen(argv[4], "rb")) == NULL)
		return 1;
	len = fread(payload, 1, sizeof(payload), fp);
	fclose(fp);
	fd = bound(argv[1], 5060);
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)atoi(argv[3]));
	inet_pton(AF_INET, argv[2], &dst.sin_addr);
	if ((rtt = calloc((size_t)n, sizeof(*rtt))) == NULL)
		return 1;
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (got < n && lost < n) {
		struct timespec	 t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (sendto(fd, payload, len, 0, (struct sockaddr *)&dst,
		    sizeof(dst)) < 0 || poll(&pfd, 1, 100) != 1 ||
		    recv(fd, buf, sizeof(buf), 0) <= 0) {
			lost++;
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		rtt[got++] = (double)(t1.tv_sec - t0.tv_sec) * 1e6 +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
	}
	if (got == 0)
		return 1;
	qsort(rtt, (size_t)got, sizeof(*rtt), by_value);
	printf("%.1f %.1f %d\n", rtt[got / 2], rtt[got * 99 / 100], lost);
	return 0;
}
