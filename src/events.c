/*
 * events.c: the event file (log.json_file).  The alarm log decides which
 * lines exist (its aggregation and budget); here they are shaped as EVE
 * JSON, in the thread that raised the alarm, buffered under a short
 * lock, and written by the main loop, which alone touches the file.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "decode.h"
#include "events.h"
#include "log.h"

#define STR_MAX		800	/* an escaped string, quotes included */
#define RETRY		SEC(10)	/* between attempts to open */
#define SID_BASE	1650000	/* signature_id: a local-use range */

const char *
events_timestamp(uint64_t ns, char *buf, size_t len)
{
	time_t		 t = (time_t)(ns / NS_PER_SEC);
	struct tm	 tm;
	char		 s[32];

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(s, sizeof(s), "1970-01-01T00:00:00");
	snprintf(buf, len, "%s.%06u+0000", s,
	    (unsigned)(ns % NS_PER_SEC / 1000));
	return buf;
}

/* ---- a JSON line --------------------------------------------------------- */

/* A line being built: fields separate themselves; `full' spoils it. */
struct jb {
	char		*buf;
	size_t		 len, o;
	bool		 full, comma;
};

static void	jb_raw(struct jb *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
jb_raw(struct jb *j, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (j->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(j->buf + j->o, j->len - j->o, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= j->len - j->o)
		j->full = true;
	else
		j->o += (size_t)n;
}

static void
jb_key(struct jb *j, const char *key)
{
	jb_raw(j, "%s\"%s\":", j->comma ? "," : "", key);
	j->comma = true;
}

static void
jb_open(struct jb *j, const char *key)
{
	jb_key(j, key);
	jb_raw(j, "{");
	j->comma = false;
}

static void
jb_close(struct jb *j)
{
	jb_raw(j, "}");
	j->comma = true;
}

/* A string field; left out when `v' is NULL or empty. */
static void
jb_str(struct jb *j, const char *key, const char *v)
{
	char	 s[STR_MAX];

	if (v == NULL || *v == '\0')
		return;
	json_str(s, sizeof(s), v);
	jb_key(j, key);
	jb_raw(j, "%s", s);
}

static void
jb_uint(struct jb *j, const char *key, uint64_t v)
{
	jb_key(j, key);
	jb_raw(j, "%" PRIu64, v);
}

static void
jb_addr(struct jb *j, const char *key, const struct sg_addr *a)
{
	char	 b[SG_ADDRSTRLEN];

	if (a->family != SG_AF_NONE)
		jb_str(j, key, sg_addr_str(a, b, sizeof(b)));
}

static void
jb_begin(struct jb *j, char *buf, size_t len, uint64_t now,
    const char *type)
{
	char	 ts[EVENTS_TS_LEN];

	memset(j, 0, sizeof(*j));
	j->buf = buf;
	j->len = len;
	jb_raw(j, "{");
	jb_str(j, "timestamp", events_timestamp(now, ts, sizeof(ts)));
	jb_str(j, "event_type", type);
}

static size_t
jb_end(struct jb *j)
{
	jb_raw(j, "}\n");
	if (j->full || j->len == 0) {
		if (j->len > 0)
			j->buf[0] = '\0';
		return 0;
	}
	return j->o;
}

/* ---- EVE ----------------------------------------------------------------- */

/*
 * EVE's category and severity (1 high .. 3 low), in the words of
 * Suricata's classification.config for the same kind of event.
 */
static const struct {
	const char	*category;
	int		 severity;
} classes[ALARM__COUNT] = {
	[ALARM_SPOOF] = { "Attempted User Privilege Gain", 1 },
	[ALARM_MALFORMED] = { "Generic Protocol Command Decode", 3 },
	[ALARM_TABLE_FULL] = { "Attempted Denial of Service", 2 },
	[ALARM_SS] = { "Attempted Denial of Service", 2 },
	[ALARM_DS1] = { "Attempted Denial of Service", 2 },
	[ALARM_DS2] = { "Attempted Denial of Service", 2 },
	[ALARM_IR] = { "Attempted Denial of Service", 2 },
	[ALARM_BRUTEFORCE] = { "Attempted User Privilege Gain", 1 },
	[ALARM_SCAN] = { "Detection of a Network Scan", 3 },
};

/*
 * A stable signature_id per (type, case): SID_BASE + 100 x type + the
 * case's number (a reason's index; two labels of their own; 99 for any
 * other; 0 for none), so a SIEM groups alerts as sipguard does.
 */
static uint32_t
signature_id(const struct alarm *a)
{
	uint32_t	 c = 0;

	if (a->kase != NULL && a->kase[0] != '\0') {
		c = 99;
		for (int r = 1; r < SG_R__COUNT; r++)
			if (strcmp(a->kase, sg_reason_str((enum sg_reason)r)) ==
			    0) {
				c = (uint32_t)r;
				break;
			}
		if (strcmp(a->kase, "bindings") == 0)
			c = 80;
		else if (strcmp(a->kase, "identities") == 0)
			c = 82;
		else if (strcmp(a->kase, "ambiguous") == 0)
			c = 81;
	}
	return SID_BASE + 100 * (uint32_t)a->type + c;
}

/*
 * The packet's addresses and ports when the daemon gave it (a fragment
 * has no ports), else `fallback' alone as the source (NULL: none).
 */
static void
put_flow(struct jb *j, const uint8_t *l3, size_t l3len,
    const struct sg_addr *fallback)
{
	struct dec_pkt		 p;
	enum dec_result		 r = DEC_NOT_IP;
	uint8_t			 proto = 0;

	if (l3 != NULL && l3len > 0) {
		memset(&p, 0, sizeof(p));
		r = dec_frame(LINK_RAW, l3, l3len, &p);
	}
	if (r != DEC_OK && r != DEC_FRAGMENT) {
		if (fallback != NULL)
			jb_addr(j, "src_ip", fallback);
		return;
	}
	proto = r == DEC_OK ? p.proto : p.frag.proto;
	jb_addr(j, "src_ip", &p.src);
	if (r == DEC_OK)
		jb_uint(j, "src_port", p.sport);
	jb_addr(j, "dest_ip", &p.dst);
	if (r == DEC_OK)
		jb_uint(j, "dest_port", p.dport);
	if (proto == DEC_PROTO_UDP || proto == DEC_PROTO_TCP)
		jb_str(j, "proto", proto == DEC_PROTO_UDP ? "UDP" : "TCP");
}

/* sipguard's own view: the syslog line's fields, in its order. */
static void
put_sip(struct jb *j, const struct alarm *a, bool action)
{
	char	 mac[SG_MACSTRLEN];

	jb_open(j, "sip");
	jb_str(j, "alarm", alarm_type_str(a->type));
	jb_str(j, "case", a->kase);
	if (action)
		jb_str(j, "action", alarm_action_str(a->action));
	if (a->has_m)
		jb_str(j, "mac", sg_mac_str(&a->m, true, mac, sizeof(mac)));
	jb_addr(j, "ip", &a->i);
	jb_addr(j, "sip_ip", &a->s);
	jb_str(j, "identity", a->identity);
	jb_str(j, "method", a->method);
	jb_str(j, "call_id", a->call_id);
	if (a->rate >= 0) {
		jb_key(j, "rate");
		jb_raw(j, "%.2f", a->rate);
	}
	jb_str(j, "class", a->cls);
	jb_str(j, "detail", a->detail);
	jb_close(j);
}

size_t
events_alert(const struct alarm *a, char *buf, size_t len)
{
	struct jb	 j;
	char		 sig[64];
	unsigned	 t = (unsigned)a->type < ALARM__COUNT ? a->type : 0;

	if (a->kase != NULL && a->kase[0] != '\0')
		snprintf(sig, sizeof(sig), "sipguard %s case %.24s",
		    alarm_type_str(a->type), a->kase);
	else
		snprintf(sig, sizeof(sig), "sipguard %s",
		    alarm_type_str(a->type));
	jb_begin(&j, buf, len, a->now, "alert");
	put_flow(&j, a->l3, a->l3len, &a->i);
	jb_open(&j, "alert");
	jb_str(&j, "action", a->action == ACT_DROP || a->action ==
	    ACT_BLOCK ? "blocked" : "allowed");
	jb_uint(&j, "gid", 1);
	jb_uint(&j, "signature_id", signature_id(a));
	jb_uint(&j, "rev", 1);
	jb_str(&j, "signature", sig);
	jb_str(&j, "category", classes[t].category);
	jb_uint(&j, "severity", (uint64_t)classes[t].severity);
	jb_close(&j);
	put_sip(&j, a, true);
	return jb_end(&j);
}

size_t
events_summary(const struct alarm *a, uint64_t n, const char *why,
    char *buf, size_t len)
{
	struct jb	 j;
	bool		 keyed = strcmp(why, "budget") != 0;

	jb_begin(&j, buf, len, a->now, "sipguard_summary");
	if (keyed)
		jb_addr(&j, "src_ip", &a->i);
	jb_open(&j, "summary");
	jb_str(&j, "why", why);
	jb_uint(&j, "suppressed", n);
	jb_close(&j);
	put_sip(&j, a, keyed);
	return jb_end(&j);
}

/*
 * Suricata writes an IPS drop as event_type "drop" with a "drop" object
 * (len, ttl, ..., and "reason" since 7.0) and, where it knows them, an
 * "ether" object; the same names here where the meaning is the same.
 * Its reasons are its own ("rules", "stream error"); ours are the
 * verdict's (sg_reason_str).
 */
size_t
events_drop(const struct events_drop *d, char *buf, size_t len)
{
	struct jb	 j;
	char		 mac[SG_MACSTRLEN];

	jb_begin(&j, buf, len, d->now, "drop");
	put_flow(&j, d->l3, d->l3len, NULL);
	if (d->mac != NULL) {
		jb_open(&j, "ether");
		jb_str(&j, "src_mac", sg_mac_str(d->mac, true, mac,
		    sizeof(mac)));
		jb_close(&j);
	}
	jb_open(&j, "drop");
	jb_uint(&j, "len", d->l3len);
	jb_str(&j, "reason", d->reason != NULL && d->reason[0] != '\0' ?
	    d->reason : "-");
	jb_uint(&j, "queue", d->queue);
	if (d->alarmed) {
		jb_str(&j, "alarm", alarm_type_str(d->type));
		jb_str(&j, "case", d->kase);
		jb_str(&j, "action", alarm_action_str(d->action));
	}
	jb_close(&j);
	if (d->sip) {
		jb_open(&j, "sip");
		jb_str(&j, "method", d->method);
		if (d->code > 0)
			jb_uint(&j, "code", (uint64_t)d->code);
		jb_str(&j, "call_id", d->call_id);
		jb_str(&j, "from", d->from);
		jb_str(&j, "to", d->to);
		jb_close(&j);
	}
	return jb_end(&j);
}

/* ---- the file ------------------------------------------------------------ */

struct events {
	pthread_mutex_t	 lock;
	char		*fill;		/* workers append here, */
	char		*out;		/* the main loop writes this */
	size_t		 len;		/* bytes in fill */
	uint64_t	 lines;		/* lines in fill */
	uint64_t	 lost;
	uint64_t	 drops;		/* drop lines buffered */
	/*
	 * Drop lines: a GCRA bucket without a lock (tat, theoretical
	 * arrival in ns, moved by compare-and-swap), and what it refused.
	 */
	_Atomic uint64_t tat;
	_Atomic uint32_t drops_rate;	/* lines/s, 0: none */
	_Atomic uint64_t drops_skipped;
	/* The main loop's alone: */
	uint64_t	 written, errors;
	atomic_bool	 on;		/* a path is set */
	int		 fd;
	char		 path[256];
	uint64_t	 retry_at;	/* mono ns: no open attempt before */
	bool		 failing;	/* the failure has been logged */
};

static void
failed(struct events *ev, const char *what)
{
	if (!ev->failing)
		log_warn("event file %s: %s", ev->path, what);
	ev->failing = true;
}

/*
 * Open the file to append, created 0640 (readable by the group: a
 * shipper need not be root; the unit's umask would give 0600).
 */
static int
open_file(struct events *ev)
{
	int	 fd;

	ev->retry_at = clock_mono() + RETRY;
	fd = open(ev->path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL |
	    O_CLOEXEC | O_NOCTTY, 0640);
	if (fd != -1)
		(void)fchmod(fd, 0640);
	else if (errno == EEXIST)
		fd = open(ev->path, O_WRONLY | O_APPEND | O_CLOEXEC |
		    O_NOCTTY);
	if (fd == -1) {
		failed(ev, "cannot open");
		return -1;
	}
	if (ev->failing)
		log_info("event file %s: writing again", ev->path);
	ev->failing = false;
	ev->fd = fd;
	return 0;
}

struct events *
events_create(const char *path)
{
	struct events	*ev;

	if ((ev = calloc(1, sizeof(*ev))) == NULL)
		return NULL;
	ev->fill = sg_table_alloc(EVENTS_BUFFER, 1);
	ev->out = sg_table_alloc(EVENTS_BUFFER, 1);
	if (ev->fill == NULL || ev->out == NULL) {
		free(ev->fill);
		free(ev->out);
		free(ev);
		return NULL;
	}
	pthread_mutex_init(&ev->lock, NULL);
	ev->fd = -1;
	events_reopen(ev, path);
	return ev;
}

void
events_destroy(struct events *ev)
{
	if (ev == NULL)
		return;
	events_flush(ev);
	if (ev->fd != -1)
		close(ev->fd);
	pthread_mutex_destroy(&ev->lock);
	free(ev->fill);
	free(ev->out);
	free(ev);
}

bool
events_on(struct events *ev)
{
	return atomic_load_explicit(&ev->on, memory_order_relaxed);
}

void
events_set_drops_rate(struct events *ev, uint32_t rate)
{
	atomic_store(&ev->drops_rate, rate);
	atomic_store(&ev->tat, 0);
}

bool
events_drops_on(struct events *ev)
{
	return ev != NULL && atomic_load_explicit(&ev->on,
	    memory_order_relaxed) && atomic_load_explicit(&ev->drops_rate,
	    memory_order_relaxed) > 0;
}

/* A drop line's token (sg_gcra_admit()); a refusal writes nothing but
 * its counter. */
bool
events_drop_admit(struct events *ev, uint64_t now)
{
	if (sg_gcra_admit(&ev->tat, atomic_load_explicit(&ev->drops_rate,
	    memory_order_relaxed), now))
		return true;
	atomic_fetch_add_explicit(&ev->drops_skipped, 1, memory_order_relaxed);
	return false;
}

static void
push(struct events *ev, const char *line, size_t n, bool drop)
{
	pthread_mutex_lock(&ev->lock);
	if (n > EVENTS_BUFFER - ev->len)
		ev->lost++;
	else {
		memcpy(ev->fill + ev->len, line, n);
		ev->len += n;
		ev->lines++;
		ev->drops += drop;
	}
	pthread_mutex_unlock(&ev->lock);
}

void
events_push(struct events *ev, const char *line, size_t n)
{
	push(ev, line, n, false);
}

void
events_push_drop(struct events *ev, const char *line, size_t n)
{
	push(ev, line, n, true);
}

void
events_flush(struct events *ev)
{
	size_t		 len;
	uint64_t	 lines;

	pthread_mutex_lock(&ev->lock);
	len = sg_swap_buffers(&ev->fill, &ev->out, &ev->len);
	lines = ev->lines;
	ev->lines = 0;
	pthread_mutex_unlock(&ev->lock);
	if (len == 0)
		return;
	if (ev->fd == -1 && ev->path[0] != '\0' &&
	    clock_mono() >= ev->retry_at)
		open_file(ev);
	if (ev->fd == -1) {
		ev->errors += lines;
		return;
	}
	if (sg_write_all(ev->fd, ev->out, len) == -1) {
		ev->errors += lines;
		failed(ev, "write failed");
		return;
	}
	if (ev->failing)
		log_info("event file %s: writing again", ev->path);
	ev->failing = false;
	ev->written += lines;
}

int
events_reopen(struct events *ev, const char *path)
{
	events_flush(ev);
	if (ev->fd != -1)
		close(ev->fd);
	ev->fd = -1;
	if (path != NULL && strcmp(path, ev->path) != 0) {
		snprintf(ev->path, sizeof(ev->path), "%s", path);
		ev->failing = false;
	}
	atomic_store(&ev->on, ev->path[0] != '\0');
	if (ev->path[0] == '\0')
		return 0;
	return open_file(ev);
}

void
events_stats(struct events *ev, struct events_stats *s)
{
	pthread_mutex_lock(&ev->lock);
	s->lost = ev->lost;
	s->drops = ev->drops;
	pthread_mutex_unlock(&ev->lock);
	s->drops_skipped = atomic_load(&ev->drops_skipped);
	s->written = ev->written;
	s->errors = ev->errors;
	s->open = ev->fd != -1;
}
