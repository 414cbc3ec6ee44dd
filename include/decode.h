/*
 * decode.h: layers 2 to 4.  dec_frame() reads a frame of a given link type
 * into a struct dec_pkt that points into the caller's buffer; it never
 * reads past `len' and never allocates.  Decoders do not log: the caller
 * counts the result codes.
 */
#ifndef SG_DECODE_H
#define SG_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "sipguard.h"

enum dec_link {
	LINK_ETHERNET,		/* DLT_EN10MB */
	LINK_SLL,		/* DLT_LINUX_SLL, MAC in the cooked header */
	LINK_SLL2,		/* DLT_LINUX_SLL2 */
	LINK_RAW,		/* bare IPv4/IPv6 (NFQUEUE, DLT_RAW) */
	LINK_NULL,		/* DLT_NULL / DLT_LOOP: 4-byte family */
};

enum dec_result {
	DEC_OK = 0,		/* UDP or TCP with its payload */
	DEC_FRAGMENT,		/* an IP fragment: see frag_* */
	DEC_NOT_IP,		/* ARP, LLDP, ...: not ours */
	DEC_OTHER_L4,		/* ICMP, SCTP, ESP, ... */
	DEC_TRUNCATED,		/* shorter than its headers say */
	DEC_MALFORMED,		/* headers that contradict themselves */
	DEC__COUNT
};

#define DEC_PROTO_TCP	6
#define DEC_PROTO_UDP	17

struct dec_frag {
	uint32_t	 id;
	uint16_t	 offset;	/* bytes */
	bool		 more;
	uint8_t		 proto;		/* protocol of the reassembled data */
	const uint8_t	*data;		/* fragment payload */
	size_t		 len;
};

struct dec_pkt {
	struct sg_mac	 smac;
	bool		 has_mac;
	struct sg_addr	 src, dst;
	uint8_t		 proto;		/* DEC_PROTO_UDP, DEC_PROTO_TCP */
	uint16_t	 sport, dport;
	const uint8_t	*payload;
	size_t		 plen;
	struct dec_frag	 frag;		/* valid when DEC_FRAGMENT */
};

/*
 * Decode one frame.  For LINK_RAW the caller may preset smac/has_mac
 * (NFQUEUE's hardware header) before the call; they are kept.
 */
enum dec_result	 dec_frame(enum dec_link, const uint8_t *, size_t,
		    struct dec_pkt *);
/* Decode an L4 header (after reassembly): fills proto/ports/payload. */
enum dec_result	 dec_l4(uint8_t proto, const uint8_t *, size_t,
		    struct dec_pkt *);
/*
 * Decode a reassembled datagram: `proto' is the fragments' next header,
 * which may still be IPv6 extension headers or a tunnelled packet.
 */
enum dec_result	 dec_reassembled(uint8_t proto, const uint8_t *, size_t,
		    struct dec_pkt *);
const char	*dec_result_str(enum dec_result);

/*
 * frag.h part: bounded IPv4/IPv6 reassembly.  A fixed pool of contexts,
 * each with its own 64 KB buffer, allocated once; the oldest context is
 * recycled when all are busy.  Overlapping fragments (RFC 5722) make the
 * whole datagram unusable.
 */
struct frag_table;

enum frag_result {
	FRAG_HELD,		/* stored, datagram not complete yet */
	FRAG_DONE,		/* complete: data/len hold the L4 datagram */
	FRAG_BAD,		/* overlap, oversize, or state lost */
};

struct frag_stats {
	uint64_t	 held, done, overlap, oversize, evicted, expired;
	uint32_t	 in_use, capacity;
};

struct frag_table *frag_create(int contexts, uint64_t timeout);
void		 frag_destroy(struct frag_table *);
enum frag_result frag_add(struct frag_table *, const struct dec_pkt *,
		    uint64_t now, const uint8_t **data, size_t *len);
void		 frag_stats(const struct frag_table *, struct frag_stats *);

#endif
