/*
 * alarm.c: alarm names and formatting, and the daemon's syslog sink
 * (aggregated and budgeted, SPEC 7), whose lines also go to the journal
 * with fields and to the event file.  Packet strings are attacker
 * controlled: they are escaped and capped before they reach a log line.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "alarm.h"
#include "events.h"
#include "hash.h"
#include "log.h"

#define VALUE_MAX	128

static const char *const type_names[ALARM__COUNT] = {
	[ALARM_SPOOF] = "spoof",
	[ALARM_MALFORMED] = "malformed",
	[ALARM_TABLE_FULL] = "table-full",
	[ALARM_SS] = "ss",
	[ALARM_DS1] = "ds1",
	[ALARM_DS2] = "ds2",
	[ALARM_IR] = "ir",
	[ALARM_BRUTEFORCE] = "bruteforce",
	[ALARM_SCAN] = "scan",
};

const char *
alarm_type_str(enum alarm_type t)
{
	return (unsigned)t < ALARM__COUNT ? type_names[t] : "?";
}

const char *
alarm_action_str(enum alarm_action a)
{
	switch (a) {
	case ACT_DROP:
		return "drop";
	case ACT_BLOCK:
		return "block";
	case ACT_NOTICE:
		return "notice";
	case ACT_CLEAR:
		return "clear";
	}
	return "?";
}

/*
 * `v' at buf + o with \" \\ and \xNN escapes, its first VALUE_MAX bytes
 * then "...": a line's value, a journal field's.  Returns the new end.
 */
static size_t
escape(char *buf, size_t len, size_t o, const char *v)
{
	size_t	 n = 0;

	for (const char *p = v; *p != '\0' && o + 5 < len; p++, n++) {
		unsigned char c = (unsigned char)*p;

		if (n == VALUE_MAX) {
			o += (size_t)snprintf(buf + o, len - o, "...");
			break;
		}
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < ' ' || c >= 0x7f)
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	if (o < len)
		buf[o] = '\0';
	return o;
}

/* key=value: bare when safe, else quoted with \" \\ and \xNN escapes. */
static size_t
kv(char *buf, size_t len, size_t o, const char *key, const char *v)
{
	bool	 quote = false;
	size_t	 n = 0;
	int	 r;

	if (o >= len)
		return o;
	if (v == NULL || *v == '\0')
		v = "-";
	for (const char *p = v; *p != '\0' && n < VALUE_MAX; p++, n++) {
		unsigned char c = (unsigned char)*p;

		if (c <= ' ' || c == '"' || c == '\\' || c == '=' || c >= 0x7f)
			quote = true;
	}
	r = snprintf(buf + o, len - o, "%s%s=%s", o ? " " : "", key,
	    quote ? "\"" : "");
	if (r < 0 || (size_t)r >= len - o)
		return len;
	o = escape(buf, len, o + (size_t)r, v);
	if (quote && o + 1 < len)
		buf[o++] = '"';
	if (o < len)
		buf[o] = '\0';
	return o;
}

size_t
alarm_format(const struct alarm *a, char *buf, size_t len)
{
	char	 mac[SG_MACSTRLEN], ip[SG_ADDRSTRLEN], sip[SG_ADDRSTRLEN];
	char	 rate[32];
	size_t	 o = 0;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	if (a->rate >= 0)
		snprintf(rate, sizeof(rate), "%.1f", a->rate);
	else
		snprintf(rate, sizeof(rate), "-");
	o = kv(buf, len, o, "type", alarm_type_str(a->type));
	o = kv(buf, len, o, "case", a->kase);
	o = kv(buf, len, o, "action", alarm_action_str(a->action));
	o = kv(buf, len, o, "mac", sg_mac_str(&a->m, a->has_m, mac,
	    sizeof(mac)));
	o = kv(buf, len, o, "ip", sg_addr_str(&a->i, ip, sizeof(ip)));
	o = kv(buf, len, o, "sip_ip", sg_addr_str(&a->s, sip, sizeof(sip)));
	o = kv(buf, len, o, "identity", a->identity);
	o = kv(buf, len, o, "method", a->method);
	o = kv(buf, len, o, "call_id", a->call_id);
	o = kv(buf, len, o, "rate", rate);
	if (a->cls != NULL)
		o = kv(buf, len, o, "class", a->cls);
	if (a->detail != NULL)
		o = kv(buf, len, o, "detail", a->detail);
	return o < len ? o : len - 1;
}

