/*
 * nfqfold: the reader of tests/test_nfq_fold.sh.  Reads one NFQUEUE
 * through capture_nfq.c, batch verdicts on, and judges each UDP datagram
 * "fold N" by N alone: runs of accepts and drops of uneven lengths, so
 * that the reader sends batch verdicts and single ones in turn.  Every
 * judgement is written down; at SIGTERM it prints the numbers it
 * accepted, one a line, then "judged J accepted A errors E messages M"
 * on stderr.  The test compares what reached the receiver with that.
 *   nfqfold QUEUE
 */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture_nfq.h"
#include "conf.h"

#define NMAX	(1u << 20)

static volatile sig_atomic_t stop;
static unsigned char	 seen[NMAX];	/* 0, or 1 + the verdict */
static unsigned long	 judged, twice;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* Accept or drop by the number: runs of 1 to 25 of each. */
static enum sg_verdict
verdict_of(unsigned n)
{
	return ((n / 4) ^ (n / 9) ^ (n / 25)) & 1 ? SG_DROP : SG_ACCEPT;
}

static enum sg_verdict
judge(void *arg, const uint8_t *p, size_t len, const struct sg_mac *m,
    enum engine_dir dir, unsigned csum_flags, uint64_t now)
{
	char		 text[32];
	size_t		 hl, n;
	unsigned	 seq;
	enum sg_verdict	 v;

	(void)arg;
	(void)m;
	(void)dir;
	(void)csum_flags;
	(void)now;
	if (len < 28 || (p[0] >> 4) != 4)
		return SG_ACCEPT;
	hl = (size_t)(p[0] & 0x0f) * 4 + 8;
	if (hl >= len)
		return SG_ACCEPT;
	n = len - hl < sizeof(text) - 1 ? len - hl : sizeof(text) - 1;
	memcpy(text, p + hl, n);
	text[n] = '\0';
	if (sscanf(text, "fold %u", &seq) != 1 || seq >= NMAX)
		return SG_ACCEPT;
	v = verdict_of(seq);
	judged++;
	if (seen[seq] != 0)
		twice++;
	seen[seq] = (unsigned char)(1 + v);
	return v;
}

int
main(int argc, char *argv[])
{
	struct sg_conf		 c;
	struct cap_nfq		*q;
	struct cap_nfq_stats	 st;
	char			 err[256];
	unsigned long		 acc = 0;

	if (argc != 2)
		return 2;
	conf_defaults(&c);
	c.queue_fail_open = false;
	if ((q = cap_nfq_open(&c, (uint16_t)atoi(argv[1]), err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "nfqfold: %s\n", err);
		return 1;
	}
	cap_nfq_set_fold(q, true);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	/* A slow reader: packets pile up behind each batch, so batches are
	 * long and the queue holds unread packets when verdicts go. */
	while (!stop)
		if (cap_nfq_run(q, 100, NULL, judge, NULL) > 0)
			usleep(300);
	cap_nfq_stats(q, &st);
	for (unsigned k = 0; k < NMAX; k++)
		if (seen[k] == 1 + SG_ACCEPT) {
			printf("%u\n", k);
			acc++;
		}
	fprintf(stderr, "judged %lu accepted %lu errors %llu messages %llu "
	    "twice %lu\n", judged, acc, (unsigned long long)st.errors,
	    (unsigned long long)st.verdict_msgs, twice);
	cap_nfq_close(q);
	return 0;
}
