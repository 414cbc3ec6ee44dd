/*
 * nfq_accept: the reference for `make bench-nfq': a bare NFQUEUE reader
 * that accepts everything, on the very same intake code as the daemon
 * (capture_nfq.c), so the difference is what judging costs.  Runs until
 * SIGTERM; prints the packets it answered (and on stderr the batches it
 * read them in).
 *   nfq_accept [-b] [-d] QUEUE
 * One verdict message a packet, as a reader written after the library's
 * example does; -b: runs of verdicts folded into batch verdicts, as the
 * daemon sends them; -d: every packet dropped instead (the kernel's side
 * of a refusal: the reference for what a refused packet costs).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_nfq.h"
#include "conf.h"

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static enum sg_verdict
accept_all(void *arg, const uint8_t *p, size_t len, const struct sg_mac *m,
    enum engine_dir dir, unsigned csum_flags, uint64_t now)
{
	(void)arg;
	(void)p;
	(void)len;
	(void)m;
	(void)dir;
	(void)csum_flags;
	(void)now;
	return *(const enum sg_verdict *)arg;
}

int
main(int argc, char *argv[])
{
	struct sg_conf		 c;
	struct cap_nfq		*q;
	struct cap_nfq_stats	 st;
	char			 err[256];
	bool			 fold = false;
	enum sg_verdict		 v = SG_ACCEPT;

	for (; argc > 2 && argv[1][0] == '-'; argc--, argv++) {
		if (strcmp(argv[1], "-b") == 0)
			fold = true;
		else if (strcmp(argv[1], "-d") == 0)
			v = SG_DROP;
		else
			return 2;
	}
	if (argc != 2)
		return 2;
	conf_defaults(&c);
	c.queue_fail_open = false;
	if ((q = cap_nfq_open(&c, (uint16_t)atoi(argv[1]), err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "nfq_accept: %s\n", err);
		return 1;
	}
	cap_nfq_set_fold(q, fold);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	while (!stop)
		cap_nfq_run(q, 100, NULL, accept_all, &v);
	cap_nfq_stats(q, &st);
	printf("%llu\n", (unsigned long long)st.packets);
	fprintf(stderr, "nfq_accept: %llu packets in %llu batches, %llu "
	    "verdict messages\n", (unsigned long long)st.packets,
	    (unsigned long long)st.batches,
	    (unsigned long long)st.verdict_msgs);
	cap_nfq_close(q);
	return 0;
}