size_t
json_str(char *buf, size_t len, const char *s)
{
	size_t	 o = 0;

	if (len < 3)
		return 0;
	buf[o++] = '"';
	for (; s != NULL && *s != '\0' && o + 8 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			/* Bytes >= 0x80 as code points: always valid JSON. */
			o += (size_t)snprintf(buf + o, len - o, "\\u%04x", c);
		} else
			buf[o++] = (char)c;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return o;
}

/* One field "NAME=value" of `f', unless value is empty. */
static void
add_field(struct alarm_fields *f, const char *name, const char *v)
{
	char	*b = f->buf[f->n];
	int	 r;

	if (v == NULL || *v == '\0' || f->n == ALARM_FIELDS)
		return;
	r = snprintf(b, ALARM_FIELD_MAX, "SIPGUARD_%s=", name);
	if (r < 0 || r >= ALARM_FIELD_MAX)
		return;
	escape(b, ALARM_FIELD_MAX, (size_t)r, v);
	f->v[f->n++] = b;
}

void
alarm_fields(const struct alarm *a, const char *action, uint64_t suppressed,
    struct alarm_fields *f)
{
	char	 ip[SG_ADDRSTRLEN], mac[SG_MACSTRLEN], n[24];

	f->n = 0;
	add_field(f, "ALARM", alarm_type_str(a->type));
	add_field(f, "CASE", a->kase);
	add_field(f, "ACTION", action != NULL ? action :
	    alarm_action_str(a->action));
	if (a->i.family != SG_AF_NONE)
		add_field(f, "SRC_IP", sg_addr_str(&a->i, ip, sizeof(ip)));
	if (a->has_m)
		add_field(f, "MAC", sg_mac_str(&a->m, true, mac, sizeof(mac)));
	add_field(f, "IDENTITY", a->identity);
	add_field(f, "METHOD", a->method);
	add_field(f, "CALL_ID", a->call_id);
	if (suppressed > 0) {
		snprintf(n, sizeof(n), "%" PRIu64, suppressed);
		add_field(f, "SUPPRESSED", n);
	}
}

/* ---- the syslog sink: aggregation and budget ----------------------------- */

/*
 * SPEC 7: an attack cannot flood the log.  Two mechanisms, in this order:
 *
 *  aggregation  an alarm whose key (type, case, action, source, identity)
 *               was logged less than `interval' ago is only counted; the
 *               key's "(N more suppressed)" line comes when its window
 *               closes.  Repeats of one offender cost one line a window.
 *  budget       every line (an alarm's own, or a key's summary) is
 *               charged to a token bucket of its class, (type, case):
 *               ALOG_RATE lines/s with a burst of ALOG_BURST, and to one
 *               bucket for all classes.  Spoofed alarms, each from a new
 *               source, have a new key each and aggregation does nothing
 *               for them (100,000 lines a second); the budget does, and a
 *               flood of one class leaves the others their own budget.
 *               What it holds back is counted per class and written once
 *               a second, from alarm_log_flush(), as "alarm type=spoof
 *               case=b action=summary suppressed=N (N more suppressed
 *               over the log budget)", whatever the sources.  A key held
 *               back is not remembered: its repeats count in the class.
 *
 * The total bucket keeps the sum under journald's default rate limit
 * (RateLimitBurst=10000 per RateLimitIntervalSec=30s, 333 lines/s),
 * above which journald discards lines blindly, the alarms that matter
 * with the rest: ALOG_TOTAL_RATE 250 lines/s (burst 500), plus one
 * summary line a second per class that held lines back (a few dozen
 * classes at most: the case labels are the engine's constants).  So
 * that a flood of many classes cannot silence another through the total,
 * a class within its own budget may write one line a second past an
 * empty total bucket.  Only the log is budgeted: the engine has counted
 * the alarm and acted on it before the sink sees it.  The event file
 * gets exactly the log's lines (an alert per alarm line, a
 * sipguard_summary event per summary line): the budget bounds it too.
 */
