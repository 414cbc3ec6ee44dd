/*
 * stream.c: TCP reassembly for the judge (see stream.h for the rules).
 *
 * Sequence numbers compare modulo 2^32.  A connection's key is oriented
 * client -> proxy whatever the segment's direction, so both directions
 * find the same entry.  The table is a chained hash over fixed slots with
 * an LRU list; a slot is recycled only when idle at a message boundary
 * (no buffer held, not poisoned): recycling it then loses nothing, since
 * the next segment on that connection starts a message and is picked up.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hash.h"
#include "htab.h"
#include "sipmsg.h"
#include "stream.h"

#define DIR_IN		0
#define DIR_OUT		1
#define EVICT_SCAN	16	/* LRU entries examined for a free slot */
#define EXPIRE_BUDGET	1024	/* entries forgotten per stream_expire() */

/* An accepted segment, remembered until it is surely delivered: an
 * identical retransmission of it is then recognised. */
struct seen_seg {
	uint32_t	 seq, len;
	uint64_t	 h;
};
#define SEEN_SEGS	4

struct sdir {
	uint32_t	 next;		/* next sequence number expected */
	uint32_t	 buf;		/* pool index, or HNIL */
	uint32_t	 blen;		/* bytes held: a message's start */
	uint64_t	 held_since;	/* when the buffer was taken */
	bool		 synced;	/* `next' is known */
	bool		 poisoned;	/* a message was dropped: drop all */
	struct sipm_framer fr;		/* how far the held bytes were read */
	uint8_t		 nseen;
	struct seen_seg	 seen[SEEN_SEGS];
};

struct stream {
	struct sg_addr	 cli, srv;
	uint16_t	 cport, sport;
	bool		 used;
	bool		 seen_out;	/* the proxy answered its SYN */
	bool		 has_m;		/* the MAC that opened it */
	struct sg_mac	 m;
	bool		 m_known;
	bool		 proxy_closed;	/* the proxy sent its FIN */
	bool		 syn_pending;	/* a client SYN awaits the SYN-ACK */
	uint32_t	 syn_seq;
	bool		 established;	/* the client completed a handshake,
					   or the proxy sent on it */
	uint32_t	 isn_out;	/* the proxy's SYN-ACK sequence */
	bool		 has_acked;
	uint32_t	 acked;		/* highest ACK from the proxy */
	uint32_t	 src;		/* slot in the source table */
	uint32_t	 snext, sprev;	/* the source's connections */
	uint64_t	 hv;
	uint64_t	 last;
	struct sdir	 d[2];
};

/* A client device: (m, i), as the blacklist keys offenders (SPEC 6), so
 * a host forging a victim's address spends its own quota. */
struct source {
	struct sg_addr	 a;
	struct sg_mac	 m;
	bool		 has_m;
	uint64_t	 hv;
	uint32_t	 count;
	uint32_t	 nbufs;		/* buffers its connections hold */
	uint32_t	 first;		/* its connections, oldest first */
	uint32_t	 last;
};

struct stream_table {
	struct stream	*s;
	uint32_t	 n;
	struct hidx	 ix;
	struct dlist	 lru, free;
	struct source	*src;
	struct hidx	 srcix;
	struct dlist	 srcfree;
	uint8_t		*pool;
	uint32_t	*bfree;		/* stack of free buffer indexes */
	uint32_t	 nbuf, nbfree;
	/* The buffers held, oldest first, and whose each is (slot << 1 |
	 * direction): the one held longest is found at once. */
	struct dlist	 held;
	uint32_t	*bown;
	/* Is the client (m, i) of a connection a bound device?  The last
	 * quarter of the buffers is theirs (NULL: no reserve). */
	sg_known_fn	 known;
	void		*known_arg;
	uint64_t	 idle;
	uint32_t	 per_source;
	uint32_t	 buf_quota;	/* buffers per device */
	struct stream_stats st;
};

static inline int32_t
seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

