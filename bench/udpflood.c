/*
 * udpflood: send one UDP payload (a file) as fast as sendmmsg allows, for
 * a number of seconds; print how many were sent.  For bench-nfq and
 * bench-flood only, inside the namespaces they set up.
 *   udpflood SRC_IP DST_IP DST_PORT PAYLOAD_FILE SECONDS [0 RATE]
 *   udpflood A.B.0.0/16 DST_IP DST_PORT PAYLOAD_FILE SECONDS [COUNT]
 * The second form spoofs: each datagram from the next address of the
 * /16 (a raw socket; 65,534 distinct before they repeat), and the first
 * run of eight '0's in the payload replaced by a counter in hex (a
 * Call-ID of its own for each).  COUNT: stop after that many.  RATE:
 * the first form paced at that many a second, in bursts of at most
 * PACED_BURST, so that two readers compared see the same load.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH	64
#define PACED_BURST	8
#define HDRS	(sizeof(struct iphdr) + sizeof(struct udphdr))

static double
since(const struct timespec *t0)
{
	struct timespec	 t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (t.tv_nsec - t0->tv_nsec) /
	    1e9;
}

/* The spoofing form: BATCH whole IPv4 datagrams, rewritten each round. */
static unsigned long long
spoof(const char *net, struct sockaddr_in *dst, const char *payload,
    size_t len, double secs, unsigned long long count)
{
	static char		 pkt[BATCH][HDRS + 65536];
	struct mmsghdr		 m[BATCH];
	struct iovec		 iov[BATCH];
	struct in_addr		 base;
	struct timespec		 t0;
	unsigned long long	 sent = 0;
	uint32_t		 seq = 0;
	const char		*mark = memmem(payload, len, "00000000", 8);
	char			 prefix[32];
	int			 fd, one = 1;

	snprintf(prefix, sizeof(prefix), "%.*s", (int)strcspn(net, "/"), net);
	if (inet_pton(AF_INET, prefix, &base) != 1 || len > 65536 - HDRS)
		return 0;
	if ((fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW)) == -1 ||
	    setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)) == -1) {
		perror("udpflood");
		exit(1);
	}
	memset(m, 0, sizeof(m));
	for (int k = 0; k < BATCH; k++) {
		struct iphdr	*ip = (struct iphdr *)pkt[k];
		struct udphdr	*udp = (struct udphdr *)(ip + 1);

		ip->version = 4;
		ip->ihl = 5;
		ip->ttl = 64;
		ip->protocol = IPPROTO_UDP;
		ip->tot_len = htons((uint16_t)(HDRS + len));
		ip->daddr = dst->sin_addr.s_addr;
		udp->source = htons(5060);
		udp->dest = dst->sin_port;
		udp->len = htons((uint16_t)(sizeof(*udp) + len));
		memcpy(pkt[k] + HDRS, payload, len);
		iov[k].iov_base = pkt[k];
		iov[k].iov_len = HDRS + len;
		m[k].msg_hdr.msg_name = dst;
		m[k].msg_hdr.msg_namelen = sizeof(*dst);
		m[k].msg_hdr.msg_iov = &iov[k];
		m[k].msg_hdr.msg_iovlen = 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		int	 n;

		for (int k = 0; k < BATCH; k++) {
			struct iphdr	*ip = (struct iphdr *)pkt[k];
			char		 hex[9];

			ip->saddr = base.s_addr | htonl(seq % 65534 + 1);
			if (mark != NULL) {
				snprintf(hex, sizeof(hex), "%08x", seq);
				memcpy(pkt[k] + HDRS + (mark - payload), hex, 8);
			}
			seq++;
		}
		n = BATCH;
		if (count > 0 && count - sent < (unsigned long long)n)
			n = (int)(count - sent);
		if ((n = sendmmsg(fd, m, (unsigned)n, 0)) > 0)
			sent += (unsigned)n;
		/* What was not sent goes again with the next numbers. */
	} while (since(&t0) < secs && (count == 0 || sent < count));
	return sent;
}

int
main(int argc, char *argv[])
{
	static char		 payload[65536];
	struct sockaddr_in	 src, dst;
	struct mmsghdr		 m[BATCH];
	struct iovec		 iov;
	struct timespec		 t0;
	unsigned long long	 sent = 0;
	size_t			 len;
	FILE			*fp;
	int			 fd;
	double			 secs, rate = 0;

	if (argc != 6 && argc != 7 && argc != 8)
		return 2;
	if (argc == 8)
		rate = atof(argv[7]);
	if ((fp = fopen(argv[4], "rb")) == NULL)
		return 1;
	len = fread(payload, 1, sizeof(payload), fp);
	fclose(fp);
	secs = atof(argv[5]);
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)atoi(argv[3]));
	inet_pton(AF_INET, argv[2], &dst.sin_addr);
	if (strchr(argv[1], '/') != NULL) {
		printf("%llu\n", spoof(argv[1], &dst, payload, len, secs,
		    argc == 7 ? strtoull(argv[6], NULL, 10) : 0));
		return 0;
	}
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	src.sin_port = htons(5060);
	inet_pton(AF_INET, argv[1], &src.sin_addr);
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
		double	 due = rate * since(&t0);
		int	 n = BATCH;

		if (rate > 0) {
			if (due < (double)sent + 1) {
				nanosleep(&(struct timespec){ 0, 20000 }, NULL);
				continue;
			}
			n = due - (double)sent > PACED_BURST ? PACED_BURST :
			    (int)(due - (double)sent);
		}
		if ((n = sendmmsg(fd, m, (unsigned)n, 0)) > 0)
			sent += (unsigned)n;
	} while (since(&t0) < secs);
	printf("%llu\n", sent);
	return 0;
}