#define ALOG_RATE		20	/* lines/s per (type, case) */
#define ALOG_BURST		40
#define ALOG_TOTAL_RATE		250	/* lines/s, all classes; burst 2 s */
#define ALOG_CLASSES		64	/* the first ALARM__COUNT: per type */
#define ALOG_CASE_MAX		24
#define ALOG_PERIOD		NS_PER_SEC	/* summaries of the budget */

struct alog_bucket {
	uint64_t	 credit;	/* ns of line time saved up */
	uint64_t	 last;		/* ns; 0: never used (full) */
	uint64_t	 cost;		/* ns per line; 0: no budget */
	uint64_t	 cap;		/* burst * cost */
};

struct alog_class {
	uint8_t		 type;
	bool		 used;
	char		 kase[ALOG_CASE_MAX];	/* "": no case, or overflow */
	struct alog_bucket tb;
	uint64_t	 last_free;	/* the last line past the total */
	uint64_t	 held;		/* held back since the last summary */
	uint64_t	 held_total;
};

/* What an alarm's key is made of: its summary's fields and event. */
struct alog_key {
	uint8_t		 type, action;
	bool		 has_m;
	struct sg_mac	 m;
	struct sg_addr	 i;
	char		 kase[ALOG_CASE_MAX];
	char		 identity[SG_ID_MAX];
};

struct alog_entry {
	uint64_t	 key;
	uint64_t	 first;		/* start of the window, ns */
	uint32_t	 suppressed;
	uint16_t	 cls;		/* index into classes */
	bool		 used;
	char		 line[640];	/* the logged line, for the summary */
	struct alog_key	 k;
};

/*
 * Lines waiting for the writer (alarm_log_set_writer()): records of a
 * priority byte, a field count byte, the message and each field, every
 * string NUL-terminated; filled by whoever raises alarms (the workers),
 * emptied by alarm_log_write() (the main loop), two buffers swapped.
 */
#define ALOG_QUEUE	(128 * 1024)
#define ALOG_MSG_MAX	2048		/* log.c's bound on a message */

struct alog_queue {
	pthread_mutex_t	 lock;		/* fill, len */
	pthread_mutex_t	 wlock;		/* one writer at a time, in order */
	char		*fill, *out;
	size_t		 len;
	int		 wakefd;	/* written when fill gets its first */
	bool		 on;
};

struct alarm_log {
	pthread_mutex_t	 lock;
	struct alog_entry *e;
	uint32_t	 n;
	uint64_t	 interval;
	uint64_t	 suppressed;
	struct alog_class cls[ALOG_CLASSES];
	struct alog_bucket total;
	uint32_t	 rate, burst, total_rate;
	uint64_t	 last_summary;
	uint64_t	 latest;	/* the latest time seen, ns */
	struct events	*events;	/* NULL: no event file */
	struct alog_queue q;
};

/* Write the records of buf[0, len) to the log, in order. */
static void
queue_write(const char *buf, size_t len)
{
	const char	*v[ALARM_FIELDS];
	size_t		 o = 0;

	while (o + 2 < len) {
		int		 pri = (unsigned char)buf[o];
		int		 n = (unsigned char)buf[o + 1];
		const char	*msg = buf + o + 2;

		o += 2 + strlen(msg) + 1;
		for (int k = 0; k < n; k++) {
			v[k] = buf + o;
			o += strlen(v[k]) + 1;
		}
		log_fields(pri, v, n, "%s", msg);
	}
}