struct stream_table *
stream_create(const struct sg_conf *c)
{
	struct stream_table	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->n = (uint32_t)c->tab_streams;
	t->nbuf = (uint32_t)c->tab_stream_buffers;
	t->idle = c->tcp_idle;
	t->per_source = (uint32_t)c->tcp_per_source;
	/* One device may hold a sixteenth of the buffers (at least 2). */
	t->buf_quota = t->nbuf / 16 > 2 ? t->nbuf / 16 : 2;
	t->s = sg_table_alloc(t->n, sizeof(*t->s));
	t->src = sg_table_alloc(t->n, sizeof(*t->src));
	t->pool = sg_table_alloc(t->nbuf, STREAM_BUF);
	t->bfree = sg_table_alloc(t->nbuf, sizeof(*t->bfree));
	t->bown = sg_table_alloc(t->nbuf, sizeof(*t->bown));
	if (t->s == NULL || t->src == NULL || t->pool == NULL ||
	    t->bfree == NULL || t->bown == NULL ||
	    dlist_init(&t->held, t->nbuf) == -1 ||
	    hidx_init(&t->ix, t->n) == -1 ||
	    dlist_init(&t->lru, t->n) == -1 ||
	    dlist_init(&t->free, t->n) == -1 ||
	    hidx_init(&t->srcix, t->n) == -1 ||
	    dlist_init(&t->srcfree, t->n) == -1) {
		stream_destroy(t);
		return NULL;
	}
	dlist_fill(&t->free, t->n);
	dlist_fill(&t->srcfree, t->n);
	for (uint32_t k = 0; k < t->nbuf; k++)
		t->bfree[k] = t->nbuf - 1 - k;
	t->nbfree = t->nbuf;
	t->st.capacity = t->n;
	t->st.buffers = t->nbuf;
	t->st.memory = (size_t)t->n * (sizeof(*t->s) + sizeof(*t->src)) +
	    hidx_memory(&t->ix, t->n) * 2 + (size_t)t->n * 4 *
	    sizeof(struct hlink) + (size_t)t->nbuf * (STREAM_BUF + 4);
	return t;
}

void
stream_destroy(struct stream_table *t)
{
	if (t == NULL)
		return;
	hidx_fini(&t->ix);
	hidx_fini(&t->srcix);
	dlist_fini(&t->lru);
	dlist_fini(&t->free);
	dlist_fini(&t->srcfree);
	dlist_fini(&t->held);
	free(t->s);
	free(t->src);
	free(t->pool);
	free(t->bfree);
	free(t->bown);
	free(t);
}

void
stream_set_idle(struct stream_table *t, uint64_t idle)
{
	t->idle = idle;
}

void
stream_stats(const struct stream_table *t, struct stream_stats *st)
{
	*st = t->st;
	st->in_use = t->lru.count;
	st->buffers_in_use = t->nbuf - t->nbfree;
}

/* ---- buffers and sources ------------------------------------------------ */

static uint8_t *
bufp(struct stream_table *t, uint32_t b)
{
	return t->pool + (size_t)b * STREAM_BUF;
}

static uint32_t
buf_take(struct stream_table *t)
{
	return t->nbfree > 0 ? t->bfree[--t->nbfree] : HNIL;
}

static void
buf_put(struct stream_table *t, uint32_t b)
{
	if (b != HNIL)
		t->bfree[t->nbfree++] = b;
}

static void
dir_release(struct stream_table *t, struct stream *s, struct sdir *d)
{
	if (d->buf != HNIL) {
		t->src[s->src].nbufs--;
		dlist_del(&t->held, d->buf);
	}
	buf_put(t, d->buf);
	d->buf = HNIL;
	d->blen = 0;
}

static void
dir_attach(struct stream_table *t, struct stream *s, struct sdir *d,
    uint32_t b, uint64_t now)
{
	d->buf = b;
	d->held_since = now;
	t->src[s->src].nbufs++;
	t->bown[b] = (uint32_t)(s - t->s) << 1 | (uint32_t)(d - s->d);
	dlist_push_tail(&t->held, b);
}

void
stream_set_known(struct stream_table *t, sg_known_fn fn, void *arg)
{
	t->known = fn;
	t->known_arg = arg;
}

static uint64_t
addr_hash(const struct sg_addr *a)
{
	return hash_bytes(a, sizeof(*a));
}

static uint64_t
source_hash(const struct sg_addr *a, const struct sg_mac *m, bool has_m)
{
	uint64_t	 h = addr_hash(a);

	return has_m ? hash_mix(h, hash_bytes(m, sizeof(*m))) : h;
}

static uint32_t
source_find(struct stream_table *t, const struct sg_addr *a,
    const struct sg_mac *m, bool has_m, uint64_t hv)
{
	for (uint32_t k = hidx_first(&t->srcix, hv); k != HNIL;
	    k = hidx_next(&t->srcix, k))
		if (t->src[k].hv == hv && sg_addr_eq(&t->src[k].a, a) &&
		    t->src[k].has_m == has_m && (!has_m ||
		    memcmp(&t->src[k].m, m, sizeof(*m)) == 0))
			return k;
	return HNIL;
}

/* Unlink connection `c' from its source; the source goes with its last. */
static void
source_put(struct stream_table *t, uint32_t c)
{
	struct stream	*s = &t->s[c];
	struct source	*src = &t->src[s->src];

	if (s->sprev != HNIL)
		t->s[s->sprev].snext = s->snext;
	else
		src->first = s->snext;
	if (s->snext != HNIL)
		t->s[s->snext].sprev = s->sprev;
	else
		src->last = s->sprev;
	if (--src->count > 0)
		return;
	hidx_del(&t->srcix, s->src, src->hv);
	dlist_push_tail(&t->srcfree, s->src);
}

