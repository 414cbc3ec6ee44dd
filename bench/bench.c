/*
 * bench.c: what one message costs in the engine, measured against
 * libosip2's own parse of the same message (the one allocation the hot
 * path is allowed).  Absolute times drift on a shared machine; the ratios
 * printed are measured in one run, with the cases interleaved.
 *
 *   build/bench [bindings] [rounds]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osipparser2/osip_parser.h>

#include "bind.h"
#include "clock.h"
#include "conf.h"
#include "enforce.h"
#include "engine.h"
#include "events.h"
#include "hash.h"
#include "pktgen.h"
#include "sipmsg.h"

#define NFRAMES		4096

struct frame {
	uint8_t		 b[1600];
	size_t		 len;
};

static struct frame	*legit, *forged, *fresh, *flood, *reg, *kalive;
static char		 invite_text[2048];
static size_t		 invite_len;

static const struct pg_ep PROXY = { { 2, 0, 0, 0, 0, 1 }, "192.0.2.1",
    5060 };

static void
ep_of(struct pg_ep *ep, char *ipbuf, size_t len, unsigned n)
{
	pg_mac(ep->mac, 0x1000 + n);
	snprintf(ipbuf, len, "10.%u.%u.%u", (n >> 16) & 0xff, (n >> 8) & 0xff,
	    n & 0xff);
	/* Public addresses, so nothing is taken for NAT. */
	ipbuf[0] = '4';
	ipbuf[1] = '4';
	ep->ip = ipbuf;
	ep->port = 5060;
}

static size_t
build(struct frame *f, const struct pg_ep *src, const struct pg_ep *dst,
    const char *method, int status, const char *user, const char *via,
    uint32_t cseq, const char *cid, const char *contact, const char *body)
{
	char		 text[1400], a[64], v[64];
	struct pg_msg	 m;

	snprintf(a, sizeof(a), "sip:%s@example.com", user);
	snprintf(v, sizeof(v), "%s:5060", via);
	memset(&m, 0, sizeof(m));
	m.method = method;
	m.status = status;
	m.via = v;
	m.from = a;
	m.to = method && strcmp(method, "REGISTER") != 0 ?
	    "sip:bob@example.com" : a;
	m.call_id = cid;
	m.cseq = cseq;
	m.cseq_method = method ? NULL : "REGISTER";
	m.contact = contact;
	m.expires = -1;
	m.body = body;
	f->len = pg_frame(f->b, sizeof(f->b), src, dst, text,
	    pg_sip(text, sizeof(text), &m), NULL);
	return f->len;
}

static const char *SDP =
	"v=0\r\no=- 1 1 IN IP4 44.0.0.1\r\ns=-\r\nc=IN IP4 44.0.0.1\r\n"
	"t=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\n"
	"a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n";

/* Register `n' users through the engine, as the proxy would answer. */
static void
populate(struct engine *e, unsigned n, uint64_t *now)
{
	struct frame	 f;
	char		 ip[32], user[32], cid[32], contact[80];
	struct pg_ep	 ep;

	for (unsigned k = 0; k < n; k++) {
		ep_of(&ep, ip, sizeof(ip), k);
		snprintf(user, sizeof(user), "u%u", k);
		snprintf(cid, sizeof(cid), "reg-%u", k);
		snprintf(contact, sizeof(contact), "<sip:%s@%s:5060>", user,
		    ip);
		build(&f, &ep, &PROXY, "REGISTER", 0, user, ip, 1, cid,
		    contact, NULL);
		engine_packet(e, LINK_ETHERNET, f.b, f.len, NULL, DIR_UNKNOWN,
		    (*now += 1000));
		snprintf(contact, sizeof(contact), "<sip:%s@%s:5060>;"
		    "expires=86400", user, ip);
		build(&f, &PROXY, &ep, NULL, 200, user, "192.0.2.1", 1, cid,
		    contact, NULL);
		engine_packet(e, LINK_ETHERNET, f.b, f.len, NULL, DIR_UNKNOWN,
		    (*now += 1000));
	}
}

