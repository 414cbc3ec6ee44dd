/*
 * pktgen.c: SIP text and frames for tests, the demo and sgpcap.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "pktgen.h"

struct pg_pcap {
	pcap_t		*pc;
	pcap_dumper_t	*d;
};

void
pg_mac(uint8_t mac[6], unsigned n)
{
	mac[0] = 0x02;
	mac[1] = mac[2] = mac[3] = 0;
	mac[4] = (uint8_t)(n >> 8);
	mac[5] = (uint8_t)n;
}

static size_t	add(char *, size_t, size_t, const char *, ...)
		    __attribute__((format(printf, 4, 5)));

static size_t
add(char *buf, size_t sz, size_t o, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (o >= sz)
		return sz;
	va_start(ap, fmt);
	n = vsnprintf(buf + o, sz - o, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sz - o)
		return sz;
	return o + (size_t)n;
}

static const char *
domain_of(const char *uri)
{
	const char	*at = uri ? strchr(uri, '@') : NULL;

	return at ? at + 1 : "example.com";
}

size_t
pg_sip(char *buf, size_t sz, const struct pg_msg *m)
{
	size_t		 o = 0;
	const char	*cm = m->cseq_method ? m->cseq_method : m->method;
	size_t		 blen = m->body ? strlen(m->body) : 0;

	if (m->method != NULL) {
		if (m->ruri != NULL)
			o = add(buf, sz, o, "%s %s SIP/2.0\r\n", m->method,
			    m->ruri);
		else
			o = add(buf, sz, o, "%s sip:%s SIP/2.0\r\n", m->method,
			    domain_of(m->to));
	} else
		o = add(buf, sz, o, "SIP/2.0 %d %s\r\n", m->status,
		    m->status == 200 ? "OK" : m->status == 401 ?
		    "Unauthorized" : m->status == 100 ? "Trying" :
		    m->status == 180 ? "Ringing" : "Whatever");
	if (m->via != NULL)
		o = add(buf, sz, o, "Via: SIP/2.0/UDP %s;branch=%s;rport\r\n",
		    m->via, m->branch ? m->branch : "z9hG4bK-pg-1");
	o = add(buf, sz, o, "Max-Forwards: 70\r\n");
	if (m->from != NULL)
		o = add(buf, sz, o, "From: <%s>;tag=%s\r\n", m->from,
		    m->from_tag ? m->from_tag : "ft1");
	if (m->to != NULL) {
		if (m->to_tag != NULL)
			o = add(buf, sz, o, "To: <%s>;tag=%s\r\n", m->to,
			    m->to_tag);
		else
			o = add(buf, sz, o, "To: <%s>\r\n", m->to);
	}
	if (m->call_id != NULL)
		o = add(buf, sz, o, "Call-ID: %s\r\n", m->call_id);
	if (cm != NULL)
		o = add(buf, sz, o, "CSeq: %u %s\r\n", m->cseq, cm);
	if (m->contact != NULL)
		o = add(buf, sz, o, "Contact: %s\r\n", m->contact);
	if (m->expires >= 0)
		o = add(buf, sz, o, "Expires: %d\r\n", m->expires);
	if (m->auth != NULL)
		o = add(buf, sz, o, "Authorization: %s\r\n", m->auth);
	if (m->proxy_auth != NULL)
		o = add(buf, sz, o, "Proxy-Authorization: %s\r\n",
		    m->proxy_auth);
	o = add(buf, sz, o, "User-Agent: sipguard-pktgen\r\n");
	if (m->raw_headers != NULL)
		o = add(buf, sz, o, "%s", m->raw_headers);
	if (m->body != NULL)
		o = add(buf, sz, o, "Content-Type: %s\r\n",
		    m->content_type ? m->content_type : "application/sdp");
	o = add(buf, sz, o, "Content-Length: %zu\r\n\r\n", blen);
	if (m->body != NULL)
		o = add(buf, sz, o, "%s", m->body);
	return o >= sz ? 0 : o;
}

/* ---- frames --------------------------------------------------------------- */