/* ---- connections -------------------------------------------------------- */

static uint64_t
conn_hash(const struct sg_addr *cli, uint16_t cport,
    const struct sg_addr *srv, uint16_t sport)
{
	uint64_t	 h = hash_mix(addr_hash(cli), addr_hash(srv));

	return hash_mix(h, (uint64_t)cport << 16 | sport);
}

static void
conn_free(struct stream_table *t, uint32_t k)
{
	struct stream	*s = &t->s[k];

	dir_release(t, s, &s->d[DIR_IN]);
	dir_release(t, s, &s->d[DIR_OUT]);
	source_put(t, k);
	hidx_del(&t->ix, k, s->hv);
	dlist_del(&t->lru, k);
	dlist_push_tail(&t->free, k);
	s->used = false;
}

static bool
conn_idle(const struct stream_table *t, const struct stream *s, uint64_t now)
{
	return now > s->last && now - s->last > t->idle;
}

/*
 * A connection is recycled only when the proxy holds nothing of it:
 * never established (a spoofed source cannot complete a handshake), or
 * closed by the proxy, and no message held.  An established one never
 * is, whatever its state: picked up again, its next segment could begin
 * before the proxy's stream (whose stack trims what it has) and smuggle
 * a message past the framing.  A full table then refuses new ones.
 */
static bool
conn_evictable(const struct stream *s)
{
	return s->d[DIR_IN].buf == HNIL && (!s->established ||
	    s->proxy_closed);
}

static uint32_t
conn_find(struct stream_table *t, const struct sg_addr *cli, uint16_t cport,
    const struct sg_addr *srv, uint16_t sport, uint64_t hv, uint64_t now)
{
	for (uint32_t k = hidx_first(&t->ix, hv); k != HNIL;
	    k = hidx_next(&t->ix, k)) {
		struct stream	*s = &t->s[k];

		if (s->hv != hv || s->cport != cport || s->sport != sport ||
		    !sg_addr_eq(&s->cli, cli) || !sg_addr_eq(&s->srv, srv))
			continue;
		if (conn_idle(t, s, now)) {
			conn_free(t, k);
			t->st.expired++;
			return HNIL;
		}
		return k;
	}
	return HNIL;
}

/* A free slot: the free list, else an idle or boundary entry of the LRU. */
static uint32_t
conn_slot(struct stream_table *t, uint64_t now)
{
	uint32_t	 k = t->lru.head;

	if (t->free.count > 0)
		return dlist_pop_head(&t->free);
	for (int n = 0; n < EVICT_SCAN && k != HNIL; n++,
	    k = t->lru.link[k].next) {
		if (conn_idle(t, &t->s[k], now)) {
			t->st.expired++;
			conn_free(t, k);
			return dlist_pop_head(&t->free);
		}
		if (conn_evictable(&t->s[k])) {
			t->st.evicted++;
			conn_free(t, k);
			return dlist_pop_head(&t->free);
		}
	}
	return HNIL;
}

static uint32_t
conn_new(struct stream_table *t, const struct dec_pkt *pkt, bool inbound,
    const struct sg_addr *cli, uint16_t cport, const struct sg_addr *srv,
    uint16_t sport, uint64_t hv, uint64_t now, const char **why)
{
	/* The client's MAC only when it sent this packet. */
	bool		 has_m = inbound && pkt->has_mac;
	uint64_t	 sh = source_hash(cli, &pkt->smac, has_m);
	uint32_t	 sk, k;
	struct stream	*s;

	/* First the slot: recycling may end this source's last entry. */
	if ((k = conn_slot(t, now)) == HNIL) {
		*why = "connection table full";
		return HNIL;
	}
	sk = source_find(t, cli, &pkt->smac, has_m, sh);
	if (sk != HNIL && t->src[sk].count >= t->per_source) {
		/* At its quota, a device recycles its own oldest idle or
		 * boundary connection, or gets no new one. */
		uint32_t	 c = t->src[sk].first, victim = HNIL;

		for (int n = 0; n < EVICT_SCAN && c != HNIL &&
		    victim == HNIL; n++, c = t->s[c].snext)
			if (conn_idle(t, &t->s[c], now) ||
			    conn_evictable(&t->s[c]))
				victim = c;
		c = victim;
		if (c == HNIL || t->src[sk].count == 1) {
			dlist_push_tail(&t->free, k);
			*why = "too many connections from this device";
			return HNIL;
		}
		conn_free(t, c);
		t->st.evicted++;
	}
	if (sk == HNIL) {
		/* A source per connection at most: never runs out. */
		sk = dlist_pop_head(&t->srcfree);
		t->src[sk].a = *cli;
		t->src[sk].m = has_m ? pkt->smac : (struct sg_mac){ { 0 } };
		t->src[sk].has_m = has_m;
		t->src[sk].hv = sh;
		t->src[sk].count = 0;
		t->src[sk].first = t->src[sk].last = HNIL;
		hidx_add(&t->srcix, sk, sh);
	}
	t->src[sk].count++;
	s = &t->s[k];
	memset(s, 0, sizeof(*s));
	s->snext = HNIL;
	s->sprev = t->src[sk].last;
	if (s->sprev != HNIL)
		t->s[s->sprev].snext = k;
	else
		t->src[sk].first = k;
	t->src[sk].last = k;
	s->used = true;
	s->cli = *cli;
	s->srv = *srv;
	s->cport = cport;
	s->sport = sport;
	s->hv = hv;
	s->src = sk;
	s->d[DIR_IN].buf = s->d[DIR_OUT].buf = HNIL;
	hidx_add(&t->ix, k, hv);
	dlist_push_tail(&t->lru, k);
	t->st.opened++;
	return k;
}

