/*
 * test_events.c: the event file (events.h) and the journal's fields
 * (alarm_fields).  Every line events_alert() and events_summary() make
 * goes through a strict JSON parser: EVE's names where the meaning is
 * Suricata's, the timestamp's form, hostile strings (quotes, control
 * bytes, invalid UTF-8, overlong) escaped into ASCII.  Then the file:
 * lines written by the flush alone, a full buffer counted, a reopen
 * after the file was moved; and the alarm log's mirror: the file gets
 * exactly the lines the log writes, so the budget bounds it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "alarm.h"
#include "decode.h"
#include "events.h"
#include "hash.h"
#include "log.h"
#include "pktgen.h"
#include "sipguard.h"
#include "testlib.h"

#define T0		SEC(1796638272)	/* 2026-12-07T10:11:12Z */

/* ---- a strict JSON parser ------------------------------------------------ */

struct jp {
	const char	*p;
	int		 depth;
};

static bool	jp_value(struct jp *);

static void
jp_ws(struct jp *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' ||
	    *j->p == '\r')
		j->p++;
}

static bool
jp_hex4(const char *p)
{
	for (int k = 0; k < 4; k++)
		if (!((p[k] >= '0' && p[k] <= '9') || (p[k] >= 'a' &&
		    p[k] <= 'f') || (p[k] >= 'A' && p[k] <= 'F')))
			return false;
	return true;
}

static bool
jp_string(struct jp *j)
{
	if (*j->p++ != '"')
		return false;
	for (;;) {
		unsigned char c = (unsigned char)*j->p++;

		if (c == '"')
			return true;
		if (c < 0x20)
			return false;	/* a raw control byte, or the end */
		if (c != '\\')
			continue;
		c = (unsigned char)*j->p++;
		if (c == 'u') {
			if (!jp_hex4(j->p))
				return false;
			j->p += 4;
		} else if (strchr("\"\\/bfnrt", c) == NULL || c == '\0')
			return false;
	}
}

