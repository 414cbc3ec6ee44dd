/*
 * capture_nfq.h: the live packet source.  One NFQUEUE per worker, bound
 * over libmnl in copy mode, fail-open by default.  cap_nfq_run() reads up
 * to queue.batch packets (blocking at most `wait_ms' for the first),
 * stamps them with their receive time, judges them with `judge', and
 * answers all their verdicts in one sendmsg, a run of equal verdicts as
 * one batch verdict: no packet is ever left without one, and none gets
 * one before it was judged.  Like the offline source (capture_pcap.h),
 * it does not know what the judge does with a packet.
 */
#ifndef SG_CAPTURE_NFQ_H
#define SG_CAPTURE_NFQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "engine.h"

struct cap_nfq;

struct cap_nfq_stats {
	uint64_t	 packets, accepted, dropped;
	uint64_t	 enobufs, errors, batches;
	uint64_t	 hook_out, no_payload;
	uint64_t	 batch_max_ns;	/* longest from read to verdicts */
	uint64_t	 lock_wait_max_ns; /* ... of it waiting for the lock */
	uint64_t	 verdict_msgs;	/* verdict messages sent */
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
/*
 * Runs of equal verdicts as one batch verdict (on by default; the
 * reasoning is in capture_nfq.c).  Off: one verdict message a packet.
 */
void		 cap_nfq_set_fold(struct cap_nfq *, bool);
void		 cap_nfq_stats(const struct cap_nfq *, struct cap_nfq_stats *);
uint16_t	 cap_nfq_num(const struct cap_nfq *);
/* True while the worker reading q waits for the lock cap_nfq_run() takes. */
bool		 cap_nfq_lock_wanted(struct cap_nfq *);

#endif