void
stream_expire(struct stream_table *t, uint64_t now)
{
	for (int n = 0; n < EXPIRE_BUDGET && t->lru.head != HNIL; n++) {
		uint32_t	 k = t->lru.head;

		if (!conn_idle(t, &t->s[k], now))
			break;
		conn_free(t, k);
		t->st.expired++;
	}
}

/*
 * A buffer for connection `keep'.  A device holds at most a sixteenth
 * of the pool, and the last quarter of it is for bound devices (and the
 * proxy's own messages).  None free: take one back from the least
 * recently used connection that was never established (a spoofed
 * source's slow message: the proxy holds nothing of it), or the buffer
 * held longest if it has held part of a message for HOLD_MAX (a slow
 * message on a real connection: poisoned, so the proxy never completes
 * it), so neither flood can starve the phones' messages that span
 * segments.  Sixteen addresses of one host (an IPv6 /64) held every
 * buffer for good, the old ones out of sight of the connections' LRU,
 * and a phone's INVITE in two segments was dropped (an attacker's
 * review).
 */
#define HOLD_MAX	SEC(60)

/*
 * May connection `keep' take one of the last quarter of the buffers?
 * Only if its client is a bound device holding less than a quarter of
 * its quota, whichever way the message goes (the proxy's answers to an
 * unbound client stopped mid-message by a closed window took the
 * reserve; four bound subscribers at their quota filled it).
 */
static bool
may_take_reserve(struct stream_table *t, uint32_t keep)
{
	const struct stream	*s = &t->s[keep];
	uint32_t		 cap = t->buf_quota / 4 > 0 ? t->buf_quota / 4 :
				    1;

	return t->known == NULL || (t->src[s->src].nbufs < cap &&
	    t->known(t->known_arg, s->has_m ? &s->m : NULL, &s->cli));
}

/* The buffer held longest, if it has held its message too long. */
static uint32_t
buf_reclaim_oldest(struct stream_table *t, uint32_t keep, uint64_t now)
{
	uint32_t	 b = t->held.head, k;
	struct stream	*s;
	struct sdir	*d;

	/* Not the asker's own other direction. */
	if (b != HNIL && t->bown[b] >> 1 == keep)
		b = t->held.link[b].next;
	if (b == HNIL)
		return HNIL;
	k = t->bown[b] >> 1;
	s = &t->s[k];
	d = &s->d[t->bown[b] & 1];
	if (k == keep || now - d->held_since <= HOLD_MAX)
		return HNIL;
	dir_release(t, s, d);
	if (d == &s->d[DIR_IN]) {
		d->poisoned = true;
		t->st.poisoned++;
	} else
		d->synced = false;	/* the proxy's: learn from the next */
	return buf_take(t);
}

static uint32_t
buf_get(struct stream_table *t, uint32_t keep, uint64_t now)
{
	uint32_t	 k = t->lru.head, b;

	if (t->src[t->s[keep].src].nbufs >= t->buf_quota) {
		t->st.buf_quota++;
		return HNIL;
	}
	if (t->nbfree > t->nbuf / 4 || (t->nbfree > 0 &&
	    may_take_reserve(t, keep)))
		return buf_take(t);
	if ((b = buf_reclaim_oldest(t, keep, now)) != HNIL)
		return b;
	for (int n = 0; n < EVICT_SCAN && k != HNIL; n++,
	    k = t->lru.link[k].next) {
		struct stream	*s = &t->s[k];
		struct sdir	*in = &s->d[DIR_IN];

		if (k == keep)
			continue;
		if (!s->established && (in->buf != HNIL ||
		    s->d[DIR_OUT].buf != HNIL)) {
			conn_free(t, k);
			t->st.evicted++;
			return buf_take(t);
		}
		if (in->buf != HNIL && now - in->held_since > HOLD_MAX) {
			dir_release(t, s, in);
			in->poisoned = true;
			t->st.poisoned++;
			return buf_take(t);
		}
	}
	return HNIL;
}

