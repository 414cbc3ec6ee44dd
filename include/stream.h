/*
 * stream.h: TCP reassembly, one stage between decode and the SIP fields
 * (SPEC 1, "nothing the proxy acts on goes unjudged").  The proxy's TCP
 * stack delivers a byte stream; sipguard must judge exactly the messages
 * that stream will hold, each once, when its last byte arrives.
 *
 * A connection is tracked per 4-tuple in a fixed table (tables.streams),
 * with a per-client-address quota (tcp.streams_per_source).  Each
 * direction keeps the next sequence number it expects and, while a
 * message spans segments, its bytes in a 64 KB buffer lent from a fixed
 * pool (tables.stream_buffers).  Nothing is allocated after
 * stream_create().
 *
 * The rules, for the inbound direction (towards the proxy):
 *  - an in-order segment is appended; every message it completes is
 *    handed back to be judged (STREAM_JUDGE), and stream_commit() then
 *    advances the stream; part of a message is held and the segment
 *    accepted, since the proxy cannot act on it alone;
 *  - a dropped message poisons the connection: every later segment on it
 *    is dropped, retransmissions included, until it is reset, closed by
 *    the proxy or idle for tcp.idle_timeout;
 *  - bytes before the expected sequence number are compared with what
 *    was judged: the part the proxy has acknowledged is ignored (its
 *    stack discards it), the part still held must be identical (else
 *    `tcp-conflict', and the connection is poisoned), and any other part
 *    cannot be verified and is dropped (`tcp-unverifiable');
 *  - a segment beyond a hole is dropped (`tcp-out-of-order'): the proxy
 *    has nothing to act on until the hole is filled, and the sender
 *    resends it; holes are never guessed;
 *  - a connection seen for the first time without its SYN (open before
 *    the daemon started, or forgotten) is picked up only at a segment
 *    that starts a SIP message; anything else is `tcp-unsynced'.
 * The outbound direction (the proxy's answers) is framed the same way to
 * learn bindings, and always accepted.
 */
#ifndef SG_STREAM_H
#define SG_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "decode.h"
#include "sipguard.h"
#include "sipmsg.h"

/* Whole messages one segment may complete (a GRO super-packet of 64 KB
 * holds a few hundred at most); the rest of such a segment is malformed. */
#define STREAM_MAX_MSGS		256
#define STREAM_BUF		SG_PKT_MAX

enum stream_action {
	STREAM_ACCEPT,		/* nothing to judge; accept the segment */
	STREAM_DROP,		/* drop the segment; `reason' says why */
	STREAM_JUDGE,		/* judge msg[], then stream_commit() */
};

struct stream_span {
	const uint8_t	*p;
	size_t		 len;
};

struct stream_res {
	enum stream_action action;
	enum sg_reason	 reason;	/* STREAM_DROP, or SG_R_TCP */
	const char	*why;		/* detail for an alarm, or NULL */
	bool		 alarm;		/* raise one alarm for this drop */
	int		 nmsg;
	bool		 unframed;	/* msg[nmsg-1] cannot be framed */
	struct stream_span msg[STREAM_MAX_MSGS];
	/* for stream_commit() */
	uint64_t	 now;
	uint32_t	 seg_seq, seg_len;	/* the whole segment */
	uint64_t	 seg_h;
	uint32_t	 slot, newbuf, next;
	int		 dir;
	const uint8_t	*left;
	size_t		 left_len;
	struct sipm_framer fr;		/* how far `left' was read */
};

struct stream_stats {
	uint32_t	 in_use, capacity, buffers_in_use, buffers;
	uint64_t	 opened, evicted, expired, closed, refused;
	uint64_t	 held, judged, poisoned, conflict, unverifiable;
	uint64_t	 out_of_order, unsynced, no_buffer, trimmed;
	uint64_t	 buf_quota, invalid, other_mac, retransmits;
	size_t		 memory;
};

struct stream_table;

struct stream_table *stream_create(const struct sg_conf *);
void		 stream_destroy(struct stream_table *);
void		 stream_set_idle(struct stream_table *, uint64_t idle);
/*
 * Is the client (m, i) a bound device (sg_known_fn)?  The last quarter
 * of the reassembly buffers is kept for those (and for the proxy's own
 * messages); asked only when that quarter is all that is left.
 */
void		 stream_set_known(struct stream_table *, sg_known_fn, void *);
/*
 * One TCP segment, already known to be inbound (towards the proxy) or
 * outbound.  Fills `r'; for STREAM_JUDGE the spans point into the
 * segment or into the connection's buffer and stay valid until
 * stream_commit().
 */
void		 stream_input(struct stream_table *, const struct dec_pkt *,
		    bool inbound, uint64_t now, struct stream_res *r);
/* The verdict of the messages of a STREAM_JUDGE result (drop if any). */
void		 stream_commit(struct stream_table *, struct stream_res *,
		    enum sg_verdict);
/* Forget connections idle past tcp.idle_timeout (a bounded number). */
void		 stream_expire(struct stream_table *, uint64_t now);
void		 stream_stats(const struct stream_table *,
		    struct stream_stats *);

#endif