void
alarm_log_write(struct alarm_log *l)
{
	struct alog_queue	*q = &l->q;
	size_t			 len;

	if (!q->on)
		return;
	pthread_mutex_lock(&q->wlock);
	pthread_mutex_lock(&q->lock);
	len = sg_swap_buffers(&q->fill, &q->out, &q->len);
	pthread_mutex_unlock(&q->lock);
	queue_write(q->out, len);
	pthread_mutex_unlock(&q->wlock);
}

/*
 * One line of the log with its journal fields: queued for the writer if
 * there is one and room, else written here (after what was queued before
 * it, which this thread writes first: the order stays the order raised).
 */
static void
say(struct alarm_log *l, const struct alarm_fields *f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(struct alarm_log *l, const struct alarm_fields *f, const char *fmt, ...)
{
	struct alog_queue	*q = &l->q;
	char			 msg[ALOG_MSG_MAX];
	size_t			 need, ml;
	va_list			 ap;
	bool			 wake;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!q->on) {
		log_fields(LOG_WARNING, f->v, f->n, "%s", msg);
		return;
	}
	ml = strlen(msg) + 1;
	need = 2 + ml;
	for (int k = 0; k < f->n; k++)
		need += strlen(f->v[k]) + 1;
	pthread_mutex_lock(&q->lock);
	if (need <= ALOG_QUEUE - q->len) {
		char	*b = q->fill + q->len;

		wake = q->len == 0;
		b[0] = (char)LOG_WARNING;
		b[1] = (char)f->n;
		memcpy(b + 2, msg, ml);
		b += 2 + ml;
		for (int k = 0; k < f->n; k++) {
			size_t	 n = strlen(f->v[k]) + 1;

			memcpy(b, f->v[k], n);
			b += n;
		}
		q->len += need;
		pthread_mutex_unlock(&q->lock);
		if (wake && q->wakefd != -1) {
			uint64_t	 one = 1;

			(void)!write(q->wakefd, &one, sizeof(one));
		}
		return;
	}
	pthread_mutex_unlock(&q->lock);
	/* No room: what is queued first, then this line. */
	alarm_log_write(l);
	pthread_mutex_lock(&q->wlock);
	log_fields(LOG_WARNING, f->v, f->n, "%s", msg);
	pthread_mutex_unlock(&q->wlock);
}

int
alarm_log_set_writer(struct alarm_log *l, int wakefd)
{
	struct alog_queue	*q = &l->q;

	if (q->on)
		return 0;
	if ((q->fill = malloc(ALOG_QUEUE)) == NULL ||
	    (q->out = malloc(ALOG_QUEUE)) == NULL) {
		free(q->fill);
		q->fill = NULL;
		return -1;
	}
	q->wakefd = wakefd;
	q->on = true;
	return 0;
}

static void
bucket_init(struct alog_bucket *b, uint32_t rate, uint32_t burst)
{
	memset(b, 0, sizeof(*b));
	if (rate == 0)
		return;
	b->cost = NS_PER_SEC / rate;
	b->cap = b->cost * (burst > 0 ? burst : 1);
	b->credit = b->cap;
}

static void
bucket_refill(struct alog_bucket *b, uint64_t now)
{
	if (b->last == 0) {
		b->last = now;
		return;
	}
	/* Workers' clocks may disagree a little: never refill backwards. */
	if (now <= b->last)
		return;
	if (now - b->last >= b->cap - b->credit)
		b->credit = b->cap;
	else
		b->credit += now - b->last;
	b->last = now;
}

static bool
bucket_has(struct alog_bucket *b, uint64_t now)
{
	if (b->cost == 0)
		return true;
	bucket_refill(b, now);
	return b->credit >= b->cost;
}

static void
bucket_take(struct alog_bucket *b)
{
	if (b->cost != 0)
		b->credit -= b->cost;
}

