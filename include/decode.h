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
#define DEC_PROTO_SCTP	132	/* carries SIP (RFC 4168); not read */

#define TCP_F_FIN	0x01
#define TCP_F_SYN	0x02
#define TCP_F_RST	0x04
#define TCP_F_ACK	0x10
#define TCP_F_URG	0x20

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
	struct sg_mac	 dmac;		/* Ethernet frames only */
	bool		 has_dmac;
	struct sg_addr	 src, dst;
	uint8_t		 proto;		/* DEC_PROTO_UDP, DEC_PROTO_TCP */
	uint16_t	 sport, dport;
	uint32_t	 seq, ack;	/* TCP */
	uint8_t		 tcp_flags;	/* TCP_F_* */
	const uint8_t	*l4;		/* UDP/TCP header, for checksums */
	size_t		 l4len;
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
/* The UDP or TCP checksum of a DEC_OK packet is right (a UDP checksum of
 * 0 over IPv4 means none: right). */
bool		 dec_l4_csum_ok(const struct dec_pkt *);

/*
 * frag.h part: bounded IPv4/IPv6 reassembly (SPEC 1: a fragment is judged
 * as the datagram it makes).  A fixed pool of contexts, each with its own
 * 64 KB buffer, allocated once.  A datagram's context, and after it is
 * judged its verdict, is kept for `timeout' after the last fragment it
 * took (at least the kernel's own reassembly time), so a late copy of a
 * fragment gets the datagram's verdict.  An overlap (RFC 5722), a
 * conflicting copy or an oversized fragment poisons the datagram: it and
 * every later fragment of it are dropped.  When every context is busy a
 * fragment of a new datagram is dropped: a busy context is never
 * recycled, since its remaining fragments would then pass unjudged.
 * Every fragment costs O(1) (expiry amortized) while time runs forward,
 * the table full or not.
 */
struct frag_table;

enum frag_result {
	FRAG_HELD,		/* stored, datagram not complete yet: accept */
	FRAG_DONE,		/* complete: data/len hold the L4 datagram */
	FRAG_LATE,		/* an identical copy, datagram accepted */
	FRAG_BAD,		/* drop: poisoned, dropped datagram, full */
};

struct frag_stats {
	uint64_t	 held, done, overlap, oversize, full, expired, late;
	uint64_t	 other_mac;
	uint32_t	 in_use, capacity;
};

struct frag_table *frag_create(int contexts, uint64_t timeout);
void		 frag_destroy(struct frag_table *);
/* The last quarter of the contexts for bound senders (none: no reserve). */
void		 frag_set_known(struct frag_table *, sg_known_fn, void *);
enum frag_result frag_add(struct frag_table *, const struct dec_pkt *,
		    uint64_t now, const uint8_t **data, size_t *len);
/* The verdict of the datagram of the last FRAG_DONE. */
void		 frag_judged(struct frag_table *, bool dropped);
/* The protocol of the last FRAG_DONE datagram (IPv6: its first
 * fragment's next header, as Linux takes it). */
uint8_t		 frag_last_proto(const struct frag_table *);
void		 frag_stats(const struct frag_table *, struct frag_stats *);

#endif
