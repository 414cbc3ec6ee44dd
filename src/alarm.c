/*
 * alarm.c: alarm names and formatting.  Packet strings are attacker
 * controlled: they are escaped and capped before they reach a log line.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "alarm.h"
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
	o += (size_t)r;
	n = 0;
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

/* ---- the syslog sink, with aggregation ------------------------------------- */

struct alog_entry {
	uint64_t	 key;
	uint64_t	 first;		/* start of the window, ns */
	uint32_t	 suppressed;
	bool		 used;
	char		 line[640];	/* the logged line, for the summary */
};

struct alarm_log {
	pthread_mutex_t	 lock;
	struct alog_entry *e;
	uint32_t	 n;
	uint64_t	 interval;
	uint64_t	 suppressed;
};

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
	pthread_mutex_init(&l->lock, NULL);
	return l;
}

void
alarm_log_destroy(struct alarm_log *l)
{
	if (l == NULL)
		return;
	alarm_log_flush(l, UINT64_MAX);
	pthread_mutex_destroy(&l->lock);
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

static void
summary(struct alog_entry *x)
{
	if (x->suppressed > 0)
		log_raw(LOG_WARNING, "alarm %s (%u more suppressed)", x->line,
		    x->suppressed);
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

void
alarm_log_emit(void *arg, const struct alarm *a)
{
	struct alarm_log	*l = arg;
	struct alog_entry	*x;
	uint64_t		 key = alarm_key(a);
	char			 line[640];

	alarm_format(a, line, sizeof(line));
	pthread_mutex_lock(&l->lock);
	if (l->interval == 0 || l->n == 0) {
		pthread_mutex_unlock(&l->lock);
		log_raw(LOG_WARNING, "alarm %s", line);
		return;
	}
	x = &l->e[key % l->n];
	if (x->used && x->key == key && a->now >= x->first &&
	    a->now - x->first < l->interval) {
		x->suppressed++;
		l->suppressed++;
		pthread_mutex_unlock(&l->lock);
		return;
	}
	/* A new window for this key (or a slot taken from another). */
	if (x->used)
		summary(x);
	x->used = true;
	x->key = key;
	x->first = a->now;
	snprintf(x->line, sizeof(x->line), "%s", line);
	pthread_mutex_unlock(&l->lock);
	log_raw(LOG_WARNING, "alarm %s", line);
}

void
alarm_log_flush(struct alarm_log *l, uint64_t now)
{
	pthread_mutex_lock(&l->lock);
	for (uint32_t k = 0; k < l->n; k++) {
		struct alog_entry *x = &l->e[k];

		if (x->used && x->suppressed > 0 && (now < x->first ||
		    now - x->first >= l->interval))
			summary(x);
	}
	pthread_mutex_unlock(&l->lock);
}

uint64_t
alarm_log_suppressed(const struct alarm_log *l)
{
	return l->suppressed;
}