static void
make_frames(unsigned nusers)
{
	char		 ip[32], user[32], cid[32], contact[80];
	struct pg_ep	 ep, eve;

	legit = calloc(NFRAMES, sizeof(*legit));
	forged = calloc(NFRAMES, sizeof(*forged));
	fresh = calloc(NFRAMES, sizeof(*fresh));
	flood = calloc(NFRAMES, sizeof(*flood));
	reg = calloc(NFRAMES, sizeof(*reg));
	kalive = calloc(NFRAMES, sizeof(*kalive));
	for (unsigned k = 0; k < NFRAMES; k++) {
		unsigned u = (k * 7919) % nusers;

		ep_of(&ep, ip, sizeof(ip), u);
		snprintf(user, sizeof(user), "u%u", u);
		snprintf(cid, sizeof(cid), "call-%u", k);
		snprintf(contact, sizeof(contact), "<sip:%s@%s:5060>", user,
		    ip);
		/* vii: a bound user's INVITE with SDP. */
		build(&legit[k], &ep, &PROXY, "INVITE", 0, user, ip, 1, cid,
		    contact, SDP);
		/* ix: the same INVITE from another MAC (one forged K). */
		eve = ep;
		pg_mac(eve.mac, 0xeeee);
		build(&forged[k], &eve, &PROXY, "INVITE", 0, "u0",
		    "44.0.0.0", 1, cid, contact, SDP);
		/* A new forged K every time: module I, alarm, blacklist. */
		snprintf(user, sizeof(user), "x%u", k);
		build(&fresh[k], &eve, &PROXY, "INVITE", 0, user, ip, 1, cid,
		    contact, SDP);
		/* REGISTER re-registrations of bound users. */
		snprintf(user, sizeof(user), "u%u", u);
		build(&reg[k], &ep, &PROXY, "REGISTER", 0, user, ip,
		    (uint32_t)k + 10, cid, contact, NULL);
		/* CRLFCRLF keep-alives. */
		kalive[k].len = pg_frame(kalive[k].b, sizeof(kalive[k].b),
		    &ep, &PROXY, "\r\n\r\n", 4, NULL);
	}
	/* A flood from a source blacklisted by (m, i). */
	ep_of(&ep, ip, sizeof(ip), 0);
	for (unsigned k = 0; k < NFRAMES; k++)
		build(&flood[k], &ep, &PROXY, "INVITE", 0, "u0", ip, 1, "fl",
		    NULL, SDP);
	memcpy(invite_text, legit[0].b + 42, legit[0].len - 42);
	invite_len = legit[0].len - 42;
}

/*
 * osip2 as any program runs it: with malloc() and free(), not through
 * the arena hooks sipmsg.c installs (they would only add a call to each
 * allocation here).
 */
static double
time_osip(unsigned n)
{
	osip_malloc_func_t	*mf = osip_malloc_func;
	osip_realloc_func_t	*rf = osip_realloc_func;
	osip_free_func_t	*ff = osip_free_func;
	uint64_t		 t0;

	osip_set_allocators(NULL, NULL, NULL);
	t0 = clock_mono();
	for (unsigned k = 0; k < n; k++) {
		osip_message_t	*m;

		osip_message_init(&m);
		osip_message_parse(m, invite_text, invite_len);
		osip_message_free(m);
	}
	t0 = clock_mono() - t0;
	osip_set_allocators(mf, rf, ff);
	return (double)t0 / n;
}

/* Our SIP stage alone: filter, osip2 on the headers, field extraction. */
static double
time_sipm(const char *text, size_t len, unsigned n, enum sipm_kind want)
{
	struct sipm_parser	*sp = sipm_parser_create();
	struct sipm		 m;
	uint64_t		 t0 = clock_mono();

	for (unsigned k = 0; k < n; k++)
		if (sipm_parse(sp, (const uint8_t *)text, len, false, &m) !=
		    want)
			abort();
	t0 = clock_mono() - t0;
	sipm_parser_destroy(sp);
	return (double)t0 / n;
}

/*
 * The costliest messages tests/test_sipmsg.c "robust/cost" finds for the
 * SIP stage: values as long as sipmsg.c's bounds let osip2 have them.
 * Each '#' of the template is `unit' repeated to `fill' bytes.
 */
