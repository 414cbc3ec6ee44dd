/*
 * udpflood: send one UDP payload (a file) as fast as sendmmsg allows, for
 * a number of seconds; print how many were sent.  For bench-nfq only,
 * inside the namespaces it sets up.
 *   udpflood SRC_IP DST_IP DST_PORT PAYLOAD_FILE SECONDS
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH	64

int
main(int argc, char *argv[])
{
	static char		 payload[65536];
	struct sockaddr_in	 src, dst;
	struct mmsghdr		 m[BATCH];
	struct iovec		 iov;
	struct timespec		 t0, t;
	unsigned long long	 sent = 0;
	size_t			 len;
	FILE			*fp;
	int			 fd;
	double			 secs;

	if (argc != 6)
		return 2;
	if ((fp = fopen(argv[4], "rb")) == NULL)
		return 1;
	len = fread(payload, 1, sizeof(payload), fp);
	fclose(fp);
	secs = atof(argv[5]);
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	src.sin_port = htons(5060);
	inet_pton(AF_INET, argv[1], &src.sin_addr);
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)atoi(argv[3]));
	inet_pton(AF_INET, argv[2], &dst.sin_addr);
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&src, sizeof(src)) == -1) {
		perror("udpflood");
		return 1;
	}
	iov.iov_base = payload;
	iov.iov_len = len;
	memset(m, 0, sizeof(m));
	for (int k = 0; k < BATCH; k++) {
		m[k].msg_hdr.msg_name = &dst;
		m[k].msg_hdr.msg_namelen = sizeof(dst);
		m[k].msg_hdr.msg_iov = &iov;
		m[k].msg_hdr.msg_iovlen = 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		int	 n = sendmmsg(fd, m, BATCH, 0);

		if (n > 0)
			sent += (unsigned)n;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) /
	    1e9 < secs);
	printf("%llu\n", sent);
	return 0;
}