static void
budget_reset(struct alarm_log *l)
{
	for (int k = 0; k < ALOG_CLASSES; k++)
		bucket_init(&l->cls[k].tb, l->rate, l->burst);
	bucket_init(&l->total, l->total_rate, l->total_rate > 0 ?
	    l->total_rate * 2 : 0);
}

struct alarm_log *
alarm_log_create(uint32_t keys, uint64_t interval)
{
	struct alarm_log	*l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	if ((l->e = sg_table_alloc(keys, sizeof(*l->e))) == NULL) {
		free(l);
		return NULL;
	}
	l->n = keys;
	l->interval = interval;
	for (int k = 0; k < ALARM__COUNT; k++) {
		l->cls[k].used = true;
		l->cls[k].type = (uint8_t)k;
	}
	l->rate = ALOG_RATE;
	l->burst = ALOG_BURST;
	l->total_rate = ALOG_TOTAL_RATE;
	budget_reset(l);
	pthread_mutex_init(&l->lock, NULL);
	pthread_mutex_init(&l->q.lock, NULL);
	pthread_mutex_init(&l->q.wlock, NULL);
	l->q.wakefd = -1;
	return l;
}

void
alarm_log_destroy(struct alarm_log *l)
{
	if (l == NULL)
		return;
	alarm_log_flush(l, UINT64_MAX);
	alarm_log_write(l);
	pthread_mutex_destroy(&l->lock);
	pthread_mutex_destroy(&l->q.lock);
	pthread_mutex_destroy(&l->q.wlock);
	free(l->q.fill);
	free(l->q.out);
	free(l->e);
	free(l);
}

void
alarm_log_set_interval(struct alarm_log *l, uint64_t interval)
{
	pthread_mutex_lock(&l->lock);
	l->interval = interval;
	pthread_mutex_unlock(&l->lock);
}

void
alarm_log_set_events(struct alarm_log *l, struct events *ev)
{
	pthread_mutex_lock(&l->lock);
	l->events = ev;
	pthread_mutex_unlock(&l->lock);
}

void
alarm_log_set_budget(struct alarm_log *l, uint32_t rate, uint32_t burst,
    uint32_t total)
{
	pthread_mutex_lock(&l->lock);
	l->rate = rate;
	l->burst = burst;
	l->total_rate = total;
	budget_reset(l);
	pthread_mutex_unlock(&l->lock);
}

/*
 * The class of (type, case): found, or made in a free slot; when all are
 * taken (more distinct case labels than ALOG_CLASSES), the type's own.
 * Case labels are the engine's constants, a few dozen at most: a linear
 * search under the lock costs less than the formatting.
 */
static uint16_t
class_of(struct alarm_log *l, const struct alarm *a)
{
	uint16_t	 t = (unsigned)a->type < ALARM__COUNT ? a->type : 0;

	if (a->kase == NULL || a->kase[0] == '\0')
		return t;
	for (uint16_t k = ALARM__COUNT; k < ALOG_CLASSES; k++) {
		struct alog_class *c = &l->cls[k];

		if (!c->used) {
			c->used = true;
			c->type = (uint8_t)t;
			snprintf(c->kase, sizeof(c->kase), "%s", a->kase);
			return k;
		}
		if (c->type == t && strncmp(c->kase, a->kase,
		    sizeof(c->kase) - 1) == 0)
			return k;
	}
	return t;
}

/* May a line of class `k' be written now?  Charged if so. */
static bool
budget_take(struct alarm_log *l, uint16_t k, uint64_t now)
{
	struct alog_class	*c = &l->cls[k];

	if (!bucket_has(&c->tb, now))
		return false;
	if (bucket_has(&l->total, now))
		bucket_take(&l->total);
	else if (c->last_free == 0 || now < c->last_free ||
	    now - c->last_free >= ALOG_PERIOD)
		c->last_free = now;
	else
		return false;
	bucket_take(&c->tb);
	return true;
}