#define W_VIA		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK7\r\n"
#define W_FROM		"From: <sip:alice@example.com>;tag=9fxced76sl\r\n"
#define W_TO		"To: <sip:bob@example.com>\r\n"
#define W_CID		"Call-ID: 3848276298220188511@192.0.2.10\r\n"
#define W_END		"Content-Length: 0\r\n\r\n"
#define W_P31		";x=y;x=y;x=y;x=y;x=y;x=y;x=y;x=y;x=y;x=y;x=y;x=y;" \
			"x=y;x=y;x=y;x=y;x=y;x=y;x=y;x=y;x=y;x=y;x=y;x=y;" \
			"x=y;x=y;x=y;x=y;x=y;x=y;x=y"

static const struct {
	const char	*name;
	const char	*tmpl;
	const char	*unit;
	size_t		 fill;
} worst[] = {
	{ "long Contact hosts", "SIP/2.0 200 OK\r\n" W_VIA W_FROM W_TO W_CID
	    "CSeq: 1 REGISTER\r\nContact: <sip:a@#>\r\n"
	    "Contact: <sip:b@#>\r\n" W_END, "a", 2900 },
	{ "long escaped users", "INVITE sip:bob@example.com SIP/2.0\r\n"
	    W_VIA "From: <sip:#@b>;tag=1\r\nTo: <sip:#@b>\r\n" W_CID
	    "CSeq: 2 INVITE\r\n" W_END, "%41", 2900 },
	{ "long R-URI and users", "INVITE sip:#@b SIP/2.0\r\n" W_VIA
	    "From: <sip:#@b>;tag=1\r\nTo: <sip:#@b>\r\n" W_CID
	    "CSeq: 2 INVITE\r\n" W_END, "%41", 1950 },
	{ "R-URI, From: 32 params", "INVITE sip:b" W_P31 ";x=# SIP/2.0\r\n"
	    W_VIA "From: <sip:a@b" W_P31 ";x=#>\r\n" W_TO W_CID
	    "CSeq: 2 INVITE\r\n" W_END, "a", 2800 },
	{ "quoted parameters", "INVITE sip:bob@example.com SIP/2.0\r\n"
	    W_VIA "From: <sip:a@b>;tag=1;x=\"#\"\r\nTo: <sip:b@b>;x=\"#\"\r\n"
	    W_CID "CSeq: 2 INVITE\r\n" W_END, "\\\"", 2900 },
};

static size_t
worst_build(char *b, size_t sz, size_t w)
{
	size_t	 o = 0, ul = strlen(worst[w].unit);

	for (const char *t = worst[w].tmpl; *t != '\0' && o + ul < sz; t++) {
		if (*t != '#') {
			b[o++] = *t;
			continue;
		}
		for (size_t f = 0; f + ul <= worst[w].fill && o + ul < sz;
		    f += ul) {
			memcpy(b + o, worst[w].unit, ul);
			o += ul;
		}
	}
	return o;
}

/*
 * A capture replayed: the cases above in turn, one message of each, as
 * `sipguard -r' feeds them to the engine (its output aside); against
 * osip2's whole parse of the same payloads, hooks off as in time_osip().
 */
static const struct frame *
mix_frame(unsigned k)
{
	const struct frame	*sets[] = { legit, reg, forged, fresh, flood,
				    kalive };
	unsigned		 s = k % nitems(sets);

	return &sets[s][(k / nitems(sets)) % NFRAMES];
}

static double
time_mix_osip(unsigned n)
{
	osip_malloc_func_t	*mf = osip_malloc_func;
	osip_realloc_func_t	*rf = osip_realloc_func;
	osip_free_func_t	*ff = osip_free_func;
	uint64_t		 t0;

	osip_set_allocators(NULL, NULL, NULL);
	t0 = clock_mono();
	for (unsigned k = 0; k < n; k++) {
		const struct frame	*x = mix_frame(k);
		osip_message_t		*m;

		osip_message_init(&m);
		osip_message_parse(m, (const char *)x->b + 42, x->len - 42);
		osip_message_free(m);
	}
	t0 = clock_mono() - t0;
	osip_set_allocators(mf, rf, ff);
	return (double)t0 / n;
}

static double
time_mix(struct engine *e, unsigned n, uint64_t *now)
{
	uint64_t	 t0 = clock_mono();

	for (unsigned k = 0; k < n; k++) {
		const struct frame *x = mix_frame(k);

		engine_packet(e, LINK_ETHERNET, x->b, x->len, NULL,
		    DIR_UNKNOWN, (*now += 10000000));
	}
	return (double)(clock_mono() - t0) / n;
}

