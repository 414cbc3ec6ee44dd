/*
 * capture_pcap.c: the offline packet source.  Reads a capture with
 * libpcap, stamps each frame with its capture time (nanoseconds), runs
 * the engine and prints JSON Lines: one object per SIP message or
 * keep-alive in capture order, each alarm right after the line of the
 * frame that raised it; each begins with the capture time, "timestamp"
 * as in the event file (events.h).
 */
#include <sys/stat.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "alarm.h"
#include "capture_pcap.h"
#include "clock.h"
#include "decode.h"
#include "events.h"

#define QUEUED_MAX	16
#define LINE_MAX_	2048

struct replay {
	FILE		*out;
	uint64_t	 frame;
	uint64_t	 now;		/* the frame's capture time, ns */
	struct replay_summary *sum;
	char		 queued[QUEUED_MAX][LINE_MAX_];
	int		 nqueued;
};

static int
link_of(int dlt, enum dec_link *link)
{
	switch (dlt) {
	case DLT_EN10MB:
		*link = LINK_ETHERNET;
		return 0;
	case DLT_LINUX_SLL:
		*link = LINK_SLL;
		return 0;
#ifdef DLT_LINUX_SLL2
	case DLT_LINUX_SLL2:
		*link = LINK_SLL2;
		return 0;
#endif
	case DLT_RAW:
#ifdef DLT_IPV4
	case DLT_IPV4:
	case DLT_IPV6:
#endif
		*link = LINK_RAW;
		return 0;
	case DLT_NULL:
	case DLT_LOOP:
		*link = LINK_NULL;
		return 0;
	default:
		return -1;
	}
}

static pcap_t *
open_capture(const char *path, enum dec_link *link, char *errbuf, size_t len)
{
	char	 perr[PCAP_ERRBUF_SIZE];
	pcap_t	*pc;
	int	 dlt;

	pc = pcap_open_offline_with_tstamp_precision(path,
	    PCAP_TSTAMP_PRECISION_NANO, perr);
	if (pc == NULL) {
		snprintf(errbuf, len, "%s: cannot read capture: %s", path,
		    perr);
		return NULL;
	}
	dlt = pcap_datalink(pc);
	if (link_of(dlt, link) == -1) {
		const char *name = pcap_datalink_val_to_name(dlt);

		snprintf(errbuf, len, "%s: unsupported link type %s (%d): "
		    "Ethernet, Linux cooked (SLL, SLL2), raw IP and BSD "
		    "loopback are supported", path, name ? name : "?", dlt);
		pcap_close(pc);
		return NULL;
	}
	return pc;
}

/* ---- guessing the proxy --------------------------------------------------- */

#define GUESS_MAX	16

int
replay_guess_proxy(const char *path, struct sg_conf *conf, char *errbuf,
    size_t len)
{
	struct pcap_pkthdr	*h;
	const u_char		*data;
	enum dec_link		 link;
	pcap_t			*pc;
	struct sg_addr		 cand[GUESS_MAX];
	uint64_t		 votes[GUESS_MAX];
	int			 ncand = 0, best = -1, rc;

	if ((pc = open_capture(path, &link, errbuf, len)) == NULL)
		return -1;
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
		struct dec_pkt	 pkt;
		int		 k;

		memset(&pkt, 0, sizeof(pkt));
		if (dec_frame(link, data, h->caplen, &pkt) != DEC_OK)
			continue;
		if (pkt.plen < 9 || memcmp(pkt.payload, "REGISTER ", 9) != 0)
			continue;
		for (k = 0; k < ncand; k++)
			if (sg_addr_eq(&cand[k], &pkt.dst))
				break;
		if (k == ncand) {
			if (ncand == GUESS_MAX)
				continue;
			cand[ncand] = pkt.dst;
			votes[ncand++] = 0;
		}
		votes[k]++;
	}
	pcap_close(pc);
	for (int k = 0; k < ncand; k++)
		if (best == -1 || votes[k] > votes[best])
			best = k;
	if (best == -1)
		return 1;
	conf->proxy[0] = cand[best];
	conf->nproxy = 1;
	return 0;
}

/* ---- output --------------------------------------------------------------- */

static void
put_str(FILE *out, const char *key, const char *v)
{
	char	 buf[1024];

	json_str(buf, sizeof(buf), v);
	fprintf(out, ",\"%s\":%s", key, buf);
}