static bool
jp_number(struct jp *j)
{
	const char	*s = j->p;

	if (*j->p == '-')
		j->p++;
	if (*j->p == '0')
		j->p++;
	else if (*j->p >= '1' && *j->p <= '9')
		while (*j->p >= '0' && *j->p <= '9')
			j->p++;
	else
		return false;
	if (*j->p == '.') {
		j->p++;
		if (!(*j->p >= '0' && *j->p <= '9'))
			return false;
		while (*j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	return j->p > s;
}

static bool
jp_object(struct jp *j)
{
	j->p++;
	jp_ws(j);
	if (*j->p == '}') {
		j->p++;
		return true;
	}
	for (;;) {
		jp_ws(j);
		if (!jp_string(j))
			return false;
		jp_ws(j);
		if (*j->p++ != ':' || !jp_value(j))
			return false;
		jp_ws(j);
		if (*j->p == '}') {
			j->p++;
			return true;
		}
		if (*j->p++ != ',')
			return false;
	}
}

static bool
jp_value(struct jp *j)
{
	bool	 ok;

	jp_ws(j);
	if (++j->depth > 16)
		return false;
	if (*j->p == '{')
		ok = jp_object(j);
	else if (*j->p == '"')
		ok = jp_string(j);
	else if (strncmp(j->p, "true", 4) == 0 || strncmp(j->p, "null", 4) ==
	    0) {
		j->p += 4;
		ok = true;
	} else if (strncmp(j->p, "false", 5) == 0) {
		j->p += 5;
		ok = true;
	} else
		ok = jp_number(j);
	j->depth--;
	return ok;
}

/*
 * One event line: an object, then "\n" and nothing else; ASCII only;
 * "timestamp" first.
 */
static void
assert_line(const char *line, size_t len)
{
	struct jp	 j = { line, 0 };

	assert_int_equal(strlen(line), len);
	assert_true(len >= 2 && line[len - 1] == '\n');
	for (size_t k = 0; k + 1 < len; k++)
		if ((unsigned char)line[k] < 0x20 ||
		    (unsigned char)line[k] >= 0x7f)
			fail_msg("byte 0x%02x at %zu: %s",
			    (unsigned char)line[k], k, line);
	if (*j.p != '{' || !jp_value(&j) || strcmp(j.p, "\n") != 0)
		fail_msg("not one JSON object: %s", line);
	assert_true(strncmp(line, "{\"timestamp\":\"", 14) == 0);
}

static void
assert_has(const char *line, const char *part)
{
	if (strstr(line, part) == NULL)
		fail_msg("no %s in %s", part, line);
}

static void
assert_lacks(const char *line, const char *part)
{
	if (strstr(line, part) != NULL)
		fail_msg("%s in %s", part, line);
}

/* ---- timestamps --------------------------------------------------------- */

static const struct tsrow {
	const char	*name;
	uint64_t	 ns;
	const char	*want;
} tsrows[] = {
	{ "epoch", 0, "1970-01-01T00:00:00.000000+0000" },
	{ "eve_example", T0 + 123456789, "2026-12-07T10:11:12.123456+0000" },
	/* Microseconds are cut, not rounded (a line is never later). */
	{ "truncated", T0 + 999999999, "2026-12-07T10:11:12.999999+0000" },
	{ "leap_day", SEC(1709208000) + 1000,
	    "2024-02-29T12:00:00.000001+0000" },
};

static void
test_timestamp(void **state)
{
	const struct tsrow	*r = *state;
	char			 buf[EVENTS_TS_LEN];

	assert_string_equal(events_timestamp(r->ns, buf, sizeof(buf)),
	    r->want);
	assert_int_equal(strlen(buf), 31);
}

/* ---- alerts -------------------------------------------------------------- */

static const struct pg_ep attacker = { { 0x02, 0, 0, 0, 0, 0x66 },
    "198.51.100.66", 5062 };
static const struct pg_ep proxy = { { 0x02, 0, 0, 0, 0, 0x01 },
    "192.0.2.1", 5060 };
static const struct pg_ep attacker6 = { { 0x02, 0, 0, 0, 0, 0x66 },
    "2001:db8::66", 5061 };
static const struct pg_ep proxy6 = { { 0x02, 0, 0, 0, 0, 0x01 },
    "2001:db8::1", 5060 };

/* A forged BYE as the queue hands it over: from IP on. */
static size_t
l3_packet(uint8_t *buf, size_t sz, const struct pg_ep *src,
    const struct pg_ep *dst, bool tcp)
{
	static const char	 bye[] =
	    "BYE sip:bob@example.com SIP/2.0\r\n\r\n";
	struct pg_frame_opt	 o = { .tcp = tcp };
	uint8_t			 f[2048];
	size_t			 n;

	n = pg_frame(f, sizeof(f), src, dst, bye, sizeof(bye) - 1, &o);
	assert_true(n > 14 && n - 14 <= sz);
	memcpy(buf, f + 14, n - 14);
	return n - 14;
}

static void
forged_bye(struct alarm *a, const uint8_t *l3, size_t len)
{
	memset(a, 0, sizeof(*a));
	a->type = ALARM_SPOOF;
	a->kase = "ix";
	a->action = ACT_BLOCK;
	a->has_m = true;
	memcpy(a->m.b, attacker.mac, 6);
	assert_int_equal(sg_addr_parse("198.51.100.11", &a->i), 0);
	a->s = a->i;
	a->identity = "alice@example.com";
	a->method = "BYE";
	a->call_id = "call-1";
	a->rate = -1;
	a->now = T0 + 123456789;
	a->l3 = l3;
	a->l3len = len;
}

/* The whole line, once: EVE's names and order, sipguard's own after. */
static void
test_alert_udp(void **state)
{
	struct alarm	 a;
	uint8_t		 pkt[2048];
	char		 buf[EVENTS_LINE_MAX];
	size_t		 n;

	(void)state;
	forged_bye(&a, pkt, l3_packet(pkt, sizeof(pkt), &attacker, &proxy,
	    false));
	n = events_alert(&a, buf, sizeof(buf));
	assert_line(buf, n);
	assert_string_equal(buf,
	    "{\"timestamp\":\"2026-12-07T10:11:12.123456+0000\","
	    "\"event_type\":\"alert\",\"src_ip\":\"198.51.100.66\","
	    "\"src_port\":5062,\"dest_ip\":\"192.0.2.1\",\"dest_port\":5060,"
	    "\"proto\":\"UDP\",\"alert\":{\"action\":\"blocked\",\"gid\":1,"
	    "\"signature_id\":1650017,\"rev\":1,"
	    "\"signature\":\"sipguard spoof case ix\","
	    "\"category\":\"Attempted User Privilege Gain\",\"severity\":1},"
	    "\"sip\":{\"alarm\":\"spoof\",\"case\":\"ix\",\"action\":\"block\","
	    "\"mac\":\"02:00:00:00:00:66\",\"ip\":\"198.51.100.11\","
	    "\"sip_ip\":\"198.51.100.11\",\"identity\":\"alice@example.com\","
	    "\"method\":\"BYE\",\"call_id\":\"call-1\"}}\n");
}

static void
test_alert_tcp6(void **state)
{
	struct alarm	 a;
	uint8_t		 pkt[2048];
	char		 buf[EVENTS_LINE_MAX];
	size_t		 n;

	(void)state;
	forged_bye(&a, pkt, l3_packet(pkt, sizeof(pkt), &attacker6, &proxy6,
	    true));
	a.action = ACT_NOTICE;		/* detect mode */
	n = events_alert(&a, buf, sizeof(buf));
	assert_line(buf, n);
	assert_has(buf, "\"src_ip\":\"2001:db8::66\",\"src_port\":5061,"
	    "\"dest_ip\":\"2001:db8::1\",\"dest_port\":5060,\"proto\":\"TCP\"");
	assert_has(buf, "\"alert\":{\"action\":\"allowed\"");
	assert_has(buf, "\"action\":\"notice\"");
}

/* DS1: no packet, no source; a rate, a class and a detail. */
static void
test_alert_population(void **state)
{
	struct alarm	 a;
	char		 buf[EVENTS_LINE_MAX];
	size_t		 n;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.type = ALARM_DS1;
	a.action = ACT_CLEAR;
	a.rate = 12.5;
	a.cls = "unbound";
	a.detail = "Curr.C_Avg 12.50/s back under 9.00/s";
	a.now = T0;
	n = events_alert(&a, buf, sizeof(buf));
	assert_line(buf, n);
	assert_lacks(buf, "src_ip");
	assert_lacks(buf, "dest_ip");
	assert_lacks(buf, "\"case\"");
	assert_lacks(buf, "\"mac\"");
	assert_has(buf, "\"signature\":\"sipguard ds1\"");
	assert_has(buf, "\"signature_id\":1650400,");
	assert_has(buf, "\"category\":\"Attempted Denial of Service\","
	    "\"severity\":2");
	assert_has(buf, "\"action\":\"clear\",");
	assert_has(buf, "\"rate\":12.50,\"class\":\"unbound\","
	    "\"detail\":\"Curr.C_Avg 12.50/s back under 9.00/s\"}}\n");
}

/* A packet the alarm came without: the alarm's source, no ports. */
static void
test_alert_no_packet(void **state)
{
	struct alarm	 a;
	char		 buf[EVENTS_LINE_MAX];
	uint8_t		 junk[] = { 0x45, 0x00 };	/* cut IPv4 */
	size_t		 n;

	(void)state;
	forged_bye(&a, NULL, 0);
	n = events_alert(&a, buf, sizeof(buf));
	assert_line(buf, n);
	assert_has(buf, "\"event_type\":\"alert\",\"src_ip\":"
	    "\"198.51.100.11\",\"alert\":{");
	forged_bye(&a, junk, sizeof(junk));
	n = events_alert(&a, buf, sizeof(buf));
	assert_line(buf, n);
	assert_lacks(buf, "src_port");
}

/* Attacker-controlled strings: whatever comes in, valid ASCII JSON. */
static const struct hrow {
	const char	*name;
	const char	*identity, *call_id, *method;
	const char	*want;		/* a part of the line */
} hrows[] = {
	{ "quotes", "\"}],\"x\":\"", "c", "BYE",
	    "\"identity\":\"\\\"}],\\\"x\\\":\\\"\"" },
	{ "backslash", "a\\\"b", "c", "BYE",
	    "\"identity\":\"a\\\\\\\"b\"" },
	{ "control", "a\nb\rc\td\x01\x1f", "c", "BYE",
	    "\"identity\":\"a\\u000ab\\u000dc\\u0009d\\u0001\\u001f\"" },
	{ "del", "a\x7f", "c", "BYE", "\"identity\":\"a\\u007f\"" },
	{ "invalid_utf8", "\xff\xfe\xc3", "\xc0\xaf", "B\x80YE",
	    "\"identity\":\"\\u00ff\\u00fe\\u00c3\"" },
	{ "valid_utf8", "j\xc3\xa9r\xc3\xb4me@example.com", "c", "BYE",
	    "\"identity\":\"j\\u00c3\\u00a9r\\u00c3\\u00b4me@example.com\"" },
	{ "unicode_escape_text", "\\u0000", "c", "BYE",
	    "\"identity\":\"\\\\u0000\"" },
	{ "line_separator", "a\xe2\x80\xa8" "b", "c", "BYE",
	    "\"identity\":\"a\\u00e2\\u0080\\u00a8b\"" },
	{ "call_id", "x", "\"\n", "BYE", "\"call_id\":\"\\\"\\u000a\"" },
	{ "method", "x", "c", "IN\"VITE", "\"method\":\"IN\\\"VITE\"" },
};

static void
test_hostile(void **state)
{
	const struct hrow	*r = *state;
	struct alarm		 a;
	char			 buf[EVENTS_LINE_MAX];
	size_t			 n;

	forged_bye(&a, NULL, 0);
	a.identity = r->identity;
	a.call_id = r->call_id;
	a.method = r->method;
	n = events_alert(&a, buf, sizeof(buf));
	assert_line(buf, n);
	assert_has(buf, r->want);
}

/* Every string at its longest and all escapes: capped, still whole. */
static void
test_overlong(void **state)
{
	struct alarm	 a;
	char		 big[4096], buf[EVENTS_LINE_MAX];
	size_t		 n;

	(void)state;
	memset(big, 0x01, sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	forged_bye(&a, NULL, 0);
	a.identity = a.call_id = a.method = a.detail = a.cls = a.kase = big;
	n = events_alert(&a, buf, sizeof(buf));
	assert_true(n > 0);
	assert_line(buf, n);
	/*
	 * At the engine's own caps (what a packet can carry), every byte
	 * escaped: the 2.6 KB (2619 bytes) events.h sizes its buffer by.
	 */
	{
		char	 id[SG_ID_MAX], cid[SG_CALLID_MAX];
		char	 m[SG_METHOD_MAX];
		char	 det[96];
		uint8_t	 pkt[2048];

		memset(id, 0x01, sizeof(id) - 1);
		memset(cid, 0x01, sizeof(cid) - 1);
		memset(m, 0x01, sizeof(m) - 1);
		memset(det, 0x01, sizeof(det) - 1);
		id[sizeof(id) - 1] = cid[sizeof(cid) - 1] = '\0';
		m[sizeof(m) - 1] = det[sizeof(det) - 1] = '\0';
		forged_bye(&a, pkt, l3_packet(pkt, sizeof(pkt), &attacker6,
		    &proxy6, true));
		a.identity = id;
		a.call_id = cid;
		a.method = m;
		a.detail = det;
		a.rate = 123456.78;
		a.cls = "internal,non-register,single-source,end-user-flood";
		n = events_alert(&a, buf, sizeof(buf));
		assert_line(buf, n);
		assert_true(n < 2700);
	}
	forged_bye(&a, NULL, 0);
	a.identity = a.call_id = a.method = a.detail = a.cls = a.kase = big;
	/* Too small a buffer: nothing, and nothing half-written. */
	assert_int_equal(events_alert(&a, buf, 200), 0);
	assert_string_equal(buf, "");
	assert_int_equal(events_summary(&a, 3, "aggregated", buf, 40), 0);
}

static void
test_summary(void **state)
{
	struct alarm	 a;
	char		 buf[EVENTS_LINE_MAX];
	size_t		 n;

	(void)state;
	forged_bye(&a, NULL, 0);
	n = events_summary(&a, 17, "aggregated", buf, sizeof(buf));
	assert_line(buf, n);
	assert_has(buf, "\"event_type\":\"sipguard_summary\","
	    "\"src_ip\":\"198.51.100.11\",\"summary\":{\"why\":\"aggregated\","
	    "\"suppressed\":17},\"sip\":{\"alarm\":\"spoof\",\"case\":\"ix\","
	    "\"action\":\"block\"");
	assert_lacks(buf, "\"alert\"");
	/* The budget's: a class, no source, no action. */
	memset(&a, 0, sizeof(a));
	a.type = ALARM_SPOOF;
	a.kase = "b";
	a.rate = -1;
	a.now = T0;
	n = events_summary(&a, 99960, "budget", buf, sizeof(buf));
	assert_line(buf, n);
	assert_string_equal(buf,
	    "{\"timestamp\":\"2026-12-07T10:11:12.000000+0000\","
	    "\"event_type\":\"sipguard_summary\",\"summary\":{\"why\":"
	    "\"budget\",\"suppressed\":99960},\"sip\":{\"alarm\":\"spoof\","
	    "\"case\":\"b\"}}\n");
}

/* ---- the journal's fields ------------------------------------------------ */

static bool
has_field(const struct alarm_fields *f, const char *want)
{
	for (int k = 0; k < f->n; k++)
		if (strcmp(f->v[k], want) == 0)
			return true;
	return false;
}

static void
test_fields(void **state)
{
	struct alarm		 a;
	struct alarm_fields	 f;
	char			 big[600], want[ALARM_FIELD_MAX];

	(void)state;
	forged_bye(&a, NULL, 0);
	alarm_fields(&a, NULL, 0, &f);
	assert_int_equal(f.n, 8);
	assert_true(has_field(&f, "SIPGUARD_ALARM=spoof"));
	assert_true(has_field(&f, "SIPGUARD_CASE=ix"));
	assert_true(has_field(&f, "SIPGUARD_ACTION=block"));
	assert_true(has_field(&f, "SIPGUARD_SRC_IP=198.51.100.11"));
	assert_true(has_field(&f, "SIPGUARD_MAC=02:00:00:00:00:66"));
	assert_true(has_field(&f, "SIPGUARD_IDENTITY=alice@example.com"));
	assert_true(has_field(&f, "SIPGUARD_METHOD=BYE"));
	assert_true(has_field(&f, "SIPGUARD_CALL_ID=call-1"));

	/* Escaped as in the line, without its quotes. */
	a.identity = "al\"ice\n\xff";
	a.kase = NULL;
	a.has_m = false;
	alarm_fields(&a, "summary", 12, &f);
	assert_true(has_field(&f, "SIPGUARD_IDENTITY=al\\\"ice\\x0a\\xff"));
	assert_true(has_field(&f, "SIPGUARD_ACTION=summary"));
	assert_true(has_field(&f, "SIPGUARD_SUPPRESSED=12"));
	for (int k = 0; k < f.n; k++) {
		assert_null(strstr(f.v[k], "SIPGUARD_CASE="));
		assert_null(strstr(f.v[k], "SIPGUARD_MAC="));
		assert_null(strchr(f.v[k], '\n'));
	}
	/* Capped at the line's 128 bytes, then "...". */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	a.identity = big;
	alarm_fields(&a, NULL, 0, &f);
	snprintf(want, sizeof(want), "SIPGUARD_IDENTITY=%.128s...", big);
	assert_true(has_field(&f, want));
}

/* ---- the file ------------------------------------------------------------ */

struct fx {
	char		 dir[64], path[96];
};

static int
fx_setup(void **state)
{
	struct fx	*f = calloc(1, sizeof(*f));

	assert_non_null(f);
	tl_template(f->dir, sizeof(f->dir), "/tmp/sgevents");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/eve.json", f->dir);
	*state = f;
	return 0;
}

static int
fx_teardown(void **state)
{
	struct fx	*f = *state;
	char		 cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return 1;
	free(f);
	return 0;
}

/* Lines of `path', each checked; -1 if it does not exist. */
static int
lines_of(const char *path, const char *type, int *typed)
{
	FILE	*fp = fopen(path, "r");
	char	 line[EVENTS_LINE_MAX];
	int	 n = 0;

	if (typed != NULL)
		*typed = 0;
	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		assert_line(line, strlen(line));
		if (typed != NULL && strstr(line, type) != NULL)
			(*typed)++;
		n++;
	}
	fclose(fp);
	return n;
}

static void
push_alert(struct events *ev, uint64_t now)
{
	struct alarm	 a;
	char		 buf[EVENTS_LINE_MAX];
	size_t		 n;

	forged_bye(&a, NULL, 0);
	a.now = now;
	n = events_alert(&a, buf, sizeof(buf));
	events_push(ev, buf, n);
}

/* Nothing reaches the file before the flush: the workers never write. */
static void
test_file(void **state)
{
	struct fx		*f = *state;
	struct events		*ev = events_create(f->path);
	struct events_stats	 st;

	assert_non_null(ev);
	assert_true(events_on(ev));
	for (int k = 0; k < 3; k++)
		push_alert(ev, T0 + SEC(k));
	assert_int_equal(lines_of(f->path, NULL, NULL), 0);
	events_flush(ev);
	assert_int_equal(lines_of(f->path, NULL, NULL), 3);
	events_stats(ev, &st);
	assert_int_equal(st.written, 3);
	assert_int_equal(st.lost, 0);
	assert_int_equal(st.errors, 0);
	assert_true(st.open);
	events_destroy(ev);
	/* Appended to, never truncated. */
	ev = events_create(f->path);
	push_alert(ev, T0);
	events_destroy(ev);
	assert_int_equal(lines_of(f->path, NULL, NULL), 4);
}

/* A full buffer drops and counts; the next flush makes room again. */
static void
test_overflow(void **state)
{
	struct fx		*f = *state;
	struct events		*ev = events_create(f->path);
	struct events_stats	 st;
	char			 line[1000];
	size_t			 fit = EVENTS_BUFFER / sizeof(line);

	assert_non_null(ev);
	memset(line, 'x', sizeof(line));
	memcpy(line, "{\"timestamp\":\"", 14);
	memcpy(line + sizeof(line) - 3, "\"}\n", 3);
	for (size_t k = 0; k < fit + 52; k++)
		events_push(ev, line, sizeof(line));
	events_stats(ev, &st);
	assert_int_equal(st.lost, 52);
	events_flush(ev);
	events_push(ev, line, sizeof(line));
	events_flush(ev);
	events_stats(ev, &st);
	assert_int_equal(st.written, fit + 1);
	assert_int_equal(st.lost, 52);
	assert_int_equal(lines_of(f->path, NULL, NULL), (int)fit + 1);
	events_destroy(ev);
}

/* logrotate moves the file, then SIGUSR1: a new file, nothing lost. */
static void
test_reopen(void **state)
{
	struct fx	*f = *state;
	struct events	*ev = events_create(f->path);
	char		 moved[128];

	assert_non_null(ev);
	snprintf(moved, sizeof(moved), "%s.1", f->path);
	push_alert(ev, T0);
	events_flush(ev);
	assert_int_equal(rename(f->path, moved), 0);
	push_alert(ev, T0 + SEC(1));	/* buffered: goes to the old one */
	assert_int_equal(events_reopen(ev, NULL), 0);
	push_alert(ev, T0 + SEC(2));
	events_flush(ev);
	assert_int_equal(lines_of(moved, NULL, NULL), 2);
	assert_int_equal(lines_of(f->path, NULL, NULL), 1);
	/* A reload to "": off, nothing formatted or written. */
	assert_int_equal(events_reopen(ev, ""), 0);
	assert_false(events_on(ev));
	events_destroy(ev);
	assert_int_equal(lines_of(f->path, NULL, NULL), 1);
}

/* A file that cannot be opened: counted as errors, the daemon goes on. */
static void
test_unwritable(void **state)
{
	struct fx		*f = *state;
	struct events		*ev;
	struct events_stats	 st;
	char			 path[128];
	struct cap { FILE *f; int saved; } c;

	snprintf(path, sizeof(path), "%s/no/such/dir/eve.json", f->dir);
	fflush(stderr);
	c.f = tmpfile();
	c.saved = dup(STDERR_FILENO);
	dup2(fileno(c.f), STDERR_FILENO);
	ev = events_create(path);
	assert_non_null(ev);
	push_alert(ev, T0);
	events_flush(ev);
	fflush(stderr);
	dup2(c.saved, STDERR_FILENO);
	close(c.saved);
	events_stats(ev, &st);
	assert_int_equal(st.errors, 1);
	assert_int_equal(st.written, 0);
	assert_false(st.open);
	events_destroy(ev);
	fclose(c.f);
}

/*
 * The alarm log's mirror: 10,000 spoofed alarms from new sources in a
 * second and repeats of one key, through alarm_log_emit as the daemon
 * calls it.  The file has a line per log line, of the same kind: alerts
 * for the alarms' own lines, summaries for the summaries.
 */
static void
test_mirror(void **state)
{
	struct fx		*f = *state;
	struct events		*ev = events_create(f->path);
	struct alarm_log	*l = alarm_log_create(4096, SEC(10));
	struct alarm		 a;
	FILE			*cap = tmpfile();
	int			 saved, log_lines = 0, log_summaries = 0;
	int			 alerts, summaries, n;
	char			 line[1024], ip[32];

	assert_non_null(ev);
	assert_non_null(l);
	assert_non_null(cap);
	alarm_log_set_events(l, ev);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fileno(cap), STDERR_FILENO);
	for (uint32_t k = 0; k < 10000; k++) {
		forged_bye(&a, NULL, 0);
		snprintf(ip, sizeof(ip), "10.%u.%u.%u", k >> 16,
		    (k >> 8) & 0xff, k & 0xff);
		assert_int_equal(sg_addr_parse(ip, &a.i), 0);
		a.kase = "b";
		a.now = T0 + k * 100000ULL;	/* within one second */
		alarm_log_emit(l, &a);
	}
	for (int k = 0; k < 5; k++) {
		forged_bye(&a, NULL, 0);
		a.type = ALARM_MALFORMED;
		a.kase = NULL;
		a.now = T0 + SEC(1) + SEC(k);
		alarm_log_emit(l, &a);
	}
	alarm_log_flush(l, T0 + SEC(2));
	alarm_log_flush(l, T0 + SEC(30));
	alarm_log_destroy(l);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	events_destroy(ev);

	rewind(cap);
	while (fgets(line, sizeof(line), cap) != NULL) {
		assert_true(strncmp(line, "alarm type=", 11) == 0);
		log_lines++;
		log_summaries += strstr(line, "suppressed") != NULL;
	}
	fclose(cap);
	n = lines_of(f->path, "\"event_type\":\"alert\"", &alerts);
	lines_of(f->path, "\"event_type\":\"sipguard_summary\"", &summaries);
	/*
	 * 59 spoof lines (the burst of 40, and 19 that 20/s refills in the
	 * 0.9999 s the flood lasts), the malformed key's first; then the
	 * budget's summary of the spoof lines and the key's of its repeats.
	 */
	assert_int_equal(log_lines - log_summaries, 60);
	assert_int_equal(n, log_lines);
	assert_int_equal(alerts, log_lines - log_summaries);
	assert_int_equal(summaries, log_summaries);
	assert_int_equal(summaries, 2);
}

/* ---- drops --------------------------------------------------------------- */

static const struct sg_mac attacker_mac = { { 0x02, 0, 0, 0, 0, 0x66 } };

/* The forged BYE of the alert tests, dropped: reason ix, its alarm. */
static void
dropped_bye(struct events_drop *d, const uint8_t *l3, size_t len)
{
	memset(d, 0, sizeof(*d));
	d->now = T0 + 123456789;
	d->l3 = l3;
	d->l3len = len;
	d->mac = &attacker_mac;
	d->reason = "ix";
	d->queue = 3;
	d->alarmed = true;
	d->type = ALARM_SPOOF;
	d->kase = "ix";
	d->action = ACT_BLOCK;
	d->sip = true;
	d->method = "BYE";
	d->call_id = "call-1";
	d->from = "alice@example.com";
	d->to = "bob@example.com";
}

/* The whole line, once: Suricata's drop names, sipguard's after. */
static void
test_drop_udp(void **state)
{
	struct events_drop	 d;
	uint8_t			 pkt[2048];
	char			 buf[EVENTS_LINE_MAX];
	size_t			 n, len;

	(void)state;
	len = l3_packet(pkt, sizeof(pkt), &attacker, &proxy, false);
	dropped_bye(&d, pkt, len);
	n = events_drop(&d, buf, sizeof(buf));
	assert_line(buf, n);
	assert_int_equal(len, 63);
	assert_string_equal(buf,
	    "{\"timestamp\":\"2026-12-07T10:11:12.123456+0000\","
	    "\"event_type\":\"drop\",\"src_ip\":\"198.51.100.66\","
	    "\"src_port\":5062,\"dest_ip\":\"192.0.2.1\",\"dest_port\":5060,"
	    "\"proto\":\"UDP\",\"ether\":{\"src_mac\":\"02:00:00:00:00:66\"},"
	    "\"drop\":{\"len\":63,\"reason\":\"ix\",\"queue\":3,"
	    "\"alarm\":\"spoof\",\"case\":\"ix\",\"action\":\"block\"},"
	    "\"sip\":{\"method\":\"BYE\",\"call_id\":\"call-1\","
	    "\"from\":\"alice@example.com\",\"to\":\"bob@example.com\"}}\n");
}

/*
 * A drop that raised no alarm (blacklisted, the message never parsed),
 * over TCP and IPv6 with no MAC; a response's code; no reason at all.
 */
static void
test_drop_plain(void **state)
{
	struct events_drop	 d;
	uint8_t			 pkt[2048];
	char			 buf[EVENTS_LINE_MAX];
	size_t			 n;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.now = T0;
	d.l3 = pkt;
	d.l3len = l3_packet(pkt, sizeof(pkt), &attacker6, &proxy6, true);
	d.reason = "blacklisted";
	n = events_drop(&d, buf, sizeof(buf));
	assert_line(buf, n);
	assert_has(buf, "\"event_type\":\"drop\",\"src_ip\":\"2001:db8::66\","
	    "\"src_port\":5061,\"dest_ip\":\"2001:db8::1\",\"dest_port\":5060,"
	    "\"proto\":\"TCP\",\"drop\":{\"len\":");
	assert_has(buf, "\"reason\":\"blacklisted\",\"queue\":0}}\n");
	assert_lacks(buf, "\"ether\"");
	assert_lacks(buf, "\"alarm\"");
	assert_lacks(buf, "\"sip\"");
	d.sip = true;
	d.code = 200;
	d.call_id = "c";
	n = events_drop(&d, buf, sizeof(buf));
	assert_line(buf, n);
	assert_has(buf, "\"sip\":{\"code\":200,\"call_id\":\"c\"}}\n");
	/* Nothing decodable, no reason: no flow, reason "-". */
	d.l3 = NULL;
	d.l3len = 0;
	d.reason = NULL;
	d.sip = false;
	n = events_drop(&d, buf, sizeof(buf));
	assert_line(buf, n);
	assert_has(buf, "\"event_type\":\"drop\",\"drop\":{\"len\":0,"
	    "\"reason\":\"-\",\"queue\":0}}\n");
}

/* The message's strings are the attacker's: escaped as in alerts. */
static void
test_drop_hostile(void **state)
{
	const struct hrow	*r = *state;
	struct events_drop	 d;
	char			 buf[EVENTS_LINE_MAX], want[256];
	const char		*p;
	size_t			 n;

	dropped_bye(&d, NULL, 0);
	d.from = d.to = r->identity;
	d.call_id = r->call_id;
	d.method = r->method;
	n = events_drop(&d, buf, sizeof(buf));
	assert_line(buf, n);
	/* The alert's "identity" is the drop's "from" and "to". */
	if ((p = strstr(r->want, "\"identity\":")) == r->want) {
		snprintf(want, sizeof(want), "\"from\":%s", r->want + 11);
		assert_has(buf, want);
		snprintf(want, sizeof(want), "\"to\":%s", r->want + 11);
		assert_has(buf, want);
	} else
		assert_has(buf, r->want);
}

/* Every string at its longest: capped, still whole; too small: 0. */
static void
test_drop_overlong(void **state)
{
	struct events_drop	 d;
	char			 big[4096], buf[EVENTS_LINE_MAX];
	uint8_t			 pkt[2048];
	size_t			 n;

	(void)state;
	memset(big, 0x01, sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	dropped_bye(&d, pkt, l3_packet(pkt, sizeof(pkt), &attacker6, &proxy6,
	    true));
	d.method = d.call_id = d.from = d.to = d.kase = d.reason = big;
	n = events_drop(&d, buf, sizeof(buf));
	assert_true(n > 0);
	assert_line(buf, n);
	assert_int_equal(events_drop(&d, buf, 200), 0);
	assert_string_equal(buf, "");
}

/*
 * The bucket: a burst of one second's worth, then `rate' a second on
 * the packets' time; refusals counted; 0 turns drop lines off, as does
 * no file; a clock stepped back does not shut it.
 */
static void
test_drop_rate(void **state)
{
	struct fx		*f = *state;
	struct events		*ev = events_create(f->path);
	struct events_stats	 st;
	struct events_drop	 d;
	char			 buf[EVENTS_LINE_MAX];
	size_t			 n;
	int			 admitted = 0, total;

	assert_non_null(ev);
	assert_false(events_drops_on(ev));	/* no rate set: none */
	events_set_drops_rate(ev, 100);
	assert_true(events_drops_on(ev));
	/* 10,000 drops in 10 ms: the burst, 100, and the 10 ms' one. */
	for (int k = 0; k < 10000; k++)
		admitted += events_drop_admit(ev, T0 + (uint64_t)k * 1000);
	assert_true(admitted >= 100 && admitted <= 101);
	total = admitted;
	/* Then 10,000 a second for 10 s: 100 a second, no more. */
	admitted = 0;
	for (int k = 0; k < 100000; k++)
		admitted += events_drop_admit(ev, T0 + 10000000 +
		    (uint64_t)k * 100000);
	assert_true(admitted >= 999 && admitted <= 1001);
	total += admitted;
	events_stats(ev, &st);
	assert_int_equal(st.drops_skipped, 110000 - total);
	/* A clock stepped back an hour: a fresh bucket. */
	assert_true(events_drop_admit(ev, T0 - SEC(3600)));
	/* Pushed as drop lines: counted apart from the alerts. */
	dropped_bye(&d, NULL, 0);
	n = events_drop(&d, buf, sizeof(buf));
	for (int k = 0; k < 3; k++)
		events_push_drop(ev, buf, n);
	push_alert(ev, T0);
	events_flush(ev);
	events_stats(ev, &st);
	assert_int_equal(st.drops, 3);
	assert_int_equal(st.written, 4);
	assert_int_equal(lines_of(f->path, NULL, NULL), 4);
	events_set_drops_rate(ev, 0);
	assert_false(events_drops_on(ev));
	assert_false(events_drop_admit(ev, T0 + SEC(10)));
	events_set_drops_rate(ev, 1000);
	assert_int_equal(events_reopen(ev, ""), 0);
	assert_false(events_drops_on(ev));
	events_destroy(ev);
}

int
main(void)
{
	static const uint8_t	 key[16] = { 'e', 'v', 'e', 'n', 't', 's' };

	if (hash_init() == -1)
		return 1;
	hash_set_key(key);
	log_init("test_events", 1, LOG_USER);
	log_set_syslog(0);
	TREG_ROWS("timestamp", test_timestamp, tsrows);
	TREG("alert", alert_udp);
	TREG("alert", alert_tcp6);
	TREG("alert", alert_population);
	TREG("alert", alert_no_packet);
	TREG_ROWS("hostile", test_hostile, hrows);
	TREG("alert", overlong);
	TREG("alert", summary);
	TREG("drop", drop_udp);
	TREG("drop", drop_plain);
	TREG_ROWS("drop_hostile", test_drop_hostile, hrows);
	TREG("drop", drop_overlong);
	TREG("journal", fields);
	treg_fixture(fx_setup, fx_teardown);
	TREG("file", file);
	TREG("file", overflow);
	TREG("file", reopen);
	TREG("file", unwritable);
	TREG("file", mirror);
	TREG("file", drop_rate);
	return treg_run("events");
}
