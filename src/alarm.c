/*
 * alarm.c: alarm names and formatting.  Packet strings are attacker
 * controlled: they are escaped and capped before they reach a log line.
 */
#include <stdio.h>
#include <string.h>

#include "alarm.h"

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