static void
put_addr(FILE *out, const char *key, const struct sg_addr *a)
{
	char	 buf[SG_ADDRSTRLEN];

	put_str(out, key, sg_addr_str(a, buf, sizeof(buf)));
}

static const char *
kind_str(enum sipm_kind k)
{
	switch (k) {
	case SIPM_K_EMPTY:
		return "empty";
	case SIPM_K_KEEPALIVE:
		return "crlf";
	case SIPM_K_STUN:
		return "stun";
	default:
		return NULL;
	}
}

static void
flush_alarms(struct replay *r)
{
	for (int k = 0; k < r->nqueued; k++)
		fputs(r->queued[k], r->out);
	r->nqueued = 0;
}

static void
on_result(void *arg, const struct sg_result *res)
{
	struct replay		*r = arg;
	FILE			*out = r->out;
	const struct dec_pkt	*pkt = res->pkt;
	char			 mac[SG_MACSTRLEN], ts[EVENTS_TS_LEN];

	r->sum->messages++;
	if (res->verdict == SG_ACCEPT)
		r->sum->accepted++;
	else
		r->sum->dropped++;
	fprintf(out, "{\"timestamp\":\"%s\",\"frame\":%llu",
	    events_timestamp(r->now, ts, sizeof(ts)),
	    (unsigned long long)r->frame);
	put_str(out, "dir", res->inbound ? "in" : "out");
	put_str(out, "verdict", res->verdict == SG_ACCEPT ? "accept" : "drop");
	put_str(out, "reason", sg_reason_str(res->reason));
	put_addr(out, "src", &pkt->src);
	fprintf(out, ",\"sport\":%u", pkt->sport);
	put_addr(out, "dst", &pkt->dst);
	fprintf(out, ",\"dport\":%u", pkt->dport);
	put_str(out, "mac", sg_mac_str(&pkt->smac, pkt->has_mac, mac,
	    sizeof(mac)));
	put_str(out, "proto", pkt->proto == DEC_PROTO_TCP ? "tcp" : "udp");
	if (res->msg != NULL) {
		const struct sipm *m = res->msg;

		if (m->request)
			put_str(out, "method", m->method_str);
		else
			fprintf(out, ",\"status\":%d", m->status);
		put_str(out, "call_id", m->call_id);
		fprintf(out, ",\"cseq\":%u", m->cseq);
		put_str(out, "from", m->from);
		put_str(out, "to", m->to);
	} else if (kind_str(res->kind) != NULL) {
		put_str(out, "keepalive", kind_str(res->kind));
	}
	fputs("}\n", out);
	flush_alarms(r);
}

static void
on_alarm(void *arg, const struct alarm *a)
{
	struct replay	*r = arg;
	char		*buf, mac[SG_MACSTRLEN], ip[SG_ADDRSTRLEN];
	char		 sip[SG_ADDRSTRLEN], v[512], ts[EVENTS_TS_LEN];
	size_t		 o = 0, len = LINE_MAX_;
	char		 tmp[LINE_MAX_];

	if (a->action != ACT_CLEAR)	/* an end, not an alarm */
		r->sum->alarms++;
	buf = r->nqueued < QUEUED_MAX ? r->queued[r->nqueued] : tmp;

#define APPEND(...) do { int n_ = snprintf(buf + o, len - o, __VA_ARGS__); \
	if (n_ > 0 && (size_t)n_ < len - o) o += (size_t)n_; else o = len - 1; \
	} while (0)
#define FIELD(k, s) do { json_str(v, sizeof(v), (s) ? (s) : "-"); \
	APPEND(",\"%s\":%s", k, v); } while (0)

	APPEND("{\"timestamp\":\"%s\",\"frame\":%llu",
	    events_timestamp(a->now, ts, sizeof(ts)),
	    (unsigned long long)r->frame);
	FIELD("alarm", alarm_type_str(a->type));
	FIELD("case", a->kase);
	FIELD("action", alarm_action_str(a->action));
	FIELD("mac", sg_mac_str(&a->m, a->has_m, mac, sizeof(mac)));
	FIELD("ip", sg_addr_str(&a->i, ip, sizeof(ip)));
	FIELD("sip_ip", sg_addr_str(&a->s, sip, sizeof(sip)));
	FIELD("identity", a->identity);
	FIELD("method", a->method);
	FIELD("call_id", a->call_id);
	if (a->rate >= 0)
		APPEND(",\"rate\":%.2f", a->rate);
	else
		APPEND(",\"rate\":null");
	if (a->cls != NULL)
		FIELD("class", a->cls);
	if (a->detail != NULL)
		FIELD("detail", a->detail);
	APPEND("}\n");