static double
time_engine(struct engine *e, const struct frame *f, unsigned n,
    uint64_t *now, enum sg_verdict want, const char *what)
{
	uint64_t	 t0 = clock_mono();
	unsigned	 bad = 0;

	for (unsigned k = 0; k < n; k++) {
		const struct frame *x = &f[k % NFRAMES];

		/* 100 messages a second of packet time: each user sends
		 * one every 40 s, as a phone does, not a flood. */
		if (engine_packet(e, LINK_ETHERNET, x->b, x->len, NULL,
		    DIR_UNKNOWN, (*now += 10000000)) != want)
			bad++;
	}
	if (bad > n / 100)
		fprintf(stderr, "bench: %s: %u of %u unexpected verdicts\n",
		    what, bad, n);
	return (double)(clock_mono() - t0) / n;
}

/*
 * The flood again, with what the daemon's worker adds for a dropped
 * packet's event line (daemon.c, judge and event_drop): `admit' false,
 * drop lines off (the check alone); else the bucket asked, and the line
 * formatted and buffered when it gives a token (the main loop's writes,
 * to /dev/null, every 1000 packets, are counted in).
 */
static double
time_drop_events(struct engine *e, const struct frame *f, unsigned n,
    uint64_t *now, struct events *ev)
{
	uint64_t	 t0 = clock_mono();
	char		 line[EVENTS_LINE_MAX];

	for (unsigned k = 0; k < n; k++) {
		const struct frame	*x = &f[k % NFRAMES];
		struct events_drop	 d;
		size_t			 len;

		*now += 10000000;
		if (engine_packet(e, LINK_ETHERNET, x->b, x->len, NULL,
		    DIR_UNKNOWN, *now) != SG_DROP ||
		    !events_drops_on(ev) || !events_drop_admit(ev, *now))
			continue;
		memset(&d, 0, sizeof(d));
		d.now = *now;
		d.l3 = x->b + 14;
		d.l3len = x->len - 14;
		d.reason = "blacklisted";
		if ((len = events_drop(&d, line, sizeof(line))) > 0)
			events_push_drop(ev, line, len);
		if (k % 1000 == 999)
			events_flush(ev);
	}
	events_flush(ev);
	return (double)(clock_mono() - t0) / n;
}

