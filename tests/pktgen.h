/*
 * pktgen.h: builds the project's own test traffic in code: SIP messages,
 * Ethernet/802.1Q/IPv4/IPv6/UDP/TCP frames around them, and pcap files
 * written with libpcap's pcap_dump.  No capture in the tree lacks its
 * generator.
 */
#ifndef SG_PKTGEN_H
#define SG_PKTGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An endpoint: MAC, IP (text, v4 or v6) and UDP/TCP port. */
struct pg_ep {
	uint8_t		 mac[6];
	const char	*ip;
	uint16_t	 port;
};

/*
 * A SIP message.  method == NULL makes a response with `status'.  Unset
 * strings are omitted (or defaulted where a header is mandatory and the
 * field says so).  `raw_headers' is appended verbatim (lines with CRLF).
 */
struct pg_msg {
	const char	*method;
	int		 status;
	const char	*ruri;		/* default sip:<to-domain> */
	const char	*via;		/* sent-by host[:port]; NULL: none */
	const char	*branch;
	const char	*from;		/* URI, e.g. sip:alice@example.com */
	const char	*to;
	const char	*from_tag, *to_tag;
	const char	*call_id;	/* NULL: no Call-ID header */
	uint32_t	 cseq;
	const char	*cseq_method;	/* default: method */
	const char	*contact;	/* value after "Contact: " */
	int		 expires;	/* Expires header; -1: none */
	const char	*auth;		/* value of Authorization */
	const char	*proxy_auth;	/* value of Proxy-Authorization */
	const char	*raw_headers;
	const char	*body;
	const char	*content_type;	/* default application/sdp if body */
};

/* Render `m' into buf; returns its length (0 if it does not fit). */
size_t	pg_sip(char *buf, size_t sz, const struct pg_msg *m);

/* Frame options beyond the endpoints. */
struct pg_frame_opt {
	int		 vlan;		/* 802.1Q tag, 0: none */
	bool		 tcp;
	uint32_t	 seq, ack;	/* TCP */
	uint8_t		 tcp_flags;	/* 0: PSH|ACK */
	bool		 bad_csum;	/* TCP: a wrong checksum */
	uint16_t	 ip_id;
	uint16_t	 frag_off;	/* bytes; for building fragments */
	bool		 frag_more;
	bool		 raw_l4;	/* payload already holds the L4 header */
	uint8_t		 proto;		/* with raw_l4: the IP protocol (0: UDP
					   or TCP as `tcp' says) */
	int		 v6_dstopts;	/* IPv6: this many Destination Options
					   headers (8 bytes each) before L4 */
};

/* Ethernet + IP + UDP/TCP around payload; returns the frame length. */
size_t	pg_frame(uint8_t *out, size_t sz, const struct pg_ep *src,
	    const struct pg_ep *dst, const void *payload, size_t len,
	    const struct pg_frame_opt *opt);
/* The UDP header + payload (what IP fragments carry). */
size_t	pg_udp_datagram(uint8_t *out, size_t sz, const struct pg_ep *src,
	    const struct pg_ep *dst, const void *payload, size_t len);

/* pcap files (DLT_EN10MB unless pg_pcap_open_link says otherwise). */
struct pg_pcap;
struct pg_pcap	*pg_pcap_open(const char *path);
struct pg_pcap	*pg_pcap_open_link(const char *path, int dlt);
void		 pg_pcap_write(struct pg_pcap *, uint64_t t_ns, const void *,
		    size_t);
void		 pg_pcap_close(struct pg_pcap *);

/* Convenience: a MAC from a small integer (02:00:00:00:hi:lo). */
void		 pg_mac(uint8_t mac[6], unsigned n);

#endif