static void
hold(struct alarm_log *l, uint16_t k, uint64_t n)
{
	l->cls[k].held += n;
	l->cls[k].held_total += n;
}

/*
 * A summary line, in the log (with fields) and in the event file: `n'
 * alarms like `a' had no line of their own.  Called with the log locked.
 */
static void
summary_line(struct alarm_log *l, const struct alarm *a, uint64_t n,
    const char *why, const char *line)
{
	struct alarm_fields	 f;
	char			 ev[EVENTS_LINE_MAX];
	size_t			 len;
	bool			 budget = strcmp(why, "budget") == 0;

	f.n = 0;
	if (log_journal())
		alarm_fields(a, budget ? "summary" : NULL, n, &f);
	if (budget)
		say(l, &f, "alarm %s action=summary suppressed=%" PRIu64
		    " (%" PRIu64 " more suppressed over the log budget)", line,
		    n, n);
	else
		say(l, &f, "alarm %s (%" PRIu64 " more suppressed)", line, n);
	if (l->events != NULL && events_on(l->events) &&
	    (len = events_summary(a, n, why, ev, sizeof(ev))) > 0)
		events_push(l->events, ev, len);
}

/* The alarm a key was made from, for its summary. */
static void
key_alarm(const struct alog_key *k, uint64_t now, struct alarm *a)
{
	memset(a, 0, sizeof(*a));
	a->type = (enum alarm_type)k->type;
	a->action = (enum alarm_action)k->action;
	a->kase = k->kase[0] != '\0' ? k->kase : NULL;
	a->has_m = k->has_m;
	a->m = k->m;
	a->i = k->i;
	a->identity = k->identity[0] != '\0' ? k->identity : NULL;
	a->rate = -1;
	a->now = now;
}

/*
 * A key's window closed: its summary line, or its count to the class.
 * `stamp' is the summary's time (`now' may be UINT64_MAX: everything).
 */
static void
summary(struct alarm_log *l, struct alog_entry *x, uint64_t now,
    uint64_t stamp)
{
	struct alarm	 a;

	if (x->suppressed == 0)
		return;
	if (budget_take(l, x->cls, now)) {
		key_alarm(&x->k, stamp, &a);
		summary_line(l, &a, x->suppressed, "aggregated", x->line);
	} else
		hold(l, x->cls, x->suppressed);
	x->suppressed = 0;
}

static uint64_t
alarm_key(const struct alarm *a)
{
	struct {
		uint8_t		 type, action, has_m, pad;
		uint8_t		 m[6];
		uint8_t		 pad2[2];
		struct sg_addr	 i;
		uint64_t	 kase, d;
	} k;

	memset(&k, 0, sizeof(k));
	k.type = (uint8_t)a->type;
	k.action = (uint8_t)a->action;
	k.has_m = a->has_m;
	memcpy(k.m, a->m.b, 6);
	k.i = a->i;
	k.kase = a->kase ? hash_bytes(a->kase, strlen(a->kase)) : 0;
	k.d = a->identity ? hash_bytes(a->identity, strlen(a->identity)) : 0;
	return hash_bytes(&k, sizeof(k));
}

static void
key_copy(struct alog_key *k, const struct alarm *a)
{
	memset(k, 0, sizeof(*k));
	k->type = (uint8_t)a->type;
	k->action = (uint8_t)a->action;
	k->has_m = a->has_m;
	k->m = a->m;
	k->i = a->i;
	snprintf(k->kase, sizeof(k->kase), "%s", a->kase ? a->kase : "");
	snprintf(k->identity, sizeof(k->identity), "%s", a->identity ?
	    a->identity : "");
}