#undef FIELD
#undef APPEND
	if (buf == tmp)
		fputs(tmp, r->out);
	else
		r->nqueued++;
}

/*
 * On a terminal, a long replay says how far it is, twice a second, on
 * one line of stderr (frames, messages a second, share of the file);
 * silent when stderr is not a terminal.
 */
struct progress {
	bool		 on;
	uint64_t	 size;		/* bytes of the file, 0: unknown */
	uint64_t	 start, last;	/* clock_mono ns */
	FILE		*fp;
};

static void
progress_init(struct progress *p, pcap_t *pc)
{
	struct stat	 sb;

	memset(p, 0, sizeof(*p));
	if (!isatty(STDERR_FILENO))
		return;
	p->on = true;
	p->fp = pcap_file(pc);
	if (p->fp != NULL && fstat(fileno(p->fp), &sb) == 0 &&
	    S_ISREG(sb.st_mode))
		p->size = (uint64_t)sb.st_size;
	p->start = p->last = clock_mono();
}

static void
progress_show(struct progress *p, const struct replay_summary *sum,
    bool last)
{
	uint64_t	 t = clock_mono();
	double		 secs = (double)(t - p->start) / 1e9;
	long		 at;

	if (!p->on || (!last && t - p->last < NS_PER_SEC / 2))
		return;
	p->last = t;
	fprintf(stderr, "\rsipguard: %llu frames, %.0f messages/s",
	    (unsigned long long)sum->frames, secs > 0 ?
	    (double)sum->messages / secs : 0.0);
	if (p->size > 0 && p->fp != NULL && (at = ftell(p->fp)) >= 0)
		fprintf(stderr, ", %.0f%%", 100.0 * (double)at /
		    (double)p->size);
	fputs(last ? "\n" : "   ", stderr);
}

int
replay_run(const char *path, struct engine *e, FILE *out,
    struct replay_summary *sum, char *errbuf, size_t len)
{
	struct replay		 r;
	struct pcap_pkthdr	*h;
	struct progress		 prog;
	const u_char		*data;
	enum dec_link		 link;
	pcap_t			*pc;
	int			 rc;
	uint64_t		 now = 0, next_tick = 0;

	memset(&r, 0, sizeof(r));
	r.out = out;
	r.sum = sum;
	if ((pc = open_capture(path, &link, errbuf, len)) == NULL)
		return -1;
	engine_set_observer(e, on_result, &r);
	engine_set_alarm_sink(e, on_alarm, &r);
	engine_set_report_fields(e, true);
	progress_init(&prog, pc);
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
		if ((r.frame & 4095) == 0)
			progress_show(&prog, sum, false);
		r.frame++;
		sum->frames++;
		now = (uint64_t)h->ts.tv_sec * NS_PER_SEC +
		    (uint64_t)h->ts.tv_usec;	/* nanosecond precision */
		r.now = now;
		engine_packet(e, link, data, h->caplen, NULL, DIR_UNKNOWN,
		    now);
		sum->last_time = now;
		flush_alarms(&r);
		/* Housekeeping on capture time, as the daemon's timer would. */
		if (now >= next_tick) {
			engine_tick(e, now);
			next_tick = now + NS_PER_SEC;
			flush_alarms(&r);
		}
	}
	if (prog.on && sum->frames >= 4096)
		progress_show(&prog, sum, true);
	engine_set_observer(e, NULL, NULL);
	engine_set_alarm_sink(e, NULL, NULL);
	if (rc == PCAP_ERROR) {
		const char *why = pcap_geterr(pc);

		/* A capture cut short (tcpdump killed): keep what was read. */
		if (strstr(why, "truncated") != NULL) {
			snprintf(sum->truncated, sizeof(sum->truncated),
			    "frame %llu: %s", (unsigned long long)r.frame + 1,
			    why);
		} else {
			snprintf(errbuf, len, "%s: frame %llu: %s", path,
			    (unsigned long long)r.frame + 1, why);
			pcap_close(pc);
			return -1;
		}
	}
	pcap_close(pc);
	return 0;
}