int
main(int argc, char *argv[])
{
	unsigned		 nusers = argc > 1 ? (unsigned)atoi(argv[1]) :
				    50000;
	unsigned		 rounds = argc > 2 ? (unsigned)atoi(argv[2]) : 5;
	unsigned		 n = 40000;
	struct sg_conf		 conf;
	struct conf_errors	 errs;
	struct engine		*e;
	struct bind_stats	 bs;
	uint64_t		 now = 1764547200ULL * 1000000000ULL;
	/*
	 * Module II trains on the registrations, then runs trained: the
	 * steady state, every stage of the pipeline at work.
	 */
	const char		*sets[] = {
		"proxy.addresses = [\"192.0.2.1\"]",
		"tables.bindings = 65536",
		"training.duration = 0.05",
		"startup.learn = 0",	/* a daemon that knows its phones */
	};
	double		 t[9] = { 0 }, tw[nitems(worst)] = { 0 };
	double		 tmix = 0, tmixo = 0, tev[3] = { 0 };
	struct events	*ev;
	static char	 wtext[nitems(worst)][SG_PKT_MAX];
	size_t		 wlen[nitems(worst)], wk = 0;
	char		 wname[80];
	const char	*names[9] = {
		"osip2 parse+free of the INVITE (reference)",
		"SIP stage alone (scan, osip2 per header)",
		"vii: bound user's INVITE, accepted",
		"REGISTER re-registration, accepted",
		"forged INVITE, K already blacklisted",
		"forged INVITE, new K (module I, alarm, list)",
		"flood from a (m, i)-blacklisted source",
		"CRLFCRLF keep-alive",
		wname,
	};

	hash_init();
	if (conf_load(NULL, sets, (int)nitems(sets), &conf, &errs) == -1) {
		fputs(errs.buf, stderr);
		return 1;
	}
	if ((e = engine_create(&conf)) == NULL)
		return 1;
	parser_init();
	make_frames(nusers);
	populate(e, nusers, &now);
	bind_stats(engine_bindings(e), &bs);
	if (bs.live != nusers)
		fprintf(stderr, "bench: %u bindings, expected %u\n", bs.live,
		    nusers);
	/* (m, i)-block the flood source, as module II would. */
	{
		struct bl_key	 k;
		struct sg_tuple	 tup;

		memset(&tup, 0, sizeof(tup));
		memcpy(tup.m.b, flood[0].b + 6, 6);
		tup.has_m = true;
		tup.i.family = SG_AF_INET;
		memcpy(tup.i.a, flood[0].b + 26, 4);
		enf_key_mi(&k, &tup);
		enf_add(engine_enforcer(e), &k, "bench", NULL, SEC(86400),
		    now);
	}
	for (size_t w = 0; w < nitems(worst); w++)
		wlen[w] = worst_build(wtext[w], sizeof(wtext[w]), w);
	if ((ev = events_create("/dev/null")) == NULL)
		return 1;
	for (unsigned r = 0; r < rounds; r++) {
		t[0] += time_osip(n);
		t[1] += time_sipm(invite_text, invite_len, n, SIPM_K_SIP);
		for (size_t w = 0; w < nitems(worst); w++)
			tw[w] += time_sipm(wtext[w], wlen[w], n / 20,
			    SIPM_K_SIP);
		t[2] += time_engine(e, legit, n, &now, SG_ACCEPT, names[2]);
		t[3] += time_engine(e, reg, n, &now, SG_ACCEPT, names[3]);
		t[4] += time_engine(e, forged, n, &now, SG_DROP, names[4]);
		t[5] += time_engine(e, fresh, n, &now, SG_DROP, names[5]);
		t[6] += time_engine(e, flood, n, &now, SG_DROP, names[6]);
		t[7] += time_engine(e, kalive, n, &now, SG_ACCEPT, names[7]);
		tmixo += time_mix_osip(n);
		tmix += time_mix(e, n, &now);
		/* Off; on, the flood over the rate (1/s: every packet
		 * refused); on, within it (every packet a line). */
		events_set_drops_rate(ev, 0);
		tev[0] += time_drop_events(e, flood, n, &now, ev);
		events_set_drops_rate(ev, 1);
		(void)events_drop_admit(ev, now);
		tev[1] += time_drop_events(e, flood, n, &now, ev);
		events_set_drops_rate(ev, 1000000);
		tev[2] += time_drop_events(e, flood, n, &now, ev);
	}
	for (size_t w = 1; w < nitems(worst); w++)
		if (tw[w] > tw[wk])
			wk = w;
	t[8] = tw[wk];
	snprintf(wname, sizeof(wname), "worst message found (%s)",
	    worst[wk].name);
	printf("sipguard bench: %u bindings, %u messages x %u rounds per "
	    "case, interleaved\n\n", bs.live, n, rounds);
	printf("  %-46s %9s %9s\n", "case", "ns/msg", "x osip2");
	for (int k = 0; k < 9; k++)
		printf("  %-46s %9.0f %9.2f\n", names[k], t[k] / rounds,
		    t[k] / t[0]);
	printf("\n  worst message found: %.1f times the SIP stage's INVITE "
	    "(%zu bytes)\n", t[8] / t[1], wlen[wk]);
	printf("\n  a capture replayed (the six cases in turn): %.0f ns/msg "
	    "through the engine,\n  %.0f ns/msg for osip2's own parse of "
	    "the same payloads: %.2f\n", tmix / rounds, tmixo / rounds,
	    tmix / tmixo);
	printf("\n  the flood's drops with drop events (log.json_drops_rate):"
	    "\n  off %.0f ns/pkt, on and over the rate %.0f, on and within"
	    " it (a line each) %.0f\n", tev[0] / rounds, tev[1] / rounds,
	    tev[2] / rounds);
	printf("\n  binding table: %.0f bytes per binding (indexes and "
	    "Bloom filter included)\n", (double)bs.memory / bs.capacity);
	events_destroy(ev);
	engine_destroy(e);
	return 0;
}