void
alarm_log_emit(void *arg, const struct alarm *a)
{
	struct alarm_log	*l = arg;
	struct alog_entry	*x = NULL;
	struct events		*ev;
	struct alarm_fields	 f;
	uint64_t		 key = alarm_key(a);
	uint16_t		 k;
	size_t			 len;
	char			 line[640], json[EVENTS_LINE_MAX];

	pthread_mutex_lock(&l->lock);
	k = class_of(l, a);
	if (a->now > l->latest)
		l->latest = a->now;
	if (l->interval > 0 && l->n > 0) {
		x = &l->e[key % l->n];
		if (x->used && x->key == key && a->now >= x->first &&
		    a->now - x->first < l->interval) {
			x->suppressed++;
			l->suppressed++;
			pthread_mutex_unlock(&l->lock);
			return;
		}
	}
	if (!budget_take(l, k, a->now)) {
		hold(l, k, 1);
		l->suppressed++;
		pthread_mutex_unlock(&l->lock);
		return;
	}
	alarm_format(a, line, sizeof(line));
	if (x != NULL) {
		/* A new window for this key (or a slot taken from another). */
		if (x->used)
			summary(l, x, a->now, a->now);
		x->used = true;
		x->key = key;
		x->first = a->now;
		x->cls = k;
		snprintf(x->line, sizeof(x->line), "%s", line);
		key_copy(&x->k, a);
	}
	ev = l->events;
	pthread_mutex_unlock(&l->lock);
	f.n = 0;
	if (log_journal())	/* the fields only where they go */
		alarm_fields(a, NULL, 0, &f);
	say(l, &f, "alarm %s", line);
	/* Formatted here, in the worker; written by the main loop. */
	if (ev != NULL && events_on(ev) &&
	    (len = events_alert(a, json, sizeof(json))) > 0)
		events_push(ev, json, len);
}

/* The budget's summary: one line per class that held lines back. */
static void
budget_summary(struct alarm_log *l, uint64_t now)
{
	struct alarm	 a;
	char		 buf[128];
	size_t		 o;

	for (int k = 0; k < ALOG_CLASSES; k++) {
		struct alog_class *c = &l->cls[k];

		if (!c->used || c->held == 0)
			continue;
		o = kv(buf, sizeof(buf), 0, "type", alarm_type_str(
		    (enum alarm_type)c->type));
		kv(buf, sizeof(buf), o, "case", c->kase);
		memset(&a, 0, sizeof(a));
		a.type = (enum alarm_type)c->type;
		a.kase = c->kase[0] != '\0' ? c->kase : NULL;
		a.rate = -1;
		a.now = now;
		summary_line(l, &a, c->held, "budget", buf);
		c->held = 0;
	}
}

void
alarm_log_flush(struct alarm_log *l, uint64_t now)
{
	uint64_t	 stamp;

	pthread_mutex_lock(&l->lock);
	if (now != UINT64_MAX && now > l->latest)
		l->latest = now;
	stamp = now != UINT64_MAX ? now : l->latest;
	for (uint32_t k = 0; k < l->n; k++) {
		struct alog_entry *x = &l->e[k];

		if (x->used && x->suppressed > 0 && (now < x->first ||
		    now - x->first >= l->interval))
			summary(l, x, now, stamp);
	}
	if (now == UINT64_MAX || now < l->last_summary ||
	    now - l->last_summary >= ALOG_PERIOD) {
		budget_summary(l, stamp);
		l->last_summary = now;
	}
	pthread_mutex_unlock(&l->lock);
}

uint64_t
alarm_log_suppressed(const struct alarm_log *l)
{
	return l->suppressed;
}

uint64_t
alarm_log_over_budget(struct alarm_log *l, enum alarm_type t,
    const char *kase)
{
	uint64_t	 n = 0;

	pthread_mutex_lock(&l->lock);
	for (int k = 0; k < ALOG_CLASSES; k++) {
		struct alog_class *c = &l->cls[k];

		if (c->used && c->type == t && (kase == NULL ||
		    strcmp(c->kase, kase) == 0))
			n += c->held_total;
	}
	pthread_mutex_unlock(&l->lock);
	return n;
}