static uint16_t
csum(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t k = 0; k + 1 < len; k += 2)
		sum += (uint32_t)(p[k] << 8 | p[k + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static int
family(const char *ip, uint8_t addr[16])
{
	if (inet_pton(AF_INET, ip, addr) == 1)
		return 4;
	if (inet_pton(AF_INET6, ip, addr) == 1)
		return 6;
	fprintf(stderr, "pktgen: bad address %s\n", ip);
	abort();
}

size_t
pg_udp_datagram(uint8_t *out, size_t sz, const struct pg_ep *src,
    const struct pg_ep *dst, const void *payload, size_t len)
{
	if (len + 8 > sz || len + 8 > 65535)
		return 0;
	put16(out, src->port);
	put16(out + 2, dst->port);
	put16(out + 4, (uint16_t)(len + 8));
	put16(out + 6, 0);		/* no checksum: legal for IPv4 */
	memcpy(out + 8, payload, len);
	return len + 8;
}

size_t
pg_frame(uint8_t *out, size_t sz, const struct pg_ep *src,
    const struct pg_ep *dst, const void *payload, size_t len,
    const struct pg_frame_opt *opt)
{
	static const struct pg_frame_opt none;
	uint8_t		 sa[16], da[16];
	int		 fam = family(src->ip, sa);
	size_t		 o = 0, l4len, iph;
	uint8_t		*ip, *l4;

	if (opt == NULL)
		opt = &none;
	if (family(dst->ip, da) != fam)
		abort();
	if (sz < 14 + 4 + 40 + 20 + len)
		return 0;
	memcpy(out, dst->mac, 6);
	memcpy(out + 6, src->mac, 6);
	o = 12;
	if (opt->vlan) {
		put16(out + o, 0x8100);
		put16(out + o + 2, (uint16_t)opt->vlan);
		o += 4;
	}
	put16(out + o, fam == 4 ? 0x0800 : 0x86dd);
	o += 2;
	ip = out + o;
	iph = fam == 4 ? 20 : 40 + 8 * (size_t)opt->v6_dstopts;
	if (sz < 14 + 4 + iph + 20 + len)
		return 0;
	l4 = ip + iph;
	if (opt->raw_l4) {
		memcpy(l4, payload, len);
		l4len = len;
	} else if (opt->tcp) {
		memset(l4, 0, 20);
		put16(l4, src->port);
		put16(l4 + 2, dst->port);
		put32(l4 + 4, opt->seq);
		put32(l4 + 8, opt->ack);
		l4[12] = 5 << 4;
		l4[13] = opt->tcp_flags ? opt->tcp_flags : 0x18; /* PSH ACK */
		put16(l4 + 14, 65535);
		memcpy(l4 + 20, payload, len);
		l4len = len + 20;
	} else {
		l4len = pg_udp_datagram(l4, sz - (size_t)(l4 - out), src, dst,
		    payload, len);
	}
	if (fam == 4) {
		uint16_t	 fo = (uint16_t)(opt->frag_off / 8);

		memset(ip, 0, 20);
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(20 + l4len));
		put16(ip + 4, opt->ip_id);
		if (opt->frag_more)
			fo |= 0x2000;
		put16(ip + 6, fo);
		ip[8] = 64;
		ip[9] = opt->proto ? opt->proto : opt->tcp ? 6 : 17;
		memcpy(ip + 12, sa, 4);
		memcpy(ip + 16, da, 4);
		put16(ip + 10, csum(ip, 20, 0));
	} else {
		uint8_t	 nh = opt->proto ? opt->proto : opt->tcp ? 6 : 17;

		/* Destination Options, innermost first: PadN filling 6. */
		for (int k = opt->v6_dstopts - 1; k >= 0; k--) {
			uint8_t	*x = ip + 40 + 8 * k;

			memset(x, 0, 8);
			x[0] = nh;
			x[2] = 1;	/* PadN */
			x[3] = 4;
			nh = 60;
		}
		memset(ip, 0, 40);
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)(l4len + iph - 40));
		ip[6] = nh;
		ip[7] = 64;
		memcpy(ip + 8, sa, 16);
		memcpy(ip + 24, da, 16);
	}
	if (opt->tcp && !opt->raw_l4) {
		/* The TCP checksum over the pseudo-header (always right
		 * unless asked otherwise). */
		uint8_t		 ph[40];
		size_t		 alen = fam == 4 ? 4 : 16, o2 = 0;
		uint32_t	 sum = 0;
		uint16_t	 c;

		memcpy(ph, sa, alen);
		memcpy(ph + alen, da, alen);
		o2 = 2 * alen;
		ph[o2++] = 0;
		ph[o2++] = 0;
		ph[o2++] = (uint8_t)(l4len >> 8);
		ph[o2++] = (uint8_t)l4len;
		ph[o2++] = 0;
		ph[o2++] = 0;
		ph[o2++] = 0;
		ph[o2++] = 6;
		for (size_t k = 0; k < o2; k += 2)
			sum += (uint32_t)(ph[k] << 8 | ph[k + 1]);
		c = csum(l4, l4len, sum);
		if (opt->bad_csum)
			c ^= 0x5555;
		put16(l4 + 16, c);
	}
	return (size_t)(l4 - out) + l4len;
}

/* ---- pcap ------------------------------------------------------------------ */

struct pg_pcap *
pg_pcap_open_link(const char *path, int dlt)
{
	struct pg_pcap	*w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->pc = pcap_open_dead_with_tstamp_precision(dlt, 65535,
	    PCAP_TSTAMP_PRECISION_NANO);
	if (w->pc == NULL || (w->d = pcap_dump_open(w->pc, path)) == NULL) {
		if (w->pc != NULL) {
			fprintf(stderr, "pktgen: %s: %s\n", path,
			    pcap_geterr(w->pc));
			pcap_close(w->pc);
		}
		free(w);
		return NULL;
	}
	return w;
}

struct pg_pcap *
pg_pcap_open(const char *path)
{
	return pg_pcap_open_link(path, DLT_EN10MB);
}

void
pg_pcap_write(struct pg_pcap *w, uint64_t t_ns, const void *p, size_t len)
{
	struct pcap_pkthdr	 h;

	memset(&h, 0, sizeof(h));
	h.ts.tv_sec = (time_t)(t_ns / 1000000000ULL);
	h.ts.tv_usec = (suseconds_t)(t_ns % 1000000000ULL); /* ns precision */
	h.caplen = h.len = (bpf_u_int32)len;
	pcap_dump((u_char *)w->d, &h, p);
}

void
pg_pcap_close(struct pg_pcap *w)
{
	if (w == NULL)
		return;
	pcap_dump_close(w->d);
	pcap_close(w->pc);
	free(w);
}
