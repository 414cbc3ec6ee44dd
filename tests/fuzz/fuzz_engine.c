/*
 * fuzz_engine.c: the engine of fuzz_packet and fuzz_packets (see fuzz.h
 * for the frame header byte).
 */
#include <stdlib.h>
#include <string.h>

#include "alarm.h"
#include "fuzz.h"

static const char *const sets[] = {
	"proxy.addresses = [\"192.0.2.1\", \"2001:db8::1\"]",
	"tables.bindings = 1024",
	"tables.pending = 256",
	"tables.nonces = 1024",
	"tables.sources = 1024",
	"tables.streams = 256",
	"tables.stream_buffers = 8",
	"tables.fragments = 8",
	"blacklist.size = 256",
	/* Training ends after a few thousand inputs: both phases run. */
	"training.duration = 120",
};

static uint64_t		 next_tick;

/* A string field must end inside its array. */
#define FIELD(s) do {							\
	if (memchr((s), '\0', sizeof(s)) == NULL)			\
		fz_fail("%s: not NUL-terminated", #s);			\
	json_str(buf, sizeof(buf), (s));				\
} while (0)

static void
on_result(void *arg, const struct sg_result *r)
{
	const struct dec_pkt	*p = r->pkt;
	char			 buf[1024], a[SG_ADDRSTRLEN];
	char			 mac[SG_MACSTRLEN];

	(void)arg;
	if (r->verdict != SG_ACCEPT && r->verdict != SG_DROP)
		fz_fail("verdict %d", (int)r->verdict);
	if ((unsigned)r->reason >= SG_R__COUNT)
		fz_fail("reason %d", (int)r->reason);
	if (r->kind > SIPM_K_MALFORMED)
		fz_fail("kind %d", (int)r->kind);
	json_str(buf, sizeof(buf), sg_reason_str(r->reason));
	if (p == NULL)
		fz_fail("result without a packet");
	fz_touch(p->payload, p->plen);
	fz_touch(p->l4, p->l4len);
	sg_addr_str(&p->src, a, sizeof(a));
	sg_addr_str(&p->dst, a, sizeof(a));
	sg_mac_str(&p->smac, p->has_mac, mac, sizeof(mac));
	/* engine.h: msg is NULL unless kind == SIPM_K_SIP. */
	if (r->msg != NULL && r->kind != SIPM_K_SIP)
		fz_fail("msg %p with kind %d", (const void *)r->msg,
		    (int)r->kind);
	if (r->msg != NULL) {
		const struct sipm	*m = r->msg;

		FIELD(m->method_str);
		FIELD(m->call_id);
		FIELD(m->from);
		FIELD(m->to);
		FIELD(m->impi);
		if (m->ncontacts_kept < 0 || m->ncontacts_kept >
		    SIPM_MAX_CONTACTS)
			fz_fail("ncontacts_kept %d", m->ncontacts_kept);
		sg_addr_str(&m->via_host, a, sizeof(a));
		sg_addr_str(&m->contact_host, a, sizeof(a));
	}
}

static void
on_alarm(void *arg, const struct alarm *al)
{
	char	 buf[2048], a[SG_ADDRSTRLEN], mac[SG_MACSTRLEN];

	(void)arg;
	if ((unsigned)al->type >= ALARM__COUNT)
		fz_fail("alarm type %d", (int)al->type);
	if ((unsigned)al->action > ACT_CLEAR)
		fz_fail("alarm action %d", (int)al->action);
	alarm_format(al, buf, sizeof(buf));
	json_str(buf, sizeof(buf), alarm_type_str(al->type));
	json_str(buf, sizeof(buf), alarm_action_str(al->action));
	sg_mac_str(&al->m, al->has_m, mac, sizeof(mac));
	sg_addr_str(&al->i, a, sizeof(a));
	sg_addr_str(&al->s, a, sizeof(a));
	json_str(buf, sizeof(buf), al->kase ? al->kase : "-");
	json_str(buf, sizeof(buf), al->identity ? al->identity : "-");
	json_str(buf, sizeof(buf), al->method ? al->method : "-");
	json_str(buf, sizeof(buf), al->call_id ? al->call_id : "-");
	json_str(buf, sizeof(buf), al->cls ? al->cls : "-");
	json_str(buf, sizeof(buf), al->detail ? al->detail : "-");
}

struct engine *
fz_engine(void)
{
	static struct engine	*e;
	static struct sg_conf	 conf;
	struct conf_errors	 errs;

	if (e != NULL)
		return e;
	memset(&errs, 0, sizeof(errs));
	if (conf_load(NULL, sets, (int)nitems(sets), &conf, &errs) == -1)
		fz_fail("config: %s", errs.buf);
	if ((e = engine_create(&conf)) == NULL)
		fz_fail("engine_create failed");
	engine_set_observer(e, on_result, NULL);
	engine_set_alarm_sink(e, on_alarm, NULL);
	engine_set_report_fields(e, true);
	next_tick = FZ_T0;
	return e;
}

enum sg_verdict
fz_frame(struct engine *e, uint8_t hdr, const uint8_t *data, size_t len,
    uint64_t now)
{
	static const enum dec_link links[8] = { LINK_ETHERNET, LINK_RAW,
	    LINK_SLL, LINK_SLL2, LINK_NULL, LINK_ETHERNET, LINK_RAW,
	    LINK_ETHERNET };
	static const struct sg_mac hw = { { 2, 0, 0, 0, 0, 0x11 } };
	unsigned	 flags = 0;
	uint8_t		*copy;
	enum sg_verdict	 v;

	if (FZ_CSUM(hdr) & 1)
		flags |= ENGINE_CSUM_UNVERIFIED;
	if (FZ_CSUM(hdr) & 2)
		flags |= ENGINE_CSUM_PARTIAL;
	copy = fz_copy(data, len);
	v = engine_packet_flags(e, links[FZ_LINK(hdr)], copy, len,
	    (hdr & FZ_HWMAC) ? &hw : NULL,
	    (enum engine_dir)((int)FZ_DIR(hdr) - 1), flags, now);
	free(copy);
	if (v != SG_ACCEPT && v != SG_DROP)
		fz_fail("engine_packet returned %d", (int)v);
	if (now >= next_tick) {
		engine_tick(e, now);
		next_tick = now + NS_PER_SEC;
	}
	return v;
}
