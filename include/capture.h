/*
 * capture.h: the packet sources.  Both feed engine_packet(); neither knows
 * what the engine does with a frame.
 *
 * replay: `sipguard -r FILE' reads a capture with libpcap and writes one
 * JSON object per SIP message or keep-alive (and one per alarm) to `out'.
 */
#ifndef SG_CAPTURE_H
#define SG_CAPTURE_H

#include <stdio.h>

#include "conf.h"
#include "engine.h"

struct replay_summary {
	uint64_t	 frames;
	uint64_t	 messages;	/* lines written for SIP/keep-alives */
	uint64_t	 accepted, dropped;
	uint64_t	 alarms;
	uint64_t	 last_time;	/* ns, of the last frame */
	char		 truncated[256];	/* non-empty: cut short */
};

/*
 * When the configuration names no proxy address, pick the destination of
 * most REGISTERs in the file.  0 if one was found (written to `conf'),
 * -1 if the file cannot be read (errbuf says why), 1 if none was found.
 */
int	replay_guess_proxy(const char *path, struct sg_conf *, char *errbuf,
	    size_t);
/* 0 on success, -1 with a one-line reason in errbuf. */
int	replay_run(const char *path, struct engine *, FILE *out,
	    struct replay_summary *, char *errbuf, size_t);

#endif

/*
 * nfq: the live packet source.  One NFQUEUE per worker, bound over
 * libmnl in copy mode, fail-open by default.  cap_nfq_run() reads up to
 * queue.batch packets (blocking at most `wait_ms' for the first), judges
 * them with `judge', and answers all their verdicts in one sendmsg: no
 * packet is ever left without one.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct cap_nfq;

struct cap_nfq_stats {
	uint64_t	 packets, accepted, dropped;
	uint64_t	 enobufs, errors, batches;
	uint64_t	 hook_out, no_payload;
};

/* `dir' is what the hook says (SPEC 1): see enum engine_dir. */
typedef enum sg_verdict (*cap_judge)(void *, const uint8_t *, size_t,
    const struct sg_mac *, enum engine_dir dir, unsigned csum_flags,
    uint64_t now);

struct cap_nfq	*cap_nfq_open(const struct sg_conf *, uint16_t qnum, char *err,
		    size_t errlen);
void		 cap_nfq_close(struct cap_nfq *);
/*
 * Packets handled (0 on timeout), -1 on a fatal socket error.  `lock' is
 * held while the batch is judged, not while waiting for it.
 */
int		 cap_nfq_run(struct cap_nfq *, int wait_ms, pthread_mutex_t *,
		    cap_judge, void *);
void		 cap_nfq_stats(const struct cap_nfq *, struct cap_nfq_stats *);
uint16_t	 cap_nfq_num(const struct cap_nfq *);
