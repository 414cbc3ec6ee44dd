/*
 * capture_pcap.h: the offline packet source.  `sipguard -r FILE' reads a
 * capture with libpcap, feeds each frame to the engine with its capture
 * time, as the live source (capture_nfq.h) does with receive time, and
 * writes one JSON object per SIP message or keep-alive (and one per
 * alarm) to `out', each opening with its "timestamp" (ISO-8601, UTC,
 * microseconds: events_timestamp).  Neither source knows what the engine does with a
 * frame.
 */
#ifndef SG_CAPTURE_PCAP_H
#define SG_CAPTURE_PCAP_H

#include <stddef.h>
#include <stdint.h>
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