/* ---- framing ------------------------------------------------------------ */

static bool
is_tchar(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("-.!%*_+`'~", c) != NULL;
}

/*
 * Does the segment start a SIP message, as the proxy's first-line parser
 * would read it: "SIP/2.0" SP|HTAB ..., or token SP|HTAB ... SP|HTAB
 * "SIP/2.0" at the end of the line (any case, leading CRLFs allowed)?
 * The whole first line must be in the segment.
 */
static bool
starts_message(const uint8_t *p, size_t len)
{
	const uint8_t	*nl;
	size_t		 n, k = 0;

	while (len > 0 && (*p == '\r' || *p == '\n')) {
		p++;
		len--;
	}
	if ((nl = memchr(p, '\n', len)) == NULL)
		return false;
	n = (size_t)(nl - p);
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (n >= 8 && strncasecmp((const char *)p, "SIP/2.0", 7) == 0 &&
	    (p[7] == ' ' || p[7] == '\t'))
		return true;
	while (k < n && is_tchar(p[k]))
		k++;
	if (k == 0 || k == n || (p[k] != ' ' && p[k] != '\t'))
		return false;
	while (n > k && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	return n >= k + 9 && strncasecmp((const char *)p + n - 7, "SIP/2.0",
	    7) == 0 && (p[n - 8] == ' ' || p[n - 8] == '\t');
}

static void
drop(struct stream_res *r, enum sg_reason why, const char *detail,
    bool alarm)
{
	r->action = STREAM_DROP;
	r->reason = why;
	r->why = detail;
	r->alarm = alarm;
}

/*
 * In-order bytes [next, next + len) for direction `dir' of slot `k':
 * append them to what the connection holds and cut whole messages.
 */
static void
frame(struct stream_table *t, uint32_t k, int dir, const uint8_t *data,
    size_t len, struct stream_res *r)
{
	struct sdir	*d = &t->s[k].d[dir];
	const uint8_t	*p = data;
	size_t		 n = len, pos = 0;

	r->slot = k;
	r->dir = dir;
	r->next = d->next + (uint32_t)len;
	r->newbuf = HNIL;
	if (d->buf != HNIL) {
		if ((size_t)d->blen + len > STREAM_BUF) {
			/* No message sipguard accepts is this large. */
			r->msg[0].p = bufp(t, d->buf);
			r->msg[0].len = d->blen;
			r->nmsg = 1;
			r->unframed = true;
			r->action = STREAM_JUDGE;
			r->left_len = 0;
			return;
		}
		p = bufp(t, d->buf);
		memcpy((uint8_t *)p + d->blen, data, len);
		n = d->blen + len;
	}
	while (pos < n) {
		long	 m;

		while (pos < n && (p[pos] == '\r' || p[pos] == '\n'))
			pos++;
		if (pos == n)
			break;
		/*
		 * The held message (it starts the buffer) is read on from
		 * where the last segment left it: a message trickled in
		 * short lines is read once, not once a segment.
		 */
		if (pos == 0 && d->buf != HNIL)
			r->fr = d->fr;
		else
			memset(&r->fr, 0, sizeof(r->fr));
		m = sipm_frame_more(&r->fr, p + pos, n - pos);
		if (m < 0 || r->nmsg == STREAM_MAX_MSGS - 1) {
			/* Cannot be framed: the rest is one malformed
			 * message, and the stream must be picked up again. */
			r->msg[r->nmsg].p = p + pos;
			r->msg[r->nmsg++].len = n - pos;
			r->unframed = true;
			pos = n;
			break;
		}
		if (m == 0)
			break;
		r->msg[r->nmsg].p = p + pos;
		r->msg[r->nmsg++].len = (size_t)m;
		pos += (size_t)m;
	}
	r->left = p + pos;
	r->left_len = n - pos;
	if (r->left_len > 0 && d->buf == HNIL &&
	    (r->newbuf = buf_get(t, k, r->now)) == HNIL) {
		t->st.no_buffer++;
		r->nmsg = 0;
		if (dir == DIR_IN) {
			drop(r, SG_R_TCP_FULL, "no reassembly buffer free",
			    true);
			return;
		}
		/* Outbound: lose this message for learning, resync. */
		d->synced = false;
		r->action = STREAM_ACCEPT;
		r->reason = SG_R_OUTBOUND;
		return;
	}
	if (r->nmsg > 0) {
		r->action = STREAM_JUDGE;
		return;
	}
	/* Only part of a message: held, and the segment accepted. */
	t->st.held++;
	r->action = STREAM_JUDGE;	/* committed below, nothing to judge */
	stream_commit(t, r, SG_ACCEPT);
	r->action = STREAM_ACCEPT;
	r->reason = dir == DIR_IN ? SG_R_TCP : SG_R_OUTBOUND;
}

/* Remember the accepted segment (the whole of it, as its sender may
 * send it again). */
static void
seen_add(struct sdir *d, const struct stream_res *r)
{
	struct seen_seg	*g = &d->seen[d->nseen++ % SEEN_SEGS];

	g->seq = r->seg_seq;
	g->len = r->seg_len;
	g->h = r->seg_h;
}

static bool
seen_has(const struct sdir *d, uint32_t seq, uint32_t len, uint64_t h)
{
	for (int k = 0; k < SEEN_SEGS; k++)
		if (d->seen[k].len == len && d->seen[k].seq == seq &&
		    d->seen[k].h == h && len > 0)
			return true;
	return false;
}

void
stream_commit(struct stream_table *t, struct stream_res *r,
    enum sg_verdict v)
{
	struct stream	*s;
	struct sdir	*d;

	if (r->action != STREAM_JUDGE)
		return;
	s = &t->s[r->slot];
	d = &s->d[r->dir];
	t->st.judged += (uint64_t)r->nmsg;
	if (v == SG_DROP && r->dir == DIR_IN) {
		buf_put(t, r->newbuf);
		dir_release(t, s, d);
		d->poisoned = true;
		t->st.poisoned++;
		return;
	}
	d->next = r->next;
	seen_add(d, r);
	if (r->unframed) {
		/* Lost the message boundaries: pick up again later. */
		buf_put(t, r->newbuf);
		dir_release(t, s, d);
		d->synced = false;
		return;
	}
	if (r->left_len == 0) {
		buf_put(t, r->newbuf);
		dir_release(t, s, d);
		return;
	}
	if (d->buf == HNIL)
		dir_attach(t, s, d, r->newbuf, r->now);
	else {
		buf_put(t, r->newbuf);
		/*
		 * Messages were taken out and a new one is held: its time
		 * counts from now (a busy trunk, its segments ending mid-
		 * message, held "one message" for minutes, and an attacker
		 * asking for a buffer had its connection poisoned).
		 */
		if (r->left != bufp(t, d->buf)) {
			d->held_since = r->now;
			dlist_del(&t->held, d->buf);
			dlist_push_tail(&t->held, d->buf);
		}
	}
	/* The held message where it already is: nothing to move. */
	if (r->left != bufp(t, d->buf))
		memmove(bufp(t, d->buf), r->left, r->left_len);
	d->blen = (uint32_t)r->left_len;
	d->fr = r->fr;
}

/* ---- segments ----------------------------------------------------------- */

/*
 * Bytes [seq, seq + len) that the inbound stream has already passed:
 * acknowledged by the proxy (its stack discards them), or identical to
 * what is held.  Returns 0, or the reason to drop.
 */
static enum sg_reason
check_old(struct stream_table *t, struct stream *s, uint32_t seq,
    const uint8_t *p, size_t len)
{
	struct sdir	*d = &s->d[DIR_IN];
	uint32_t	 base = d->next - d->blen;

	if (s->has_acked && seq_diff(s->acked, seq) > 0) {
		uint32_t	 skip = (uint32_t)seq_diff(s->acked, seq);

		if (skip >= len)
			return SG_R_NONE;
		seq += skip;
		p += skip;
		len -= skip;
	}
	if (d->buf == HNIL || seq_diff(seq, base) < 0) {
		t->st.unverifiable++;
		return SG_R_TCP_UNVERIFIABLE;
	}
	if (memcmp(bufp(t, d->buf) + (uint32_t)seq_diff(seq, base), p,
	    len) != 0) {
		t->st.conflict++;
		return SG_R_TCP_CONFLICT;
	}
	return SG_R_NONE;
}

static void
touch(struct stream_table *t, uint32_t k, uint64_t now)
{
	t->s[k].last = now;
	dlist_del(&t->lru, k);
	dlist_push_tail(&t->lru, k);
}

/* The proxy accepted a new connection on this 4-tuple: start afresh. */
static void
restart_in(struct stream_table *t, struct stream *s, uint32_t next)
{
	struct sdir	*in = &s->d[DIR_IN];

	dir_release(t, s, in);
	memset(in->seen, 0, sizeof(in->seen));
	in->nseen = 0;
	in->poisoned = false;
	in->next = next;
	in->synced = true;
	s->established = false;
	s->has_acked = false;
	s->proxy_closed = false;
	s->syn_pending = false;
}

/*
 * What the proxy's own stack discards before any byte reaches its
 * socket must not enter the stream either, or sipguard's idea of the
 * stream drifts from the proxy's (an insertion): data without ACK
 * (tcp_validate_incoming), data on a SYN (no Fast Open), and urgent data,
 * whose byte Linux takes out of the stream (the proxy does not set
 * SO_OOBINLINE), so no two readers agree on what follows.
 */
static const char *
invalid_inbound(uint8_t fl, size_t len)
{
	if (fl & TCP_F_URG)
		return "urgent data";
	if ((fl & TCP_F_SYN) && len > 0)
		return "data on a SYN";
	if (len > 0 && !(fl & TCP_F_ACK))
		return "data without ACK";
	return NULL;
}

static void
outbound_control(struct stream_table *t, struct stream *s,
    const struct dec_pkt *pkt)
{
	uint8_t	 fl = pkt->tcp_flags;

	if (fl & TCP_F_SYN) {
		s->seen_out = true;
		s->isn_out = pkt->seq;
		if (s->syn_pending && (fl & TCP_F_ACK) &&
		    pkt->ack == s->syn_seq + 1)
			restart_in(t, s, s->syn_seq + 1);
		dir_release(t, s, &s->d[DIR_OUT]);
		s->d[DIR_OUT].next = pkt->seq + 1;
		s->d[DIR_OUT].synced = true;
		if (fl & TCP_F_ACK) {
			s->acked = pkt->ack;
			s->has_acked = true;
		}
		return;
	}
	if (!(fl & TCP_F_RST))
		s->established = true;
	if ((fl & TCP_F_ACK) && (!s->has_acked ||
	    seq_diff(pkt->ack, s->acked) > 0)) {
		s->acked = pkt->ack;
		s->has_acked = true;
	}
	if (fl & TCP_F_FIN)
		s->proxy_closed = true;
}

static void
res_init(struct stream_res *r, const struct dec_pkt *pkt, bool inbound,
    uint64_t now)
{
	r->action = STREAM_ACCEPT;
	r->reason = inbound ? SG_R_TCP : SG_R_OUTBOUND;
	r->why = NULL;
	r->alarm = false;
	r->nmsg = 0;
	r->unframed = false;
	r->left_len = 0;
	r->now = now;
	r->seg_seq = pkt->seq;
	r->seg_len = (uint32_t)pkt->plen;
	r->seg_h = inbound && pkt->plen > 0 ? hash_bytes(pkt->payload,
	    pkt->plen) : 0;
}

/*
 * The segment's connection: found, or opened by a SYN or a message
 * start.  HNIL when there is nothing to track, or it cannot be tracked
 * (*r says whether the segment is dropped).
 */
static uint32_t
conn_of(struct stream_table *t, const struct dec_pkt *pkt, bool inbound,
    uint64_t now, struct stream_res *r)
{
	const struct sg_addr *cli = inbound ? &pkt->src : &pkt->dst;
	const struct sg_addr *srv = inbound ? &pkt->dst : &pkt->src;
	uint16_t	 cport = inbound ? pkt->sport : pkt->dport;
	uint16_t	 sport = inbound ? pkt->dport : pkt->sport;
	uint64_t	 hv = conn_hash(cli, cport, srv, sport);
	uint8_t		 fl = pkt->tcp_flags;
	const char	*why = NULL;
	uint32_t	 k;

	if ((k = conn_find(t, cli, cport, srv, sport, hv, now)) != HNIL)
		return k;
	if ((fl & TCP_F_RST) || (pkt->plen == 0 && !(fl & TCP_F_SYN)))
		return HNIL;		/* nothing to track */
	if (!(fl & TCP_F_SYN) && !starts_message(pkt->payload, pkt->plen)) {
		if (inbound) {
			t->st.unsynced++;
			drop(r, SG_R_TCP_UNSYNCED, NULL, false);
		}
		return HNIL;
	}
	if ((k = conn_new(t, pkt, inbound, cli, cport, srv, sport, hv, now,
	    &why)) == HNIL) {
		t->st.refused++;
		if (inbound)
			drop(r, SG_R_TCP_FULL, why, true);
	}
	return k;
}

/*
 * The device that opened it, and no other, speaks on it: a segment from
 * another MAC is dropped and changes nothing.
 */
static bool
same_device(struct stream_table *t, struct stream *s,
    const struct dec_pkt *pkt, struct stream_res *r)
{
	if (!s->m_known) {
		s->m_known = true;
		s->has_m = pkt->has_mac;
		s->m = pkt->smac;
		return true;
	}
	if (s->has_m == pkt->has_mac && (!s->has_m ||
	    memcmp(&s->m, &pkt->smac, sizeof(s->m)) == 0))
		return true;
	t->st.other_mac++;
	drop(r, SG_R_TCP_INVALID, "another MAC on this connection", true);
	return false;
}

/*
 * RST, FIN, SYN: what they do to the connection.  True when the segment
 * is dealt with (it carries no data to read).
 */
static bool
control_flags(struct stream_table *t, uint32_t k, const struct dec_pkt *pkt,
    bool inbound, uint64_t now, struct stream_res *r)
{
	struct stream	*s = &t->s[k];
	uint8_t		 fl = pkt->tcp_flags;

	if (fl & TCP_F_RST) {
		/*
		 * The proxy's reset ends it.  The client's ends it where the
		 * proxy takes it (RFC 5961: exactly its rcv_nxt, which its
		 * last ACK states); any other is refused with a challenge
		 * ACK and the connection lives on.
		 */
		if (!inbound || (s->has_acked && pkt->seq == s->acked) ||
		    (!s->established && !s->has_acked)) {
			conn_free(t, k);
			t->st.closed++;
		}
		return true;
	}
	if (!inbound && (fl & TCP_F_FIN) && pkt->plen == 0) {
		/* The proxy closed it (Kamailio closes, never half-closes):
		 * it reads no more. */
		conn_free(t, k);
		t->st.closed++;
		return true;
	}
	if (s->d[inbound ? DIR_IN : DIR_OUT].poisoned) {
		drop(r, SG_R_TCP_POISONED, NULL, false);
		return true;
	}
	if (fl & TCP_F_SYN) {
		/*
		 * A client SYN moves nothing until the proxy answers it with
		 * a SYN-ACK for it (a new connection on this 4-tuple); on a
		 * connection it still holds it answers a challenge ACK and
		 * keeps its stream.
		 */
		if (inbound) {
			s->syn_pending = true;
			s->syn_seq = pkt->seq;
		}
		touch(t, k, now);
		return true;
	}
	touch(t, k, now);
	return pkt->plen == 0;
}

/* Picked up: at a message start, and where the proxy's stream is when it
 * has said so.  False when the segment cannot be read. */
static bool
pick_up(struct stream_table *t, struct stream *s, struct sdir *d,
    const struct dec_pkt *pkt, bool inbound, struct stream_res *r)
{
	if (d->synced)
		return true;
	if ((inbound && s->has_acked && pkt->seq != s->acked) ||
	    !starts_message(pkt->payload, pkt->plen)) {
		if (inbound) {
			t->st.unsynced++;
			drop(r, SG_R_TCP_UNSYNCED, NULL, false);
		}
		return false;
	}
	d->next = pkt->seq;
	d->synced = true;
	return true;
}

/*
 * Bytes before d->next (a retransmission, an overlap) must be the bytes
 * already judged; they are trimmed.  A hole ahead is never filled by
 * guessing.  False when nothing new is left to read (*r says why).
 */
static bool
in_order(struct stream_table *t, struct stream *s, struct sdir *d,
    bool inbound, const uint8_t **p, size_t *len, struct stream_res *r)
{
	int32_t		 off = seq_diff(r->seg_seq, d->next);
	size_t		 old;
	enum sg_reason	 why;

	if (off > 0) {
		if (inbound) {
			t->st.out_of_order++;
			drop(r, SG_R_TCP_OOO, NULL, false);
		} else {
			/* Outbound hole: learn again from the next start. */
			dir_release(t, s, d);
			d->synced = false;
		}
		return false;
	}
	if (off == 0)
		return true;
	old = (size_t)-(int64_t)off;
	if (old > *len)
		old = *len;
	if (inbound && old == *len && seen_has(d, r->seg_seq,
	    (uint32_t)*len, r->seg_h)) {
		/* A segment sent again as it was accepted. */
		t->st.retransmits++;
		return false;
	}
	if (inbound && (why = check_old(t, s, r->seg_seq, *p, old)) !=
	    SG_R_NONE) {
		if (why == SG_R_TCP_CONFLICT) {
			dir_release(t, s, d);
			d->poisoned = true;
			t->st.poisoned++;
			drop(r, why, "retransmission differs from what was "
			    "judged", true);
		} else
			drop(r, why, NULL, false);
		return false;
	}
	t->st.trimmed++;
	*p += old;
	*len -= old;
	return *len > 0;
}

void
stream_input(struct stream_table *t, const struct dec_pkt *pkt, bool inbound,
    uint64_t now, struct stream_res *r)
{
	int		 dir = inbound ? DIR_IN : DIR_OUT;
	const uint8_t	*p = pkt->payload;
	size_t		 len = pkt->plen;
	const char	*why;
	struct stream	*s;
	struct sdir	*d;
	uint32_t	 k;

	res_init(r, pkt, inbound, now);
	if (inbound && (why = invalid_inbound(pkt->tcp_flags, len)) != NULL) {
		t->st.invalid++;
		drop(r, SG_R_TCP_INVALID, why, false);
		return;
	}
	if ((k = conn_of(t, pkt, inbound, now, r)) == HNIL)
		return;
	s = &t->s[k];
	if (inbound && !same_device(t, s, pkt, r))
		return;
	if (!inbound)
		outbound_control(t, s, pkt);
	if (control_flags(t, k, pkt, inbound, now, r))
		return;
	d = &s->d[dir];
	if (!pick_up(t, s, d, pkt, inbound, r) ||
	    !in_order(t, s, d, inbound, &p, &len, r))
		return;
	frame(t, k, dir, p, len, r);
}
