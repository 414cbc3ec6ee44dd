/*
 * test_cluster.c: the parts of the cluster (cluster.h) that need no
 * Redis: the cluster.* keys and their checks, the wire format of a
 * listing and a removal (round trip, every malformed form refused, spoof
 * tuples and MAC-less keys never encoded), the key names, and the
 * outbound queue's bound (overflow counted, nothing allocated after
 * create, a run of the same change queued once); a binding's record
 * (round trip, escapes, malformed forms) and keys, and how a peer's
 * binding is applied (same segment: as it is; another: imported and
 * pinned; local quotas and rule 3 hold, nothing local evicted; a removal
 * older than the row's refresh loses).  tests/e2e_cluster.sh runs two
 * daemons against a real redis-server.
 */
#include <sys/epoll.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bind.h"
#include "cluster.h"
#include "conf.h"
#include "enforce.h"
#include "engine.h"
#include "hash.h"
#include "pktgen.h"
#include "sipguard.h"
#include "testlib.h"

#define T0	SEC(1700000000)

/* ---- configuration ---------------------------------------------------- */

static const struct ccase {
	const char	*name;
	const char	*set[4];
	const char	*error;		/* NULL: loads */
} ccases[] = {
	{ "defaults", { NULL }, NULL },
	{ "enabled", { "cluster.enabled=true", "cluster.node=\"edge-1\"",
	    "cluster.redis=\"10.0.0.5:6380\"" }, NULL },
	{ "ipv6", { "cluster.redis=\"[2001:db8::5]:6379\"" }, NULL },
	{ "unix_socket", { "cluster.redis=\"/run/redis/redis.sock\"" }, NULL },
	{ "password_file", { "cluster.password_file=\"/etc/sipguard/redis\"" },
	    NULL },
	{ "timeout_fraction", { "cluster.timeout=0.5" }, NULL },
	{ "host_name", { "cluster.redis=\"redis.example:6379\"" },
	    "cluster.redis: \"redis.example:6379\": want IPv4:PORT" },
	{ "no_port", { "cluster.redis=\"10.0.0.5\"" }, "cluster.redis" },
	{ "port_zero", { "cluster.redis=\"10.0.0.5:0\"" }, "cluster.redis" },
	{ "port_big", { "cluster.redis=\"10.0.0.5:65536\"" },
	    "cluster.redis" },
	{ "ipv6_no_brackets", { "cluster.redis=\"2001:db8::5:6379\"" },
	    "cluster.redis" },
	{ "ipv4_in_brackets", { "cluster.redis=\"[10.0.0.5]:6379\"" },
	    "cluster.redis" },
	{ "relative_socket", { "cluster.redis=\"redis.sock\"" },
	    "cluster.redis" },
	{ "node_blank", { "cluster.node=\"edge 1\"" },
	    "cluster.node: \"edge 1\": want letters" },
	{ "node_colon", { "cluster.node=\"a:b\"" }, "cluster.node" },
	{ "segment", { "cluster.segment=\"dc1-lan.2\"" }, NULL },
	{ "segment_blank", { "cluster.segment=\"lan 1\"" },
	    "cluster.segment: \"lan 1\": want letters" },
	{ "segment_star", { "cluster.segment=\"lan*\"" }, "cluster.segment" },
	{ "name_empty", { "cluster.name=\"\"" }, "cluster.name" },
	{ "name_star", { "cluster.name=\"sg*\"" }, "cluster.name" },
	{ "password_relative", { "cluster.password_file=\"pw\"" },
	    "cluster.password_file: \"pw\": want an absolute path" },
	{ "timeout_small", { "cluster.timeout=0.01" }, "cluster.timeout" },
	{ "queue_small", { "cluster.queue=8" }, "cluster.queue" },
	{ "enabled_string", { "cluster.enabled=\"yes\"" },
	    "cluster.enabled" },
	{ "sentinels", { "cluster.sentinels=\"10.0.0.1:26379, "
	    "[2001:db8::2]:26379 /run/sentinel.sock\"",
	    "cluster.master=\"mymaster\"" }, NULL },
	{ "sentinels_no_master", { "cluster.sentinels=\"10.0.0.1:26379\"" },
	    "cluster.master: \"\": Sentinel's name of the master is needed" },
	{ "master_no_sentinels", { "cluster.master=\"mymaster\"" },
	    "cluster.master: set, but cluster.sentinels is empty" },
	{ "sentinel_bad", { "cluster.sentinels=\"10.0.0.1:26379 s2:26379\"",
	    "cluster.master=\"m\"" },
	    "cluster.sentinels: \"s2:26379\": want IPv4:PORT" },
	{ "sentinels_nine", { "cluster.sentinels=\"1.0.0.1:1 1.0.0.2:1 "
	    "1.0.0.3:1 1.0.0.4:1 1.0.0.5:1 1.0.0.6:1 1.0.0.7:1 1.0.0.8:1 "
	    "1.0.0.9:1\"", "cluster.master=\"m\"" },
	    "cluster.sentinels: more than 8 addresses" },
};

static void
test_conf_row(void **state)
{
	const struct ccase	*r = *state;
	struct sg_conf		 c;
	struct conf_errors	 e;
	int			 n = 0, rc;

	while (n < 4 && r->set[n] != NULL)
		n++;
	rc = conf_load(NULL, r->set, n, &c, &e);
	if (r->error == NULL) {
		if (rc != 0)
			fail_msg("%s: %s", r->name, e.buf);
		return;
	}
	assert_int_equal(rc, -1);
	if (strstr(e.buf, r->error) == NULL)
		fail_msg("%s: want \"%s\" in:\n%s", r->name, r->error, e.buf);
}

static void
test_conf_defaults(void **state)
{
	struct sg_conf	 c;

	(void)state;
	conf_defaults(&c);
	assert_false(c.cluster_enabled);
	assert_string_equal(c.cluster_node, "");
	assert_string_equal(c.cluster_name, "sipguard");
	assert_string_equal(c.cluster_redis, "127.0.0.1:6379");
	assert_string_equal(c.cluster_password_file, "");
	assert_true(c.cluster_timeout == SEC(2));
	assert_int_equal(c.cluster_queue, 16384);
	assert_string_equal(c.cluster_sentinels, "");
	assert_string_equal(c.cluster_master, "");
}

static void
test_redis_addr(void **state)
{
	char	 host[128];
	int	 port;

	(void)state;
	assert_int_equal(conf_redis_addr("192.0.2.1:6379", host, sizeof(host),
	    &port), 0);
	assert_string_equal(host, "192.0.2.1");
	assert_int_equal(port, 6379);
	assert_int_equal(conf_redis_addr("[::1]:7000", host, sizeof(host),
	    &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 7000);
	assert_int_equal(conf_redis_addr("/run/r.sock", host, sizeof(host),
	    &port), 0);
	assert_string_equal(host, "/run/r.sock");
	assert_int_equal(port, 0);
	assert_int_equal(conf_redis_addr(":6379", host, sizeof(host), &port),
	    -1);
	assert_int_equal(conf_redis_addr("[]:6379", host, sizeof(host),
	    &port), -1);
	assert_int_equal(conf_redis_addr("1.2.3.4:", host, sizeof(host),
	    &port), -1);
	assert_int_equal(conf_redis_addr("1.2.3.4:63x", host, sizeof(host),
	    &port), -1);
}

/* ---- the wire format ---------------------------------------------------- */

static void
key_of(struct bl_key *k, enum bl_kind kind, const char *mac, const char *ip,
    uint16_t port, bool has_m)
{
	struct sg_tuple	 t;

	memset(&t, 0, sizeof(t));
	assert_int_equal(sg_mac_parse(mac, &t.m), 0);
	assert_int_equal(sg_addr_parse(ip, &t.i), 0);
	t.has_m = has_m;
	t.sport = port;
	if (kind == BL_MI)
		enf_key_mi(k, &t);
	else if (kind == BL_MIP)
		enf_key_mip(k, &t);
	else {
		assert_int_equal(sg_addr_parse("192.0.2.200", &t.s), 0);
		enf_key_k(k, &t);
	}
}

static void
msg_of(struct cluster_msg *m, enum cluster_op op, enum bl_kind kind,
    const char *ip, uint16_t port)
{
	memset(m, 0, sizeof(*m));
	m->op = (uint8_t)op;
	key_of(&m->key, kind, "02:00:5e:10:00:01", ip, port, true);
	m->stamp_ms = 1700000000123ULL;
	m->ttl_ms = op == CLUSTER_ADD ? 599500 : 0;
	snprintf(m->node, sizeof(m->node), "edge-1");
	snprintf(m->why, sizeof(m->why), "%s", op == CLUSTER_ADD ?
	    "bruteforce" : "");
}

static void
test_encode_add(void **state)
{
	struct cluster_msg	 m, back;
	char			 buf[CLUSTER_MSG_MAX];

	(void)state;
	msg_of(&m, CLUSTER_ADD, BL_MI, "192.0.2.7", 0);
	assert_int_equal(cluster_encode(&m, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "sg1 1700000000123 add edge-1 mi "
	    "02:00:5e:10:00:01 192.0.2.7 0 599500 bruteforce");
	assert_int_equal(cluster_decode(buf, strlen(buf), &back), 0);
	assert_int_equal(back.op, CLUSTER_ADD);
	assert_memory_equal(&back.key, &m.key, sizeof(m.key));
	assert_true(back.stamp_ms == m.stamp_ms);
	assert_true(back.ttl_ms == m.ttl_ms);
	assert_string_equal(back.node, "edge-1");
	assert_string_equal(back.why, "bruteforce");
}

static void
test_encode_del_mip_v6(void **state)
{
	struct cluster_msg	 m, back;
	char			 buf[CLUSTER_MSG_MAX];

	(void)state;
	msg_of(&m, CLUSTER_DEL, BL_MIP, "2001:db8::7", 5062);
	assert_int_equal(cluster_encode(&m, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "sg1 1700000000123 del edge-1 mip "
	    "02:00:5e:10:00:01 2001:db8::7 5062 0 -");
	assert_int_equal(cluster_decode(buf, strlen(buf), &back), 0);
	assert_int_equal(back.op, CLUSTER_DEL);
	assert_memory_equal(&back.key, &m.key, sizeof(m.key));
	assert_string_equal(back.why, "");
}

/* A reason with a blank or a control byte would split the line. */
static void
test_encode_why_escaped(void **state)
{
	struct cluster_msg	 m, back;
	char			 buf[CLUSTER_MSG_MAX];

	(void)state;
	msg_of(&m, CLUSTER_ADD, BL_MI, "192.0.2.7", 0);
	snprintf(m.why, sizeof(m.why), "a b\tc");
	assert_int_equal(cluster_encode(&m, buf, sizeof(buf)), 0);
	assert_int_equal(cluster_decode(buf, strlen(buf), &back), 0);
	assert_string_equal(back.why, "a_b_c");
}

/* SPEC 6 across nodes: a spoof tuple K, or a key without the offender's
 * own MAC, is never shared. */
static void
test_not_shared(void **state)
{
	struct cluster_msg	 m;
	char			 buf[CLUSTER_MSG_MAX];

	(void)state;
	msg_of(&m, CLUSTER_ADD, BL_K, "192.0.2.7", 0);
	assert_false(cluster_shares(&m.key));
	assert_int_equal(cluster_encode(&m, buf, sizeof(buf)), -1);
	assert_int_equal(cluster_key("sipguard", &m.key, false, buf,
	    sizeof(buf)), -1);
	key_of(&m.key, BL_MI, "02:00:5e:10:00:01", "192.0.2.7", 0, false);
	assert_false(cluster_shares(&m.key));
	assert_int_equal(cluster_encode(&m, buf, sizeof(buf)), -1);
	/* No node name: not a message. */
	msg_of(&m, CLUSTER_ADD, BL_MI, "192.0.2.7", 0);
	m.node[0] = '\0';
	assert_int_equal(cluster_encode(&m, buf, sizeof(buf)), -1);
}

static const struct dcase {
	const char	*name;
	const char	*line;
} bad[] = {
	{ "empty", "" },
	{ "version", "sg2 1 add n mi 02:00:5e:10:00:01 192.0.2.7 0 1 x" },
	{ "op", "sg1 1 put n mi 02:00:5e:10:00:01 192.0.2.7 0 1 x" },
	{ "kind_k", "sg1 1 add n k 02:00:5e:10:00:01 192.0.2.7 0 1 x" },
	{ "mi_with_port", "sg1 1 add n mi 02:00:5e:10:00:01 192.0.2.7 5060 1 "
	    "x" },
	{ "mip_no_port", "sg1 1 add n mip 02:00:5e:10:00:01 192.0.2.7 0 1 x" },
	{ "port_big", "sg1 1 add n mip 02:00:5e:10:00:01 192.0.2.7 65536 1 "
	    "x" },
	{ "mac", "sg1 1 add n mi 02:00:5e:10:00 192.0.2.7 0 1 x" },
	{ "mac_none", "sg1 1 add n mi - 192.0.2.7 0 1 x" },
	{ "ip", "sg1 1 add n mi 02:00:5e:10:00:01 192.0.2.300 0 1 x" },
	{ "ip_host", "sg1 1 add n mi 02:00:5e:10:00:01 example.com 0 1 x" },
	{ "stamp_neg", "sg1 -1 add n mi 02:00:5e:10:00:01 192.0.2.7 0 1 x" },
	{ "stamp_huge", "sg1 99999999999999999999999 add n mi "
	    "02:00:5e:10:00:01 192.0.2.7 0 1 x" },
	{ "ttl_text", "sg1 1 add n mi 02:00:5e:10:00:01 192.0.2.7 0 1s x" },
	/* Longer than any node can list for (30 days). */
	{ "ttl_huge", "sg1 1 add n mi 02:00:5e:10:00:01 192.0.2.7 0 "
	    "2592000001 x" },
	{ "node_bad", "sg1 1 add n:1 mi 02:00:5e:10:00:01 192.0.2.7 0 1 x" },
	{ "why_long", "sg1 1 add n mi 02:00:5e:10:00:01 192.0.2.7 0 1 "
	    "abcdefghijklmnopqrstuvwxyz" },
	{ "short", "sg1 1 add n mi 02:00:5e:10:00:01 192.0.2.7 0 1" },
	{ "long", "sg1 1 add n mi 02:00:5e:10:00:01 192.0.2.7 0 1 x y" },
	{ "two_blanks", "sg1 1 add n  mi 02:00:5e:10:00:01 192.0.2.7 0 1 x" },
	{ "leading", " sg1 1 add n mi 02:00:5e:10:00:01 192.0.2.7 0 1 x" },
	{ "trailing", "sg1 1 add n mi 02:00:5e:10:00:01 192.0.2.7 0 1 x " },
};

static void
test_decode_bad(void **state)
{
	const struct dcase	*r = *state;
	struct cluster_msg	 m;

	assert_int_equal(cluster_decode(r->line, strlen(r->line), &m), -1);
}

/* A NUL inside, or a message too long for the buffer. */
static void
test_decode_bounds(void **state)
{
	static const char	 ok[] = "sg1 1 add n mi 02:00:5e:10:00:01 "
				    "192.0.2.7 0 1 x";
	char			 big[CLUSTER_MSG_MAX + 8];
	struct cluster_msg	 m;

	(void)state;
	assert_int_equal(cluster_decode(ok, strlen(ok), &m), 0);
	assert_int_equal(cluster_decode(ok, sizeof(ok), &m), -1);
	/* 30 days, the longest any node lists for: accepted. */
	{
		static const char month[] = "sg1 1 add n mi "
		    "02:00:5e:10:00:01 192.0.2.7 0 2592000000 x";

		assert_int_equal(cluster_decode(month, strlen(month), &m), 0);
		assert_true(m.ttl_ms == 2592000000ULL);
	}
	memset(big, 'a', sizeof(big));
	assert_int_equal(cluster_decode(big, sizeof(big), &m), -1);
	/* Every prefix of a good message: refused, never a crash. */
	for (size_t n = 0; n < strlen(ok) - 1; n++)
		(void)cluster_decode(ok, n, &m);
}

static void
test_keys(void **state)
{
	struct bl_key	 k;
	char		 buf[CLUSTER_KEY_MAX];

	(void)state;
	key_of(&k, BL_MI, "02:00:5e:10:00:01", "192.0.2.7", 0, true);
	assert_int_equal(cluster_key("sg", &k, false, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "sg:bl:mi:02:00:5e:10:00:01:192.0.2.7:0");
	key_of(&k, BL_MIP, "02:00:5e:10:00:01", "2001:db8::7", 5060, true);
	assert_int_equal(cluster_key("sg", &k, true, buf, sizeof(buf)), 0);
	assert_string_equal(buf,
	    "sg:del:mip:02:00:5e:10:00:01:2001:db8::7:5060");
	assert_int_equal(cluster_key("sg", &k, true, buf, 10), -1);
}

/* ---- bindings on the wire ---------------------------------------------- */

static void
bmsg_of(struct cluster_msg *m, enum cluster_op op, const char *seg,
    const char *mac, const char *ip, const char *d)
{
	memset(m, 0, sizeof(*m));
	m->op = (uint8_t)op;
	m->kind = CLUSTER_BIND;
	assert_int_equal(sg_mac_parse(mac, &m->b.m), 0);
	assert_int_equal(sg_addr_parse(ip, &m->b.i), 0);
	m->b.s = m->b.i;
	m->b.port = 5060;
	snprintf(m->b.d, sizeof(m->b.d), "%s", d);
	snprintf(m->b.segment, sizeof(m->b.segment), "%s", seg);
	m->stamp_ms = 1700000000123ULL;
	m->ttl_ms = op == CLUSTER_ADD ? 3599000 : 0;
	snprintf(m->node, sizeof(m->node), "edge-1");
}

static void
test_bind_encode(void **state)
{
	struct cluster_msg	 m, back;
	char			 buf[CLUSTER_MSG_MAX];

	(void)state;
	bmsg_of(&m, CLUSTER_ADD, "lan-1", "02:00:5e:10:00:11", "192.0.2.11",
	    "alice@lab.example");
	snprintf(m.b.impi, sizeof(m.b.impi), "alice");
	assert_int_equal(cluster_bind_encode(&m, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "sgb1 1700000000123 add edge-1 lan-1 "
	    "02:00:5e:10:00:11 192.0.2.11 192.0.2.11 5060 3599000 "
	    "alice@lab.example alice");
	assert_int_equal(cluster_decode(buf, strlen(buf), &back), 0);
	assert_int_equal(back.kind, CLUSTER_BIND);
	assert_int_equal(back.op, CLUSTER_ADD);
	assert_memory_equal(&back.b.m, &m.b.m, sizeof(m.b.m));
	assert_true(sg_addr_eq(&back.b.i, &m.b.i));
	assert_true(sg_addr_eq(&back.b.s, &m.b.s));
	assert_int_equal(back.b.port, 5060);
	assert_true(back.stamp_ms == m.stamp_ms && back.ttl_ms == m.ttl_ms);
	assert_string_equal(back.b.d, "alice@lab.example");
	assert_string_equal(back.b.impi, "alice");
	assert_string_equal(back.b.segment, "lan-1");
	assert_string_equal(back.node, "edge-1");
}

/* Blanks, '%', ':' and bytes above 0x7f in an identity travel escaped;
 * a removal states no SIP-IP and no life; IPv6. */
static void
test_bind_escaped_del_v6(void **state)
{
	struct cluster_msg	 m, back;
	char			 buf[CLUSTER_MSG_MAX], key[CLUSTER_KEY_MAX];

	(void)state;
	bmsg_of(&m, CLUSTER_DEL, "lan-1", "02:00:5e:10:00:11", "2001:db8::11",
	    "a b%c:\xc3\xa9@x");
	memset(&m.b.s, 0, sizeof(m.b.s));
	snprintf(m.b.impi, sizeof(m.b.impi), "-");
	assert_int_equal(cluster_bind_encode(&m, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "sgb1 1700000000123 del edge-1 lan-1 "
	    "02:00:5e:10:00:11 2001:db8::11 - 5060 0 "
	    "a%20b%25c%3a%c3%a9@x %2d");
	assert_int_equal(cluster_decode(buf, strlen(buf), &back), 0);
	assert_int_equal(back.op, CLUSTER_DEL);
	assert_string_equal(back.b.d, "a b%c:\xc3\xa9@x");
	assert_string_equal(back.b.impi, "-");
	assert_int_equal(back.b.s.family, SG_AF_NONE);
	assert_int_equal(cluster_bind_key("sg", &m, false, key, sizeof(key)),
	    0);
	assert_string_equal(key, "sg:b:2001:db8::11:a%20b%25c%3a%c3%a9@x");
	assert_int_equal(cluster_bind_key("sg", &m, true, key, sizeof(key)),
	    0);
	assert_string_equal(key, "sg:bdel:2001:db8::11:a%20b%25c%3a%c3%a9@x");
	/* The longest identity, every byte escaped: still fits. */
	memset(m.b.d, ' ', sizeof(m.b.d) - 1);
	m.b.d[sizeof(m.b.d) - 1] = '\0';
	assert_int_equal(cluster_bind_encode(&m, buf, sizeof(buf)), 0);
	assert_int_equal(cluster_decode(buf, strlen(buf), &back), 0);
	assert_string_equal(back.b.d, m.b.d);
	/* An add without a SIP-IP, or without a segment: not a record. */
	bmsg_of(&m, CLUSTER_ADD, "lan-1", "02:00:5e:10:00:11", "192.0.2.11",
	    "alice@lab.example");
	memset(&m.b.s, 0, sizeof(m.b.s));
	assert_int_equal(cluster_bind_encode(&m, buf, sizeof(buf)), -1);
	bmsg_of(&m, CLUSTER_ADD, "", "02:00:5e:10:00:11", "192.0.2.11",
	    "alice@lab.example");
	assert_int_equal(cluster_bind_encode(&m, buf, sizeof(buf)), -1);
}

#define BOK	"sgb1 1 add n s 02:00:5e:10:00:11 192.0.2.11 192.0.2.11 5060 "

static const struct dcase bbad[] = {
	{ "b_version", "sgb2 1 add n s 02:00:5e:10:00:11 192.0.2.11 "
	    "192.0.2.11 5060 1 a@x -" },
	{ "b_op", "sgb1 1 put n s 02:00:5e:10:00:11 192.0.2.11 192.0.2.11 "
	    "5060 1 a@x -" },
	{ "b_short", BOK "1 a@x" },
	{ "b_long", BOK "1 a@x - -" },
	{ "b_two_blanks", BOK "1  a@x -" },
	{ "b_trailing", BOK "1 a@x - " },
	{ "b_segment_bad", "sgb1 1 add n s:1 02:00:5e:10:00:11 192.0.2.11 "
	    "192.0.2.11 5060 1 a@x -" },
	{ "b_node_bad", "sgb1 1 add n* s 02:00:5e:10:00:11 192.0.2.11 "
	    "192.0.2.11 5060 1 a@x -" },
	{ "b_mac", "sgb1 1 add n s 02:00:5e:10:00 192.0.2.11 192.0.2.11 5060 "
	    "1 a@x -" },
	{ "b_mac_none", "sgb1 1 add n s - 192.0.2.11 192.0.2.11 5060 1 a@x -" },
	{ "b_ip_host", "sgb1 1 add n s 02:00:5e:10:00:11 example.com "
	    "192.0.2.11 5060 1 a@x -" },
	{ "b_sip_host", "sgb1 1 add n s 02:00:5e:10:00:11 192.0.2.11 "
	    "example.com 5060 1 a@x -" },
	{ "b_add_no_sip", "sgb1 1 add n s 02:00:5e:10:00:11 192.0.2.11 - "
	    "5060 1 a@x -" },
	{ "b_port_big", "sgb1 1 add n s 02:00:5e:10:00:11 192.0.2.11 "
	    "192.0.2.11 65536 1 a@x -" },
	{ "b_add_no_ttl", BOK "0 a@x -" },
	{ "b_del_with_ttl", "sgb1 1 del n s 02:00:5e:10:00:11 192.0.2.11 - "
	    "5060 5 a@x -" },
	{ "b_ttl_huge", BOK "2592000001 a@x -" },
	{ "b_d_empty_dash", BOK "1 - -" },
	{ "b_d_nul", BOK "1 a%00b@x -" },
	{ "b_d_bad_escape", BOK "1 a%zz@x -" },
	{ "b_d_short_escape", BOK "1 a@x% -" },
	{ "b_d_raw_colon", BOK "1 a:b@x -" },
	{ "b_d_raw_byte", BOK "1 \xc3\xa9@x -" },
	{ "b_impi_nul", BOK "1 a@x %00" },
	{ "b_d_too_long", BOK "1 "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    " -" },
};

/* Each row is a good record spoiled in one place: the good one reads. */
static void
test_bind_decode_bad(void **state)
{
	static const char	 good[] = BOK "1 a@x -";
	const struct dcase	*r = *state;
	struct cluster_msg	 m;

	assert_int_equal(cluster_decode(good, strlen(good), &m), 0);
	assert_int_equal(m.kind, CLUSTER_BIND);
	assert_int_equal(cluster_decode(r->line, strlen(r->line), &m), -1);
}

/*
 * Whoever can write to Redis writes what this decoder reads: every
 * prefix of a good record, and 20,000 random mutations of it, never a
 * crash; whatever decodes encodes again, and that decodes the same.
 */
static void
test_bind_decode_mutations(void **state)
{
	static const char	 good[] = "sgb1 1700000000123 add edge-1 lan-1 "
				    "02:00:5e:10:00:11 2001:db8::11 10.0.0.11 "
				    "5060 3599000 a%20b@x.example alice";
	char			 buf[sizeof(good)], re[CLUSTER_MSG_MAX];
	struct cluster_msg	 m, back;
	int			 ok = 0;

	(void)state;
	/* Cut before the last field: short; within it: a shorter IMPI. */
	for (size_t n = 0; n < strlen(good); n++)
		if (n <= (size_t)(strrchr(good, ' ') - good) + 1)
			assert_int_equal(cluster_decode(good, n, &m), -1);
		else
			assert_int_equal(cluster_decode(good, n, &m), 0);
	assert_int_equal(cluster_decode(good, strlen(good), &m), 0);
	rng_seed(14);
	for (int k = 0; k < 20000; k++) {
		memcpy(buf, good, sizeof(good));
		for (int j = 0; j < 1 + (int)(rng() % 3); j++)
			buf[rng() % (sizeof(good) - 1)] = (char)(rng() % 256);
		if (cluster_decode(buf, strnlen(buf, sizeof(buf)), &m) == -1)
			continue;
		ok++;
		if (m.kind != CLUSTER_BIND)
			continue;
		assert_int_equal(cluster_bind_encode(&m, re, sizeof(re)), 0);
		assert_int_equal(cluster_decode(re, strlen(re), &back), 0);
		assert_memory_equal(&back.b, &m.b, sizeof(m.b));
		assert_true(back.stamp_ms == m.stamp_ms && back.ttl_ms ==
		    m.ttl_ms && back.op == m.op);
	}
	/* Some mutations are records still (digits, letters of d). */
	assert_true(ok > 0);
}

/* ---- a peer's binding applied --------------------------------------------- */

struct bfix {
	struct sg_conf		 conf;
	struct bind_table	*bt;
};

static int
bfix_setup(void **state)
{
	struct bfix	*f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	conf_defaults(&f->conf);
	f->conf.tab_bindings = 64;
	f->conf.identities_per_device = 2;
	f->conf.devices_per_identity = 2;
	if ((f->bt = bind_create(&f->conf)) == NULL)
		return -1;
	*state = f;
	return 0;
}

static int
bfix_teardown(void **state)
{
	struct bfix	*f = *state;

	bind_destroy(f->bt);
	free(f);
	return 0;
}

/* A device's message as this node sees it: (m, i, s = i, d). */
static void
seen(struct sg_tuple *t, const char *mac, const char *ip, const char *d)
{
	memset(t, 0, sizeof(*t));
	assert_int_equal(sg_mac_parse(mac, &t->m), 0);
	t->has_m = true;
	assert_int_equal(sg_addr_parse(ip, &t->i), 0);
	t->s = t->i;
	t->sport = 5060;
	snprintf(t->d, sizeof(t->d), "%s", d);
	t->dh = hash_bytes(t->d, strlen(t->d));
}

/* A binding this node learned from its own proxy (a Contact hash). */
static void
learn_local(struct bfix *f, const char *mac, const char *ip, const char *d)
{
	struct sg_tuple		 t;
	const struct binding	*b;

	seen(&t, mac, ip, d);
	assert_true(bind_learn(f->bt, &t, 0x1234, T0 + SEC(3600), T0, &b) ==
	    BIND_NEW);
}

static enum cluster_bind_res
apply(struct bfix *f, enum cluster_op op, const char *seg, const char *mac,
    const char *ip, const char *d, uint64_t now)
{
	struct cluster_msg	 m;

	bmsg_of(&m, op, seg, mac, ip, d);
	m.stamp_ms = now / 1000000;
	return cluster_bind_apply(f->bt, &f->conf, &m, "lan-b", op ==
	    CLUSTER_ADD ? SEC(3600) : 0, now);
}

#define MA	"02:00:5e:10:00:11"	/* the phone, as A saw it */
#define MX	"02:00:5e:10:00:66"	/* another MAC */

/* Same segment: exact F at once (the device's next message is vii). */
static void
test_apply_same_segment(void **state)
{
	struct bfix	*f = *state;
	struct sg_tuple	 t;

	assert_int_equal(apply(f, CLUSTER_ADD, "lan-b", MA, "192.0.2.11",
	    "alice@x", T0), CB_APPLIED);
	seen(&t, MA, "192.0.2.11", "alice@x");
	assert_non_null(bind_find(f->bt, &t, T0 + SEC(1)));
	/* It is no own binding: never republished as this node's. */
	assert_false(cluster_bind_own(bind_find(f->bt, &t, T0), T0));
	seen(&t, MX, "192.0.2.11", "alice@x");
	assert_null(bind_find(f->bt, &t, T0 + SEC(1)));
	/* Again: kept; a longer life extends, never shortens. */
	assert_int_equal(apply(f, CLUSTER_ADD, "lan-b", MA, "192.0.2.11",
	    "alice@x", T0), CB_KEPT);
	assert_int_equal(apply(f, CLUSTER_ADD, "lan-b", MA, "192.0.2.11",
	    "alice@x", T0 + SEC(60)), CB_REFRESHED);
	seen(&t, MA, "192.0.2.11", "alice@x");
	assert_true(bind_find(f->bt, &t, T0)->expires == T0 + SEC(3660));
	/* Its removal (made later) removes it. */
	assert_int_equal(apply(f, CLUSTER_DEL, "lan-b", MA, "192.0.2.11",
	    "alice@x", T0 + SEC(61)), CB_REMOVED);
	assert_null(bind_find(f->bt, &t, T0 + SEC(62)));
	assert_int_equal(bind_live(f->bt), 0);
}

/* Another segment: no MAC until the device's first message pins one;
 * then another MAC with that address and identity is no match. */
static void
test_apply_other_segment(void **state)
{
	struct bfix		*f = *state;
	struct sg_tuple		 t;
	const struct binding	*b;

	assert_int_equal(apply(f, CLUSTER_ADD, "lan-a", MA, "192.0.2.11",
	    "alice@x", T0), CB_IMPORTED);
	/* Not even with A's MAC: it means nothing here. */
	seen(&t, MA, "192.0.2.11", "alice@x");
	assert_null(bind_find(f->bt, &t, T0 + SEC(1)));
	/* The router's MAC, on the first message from 192.0.2.11 as alice. */
	seen(&t, "02:00:5e:10:00:01", "192.0.2.11", "alice@x");
	assert_non_null(b = bind_pin(f->bt, &t, T0 + SEC(1)));
	assert_non_null(bind_find(f->bt, &t, T0 + SEC(2)));
	seen(&t, MX, "192.0.2.11", "alice@x");
	assert_null(bind_pin(f->bt, &t, T0 + SEC(2)));
	assert_null(bind_find(f->bt, &t, T0 + SEC(2)));
	/* A refresh from A extends the pinned row. */
	assert_int_equal(apply(f, CLUSTER_ADD, "lan-a", MA, "192.0.2.11",
	    "alice@x", T0 + SEC(100)), CB_REFRESHED);
	seen(&t, "02:00:5e:10:00:01", "192.0.2.11", "alice@x");
	assert_true(bind_find(f->bt, &t, T0)->expires == T0 + SEC(3700));
	/* A de-registration at A (no MAC of ours in it) removes it here. */
	assert_int_equal(apply(f, CLUSTER_DEL, "lan-a", MA, "192.0.2.11",
	    "alice@x", T0 + SEC(200)), CB_REMOVED);
	assert_int_equal(bind_live(f->bt), 0);
	/* An imported row not pinned yet goes the same way. */
	assert_int_equal(apply(f, CLUSTER_ADD, "lan-a", MA, "192.0.2.12",
	    "bob@x", T0), CB_IMPORTED);
	assert_int_equal(apply(f, CLUSTER_DEL, "lan-a", MA, "192.0.2.12",
	    "bob@x", T0 + SEC(1)), CB_REMOVED);
	assert_int_equal(bind_live(f->bt), 0);
}

/*
 * SPEC 6 across nodes: the attacker's own binding for the victim's IP,
 * got at A, must not make B refuse the victim's REGISTER (rule 3).
 */
static void
test_apply_rule3(void **state)
{
	struct bfix	*f = *state;
	struct sg_tuple	 t;

	learn_local(f, MA, "192.0.2.11", "victim@x");
	assert_int_equal(apply(f, CLUSTER_ADD, "lan-b", MX, "192.0.2.11",
	    "mallory@x", T0), CB_REFUSED_IP);
	/* The victim's next REGISTER here: its IP is nobody else's. */
	seen(&t, MA, "192.0.2.11", "victim@x");
	assert_null(bind_ip_other_device(f->bt, &t, T0));
	/* From another segment the row has no MAC: no evidence of another
	 * device for rule 3, whoever registers here next. */
	assert_int_equal(apply(f, CLUSTER_ADD, "lan-a", MX, "192.0.2.12",
	    "mallory@x", T0), CB_IMPORTED);
	seen(&t, MA, "192.0.2.12", "carol@x");
	assert_null(bind_ip_other_device(f->bt, &t, T0));
	{
		bool	 has_d;

		assert_int_equal(bind_device_identities(f->bt, &t, T0,
		    &has_d), 0);
	}
}

/*
 * SPEC 6 across nodes, through the pin: mallory's own binding for the
 * victim's IP, got at A on another segment, is imported here with no
 * MAC; one forged message from that IP carrying his identity must not
 * pin it with a host MAC while the victim's binding holds the IP, or
 * the victim's next REGISTER is refused here (rule 3), as a REGISTER
 * of mallory's own from that IP here would have been.
 */
static void
test_apply_pin_rule3(void **state)
{
	struct bfix	*f = *state;
	struct sg_tuple	 t;

	learn_local(f, MA, "192.0.2.11", "victim@x");
	assert_int_equal(apply(f, CLUSTER_ADD, "lan-a", MX, "192.0.2.11",
	    "mallory@x", T0), CB_IMPORTED);
	seen(&t, MX, "192.0.2.11", "mallory@x");
	assert_null(bind_pin(f->bt, &t, T0 + SEC(1)));
	seen(&t, MA, "192.0.2.11", "victim@x");
	assert_null(bind_ip_other_device(f->bt, &t, T0 + SEC(2)));
	/* A MAC that is no evidence of a device (a gateway's) still pins:
	 * rule 3 ignores it, as it ignores the victim's behind one. */
	f->conf.gateway_mac_ips = 1;
	learn_local(f, "02:00:5e:10:00:01", "192.0.2.31", "g1@x");
	learn_local(f, "02:00:5e:10:00:01", "192.0.2.32", "g2@x");
	seen(&t, "02:00:5e:10:00:01", "192.0.2.11", "mallory@x");
	assert_non_null(bind_pin(f->bt, &t, T0 + SEC(3)));
	seen(&t, MA, "192.0.2.11", "victim@x");
	assert_null(bind_ip_other_device(f->bt, &t, T0 + SEC(4)));
}

/*
 * bindings.grace and another segment: alice's binding here (her MAC) has
 * lapsed when A shares her registration at the same address.  Imported
 * beside the lapsed row, the MAC-less twin was never pinned by her own
 * messages (the lapsed row's exact F matched them first), so the first
 * forger from her address with her identity pinned it: the pin's race,
 * reopened after the device had spoken.  The row she holds is refreshed
 * instead, as a live one would be.
 */
static void
test_apply_lapsed_other_segment(void **state)
{
	struct bfix	*f = *state;
	struct sg_tuple	 t;
	uint64_t	 now = T0 + SEC(3600 + 60);

	learn_local(f, MA, "192.0.2.11", "alice@x");
	assert_int_equal(apply(f, CLUSTER_ADD, "lan-a", MX, "192.0.2.11",
	    "alice@x", now), CB_REFRESHED);
	assert_int_equal(bind_live(f->bt), 1);
	seen(&t, "02:00:5e:10:00:77", "192.0.2.11", "alice@x");
	assert_null(bind_pin(f->bt, &t, now + SEC(1)));
	seen(&t, MA, "192.0.2.11", "alice@x");
	assert_true(bind_find(f->bt, &t, now)->expires == now + SEC(3600));
}

/*
 * A lapsed row held no quota here: a peer's refresh of it takes one
 * again, as a new binding would (and never by evicting).  Else the
 * identity's rows applied and left to lapse, as many more applied, then
 * the lapsed ones refreshed by their registrations at A, hold any
 * number of live rows here.  Both segments.
 */
static void
test_apply_lapsed_quota(void **state)
{
	struct bfix		*f = *state;
	const struct binding	*rows[8], *b;
	struct sg_tuple		 t;
	uint64_t		 now = T0 + SEC(3600 + 60);

	/* devices_per_identity 2: .11 and .12 lapse; .13 and .14 are
	 * learned here. */
	assert_int_equal(apply(f, CLUSTER_ADD, "lan-b", MA, "192.0.2.11",
	    "alice@x", T0), CB_APPLIED);
	assert_int_equal(apply(f, CLUSTER_ADD, "lan-b", MX, "192.0.2.12",
	    "alice@x", T0), CB_APPLIED);
	seen(&t, MA, "192.0.2.13", "alice@x");
	assert_true(bind_learn(f->bt, &t, 0x1234, now + SEC(3600), now, &b) ==
	    BIND_NEW);
	seen(&t, MX, "192.0.2.14", "alice@x");
	assert_true(bind_learn(f->bt, &t, 0x1234, now + SEC(3600), now, &b) ==
	    BIND_NEW);
	assert_int_equal(apply(f, CLUSTER_ADD, "lan-b", MA, "192.0.2.11",
	    "alice@x", now + SEC(1)), CB_REFUSED_QUOTA);
	assert_int_equal(apply(f, CLUSTER_ADD, "lan-a", MX, "192.0.2.12",
	    "alice@x", now + SEC(1)), CB_REFUSED_QUOTA);
	assert_int_equal(bind_identity_rows(f->bt, hash_bytes("alice@x", 7),
	    now + SEC(2), rows, 8), 2);
	/* bob's two live rows came from a peer: the oldest makes room. */
	assert_int_equal(apply(f, CLUSTER_ADD, "lan-b", MA, "192.0.2.31",
	    "bob@x", T0), CB_APPLIED);
	assert_int_equal(apply(f, CLUSTER_ADD, "lan-b", MA, "192.0.2.32",
	    "bob@x", now), CB_APPLIED);
	assert_int_equal(apply(f, CLUSTER_ADD, "lan-b", MA, "192.0.2.33",
	    "bob@x", now + SEC(1)), CB_APPLIED);
	assert_int_equal(apply(f, CLUSTER_ADD, "lan-b", MA, "192.0.2.31",
	    "bob@x", now + SEC(2)), CB_REFRESHED);
	assert_int_equal(bind_identity_rows(f->bt, hash_bytes("bob@x", 5),
	    now + SEC(3), rows, 8), 2);
	seen(&t, MA, "192.0.2.32", "bob@x");
	assert_null(bind_find(f->bt, &t, now + SEC(3)));
	/* identities_per_device 2: the device MA at .21. */
	assert_int_equal(apply(f, CLUSTER_ADD, "lan-b", MA, "192.0.2.21",
	    "u1@x", T0), CB_APPLIED);
	assert_int_equal(apply(f, CLUSTER_ADD, "lan-b", MA, "192.0.2.21",
	    "u2@x", now), CB_APPLIED);
	assert_int_equal(apply(f, CLUSTER_ADD, "lan-b", MA, "192.0.2.21",
	    "u3@x", now), CB_APPLIED);
	assert_int_equal(apply(f, CLUSTER_ADD, "lan-b", MA, "192.0.2.21",
	    "u1@x", now + SEC(1)), CB_REFUSED_QUOTA);
}

/* Quotas: refused, never a local binding replaced. */
static void
test_apply_quotas(void **state)
{
	struct bfix	*f = *state;
	struct sg_tuple	 t;

	/* devices_per_identity 2: alice holds two devices here. */
	learn_local(f, MA, "192.0.2.11", "alice@x");
	learn_local(f, "02:00:5e:10:00:12", "192.0.2.12", "alice@x");
	assert_int_equal(apply(f, CLUSTER_ADD, "lan-b", MX, "192.0.2.13",
	    "alice@x", T0), CB_REFUSED_QUOTA);
	assert_int_equal(apply(f, CLUSTER_ADD, "lan-a", MX, "192.0.2.13",
	    "alice@x", T0), CB_REFUSED_QUOTA);
	seen(&t, MA, "192.0.2.11", "alice@x");
	assert_non_null(bind_find(f->bt, &t, T0));
	seen(&t, "02:00:5e:10:00:12", "192.0.2.12", "alice@x");
	assert_non_null(bind_find(f->bt, &t, T0));
	/* identities_per_device 2: the device MA at .21 holds two. */
	learn_local(f, MA, "192.0.2.21", "u1@x");
	learn_local(f, MA, "192.0.2.21", "u2@x");
	assert_int_equal(apply(f, CLUSTER_ADD, "lan-b", MA, "192.0.2.21",
	    "u3@x", T0), CB_REFUSED_QUOTA);
	assert_int_equal(bind_live(f->bt), 4);
}

/*
 * A phone that hops addresses at A: A's own learning makes room in the
 * identity's oldest row (identity_make_room), which it does not publish.
 * Here the new address must not be refused for rows only a peer gave
 * (the identity's oldest of those goes); rows learned here stay.
 */
static void
test_apply_quota_hop(void **state)
{
	struct bfix	*f = *state;
	struct sg_tuple	 t;

	assert_int_equal(apply(f, CLUSTER_ADD, "lan-b", MA, "192.0.2.11",
	    "alice@x", T0), CB_APPLIED);
	assert_int_equal(apply(f, CLUSTER_ADD, "lan-b", MA, "192.0.2.12",
	    "alice@x", T0 + SEC(1)), CB_APPLIED);
	assert_int_equal(apply(f, CLUSTER_ADD, "lan-b", MA, "192.0.2.13",
	    "alice@x", T0 + SEC(2)), CB_APPLIED);
	seen(&t, MA, "192.0.2.11", "alice@x");
	assert_null(bind_find(f->bt, &t, T0 + SEC(2)));
	seen(&t, MA, "192.0.2.12", "alice@x");
	assert_non_null(bind_find(f->bt, &t, T0 + SEC(2)));
	/* Another segment: the same. */
	assert_int_equal(apply(f, CLUSTER_ADD, "lan-a", MA, "192.0.2.14",
	    "alice@x", T0 + SEC(3)), CB_IMPORTED);
	assert_null(bind_find(f->bt, &t, T0 + SEC(3)));
	/* One learned here, one a peer's: the peer's goes. */
	learn_local(f, MX, "192.0.2.15", "alice@x");
	assert_int_equal(apply(f, CLUSTER_ADD, "lan-b", MA, "192.0.2.16",
	    "alice@x", T0 + SEC(4)), CB_APPLIED);
	seen(&t, MX, "192.0.2.15", "alice@x");
	assert_non_null(bind_find(f->bt, &t, T0 + SEC(4)));
	/* Both learned here: refused (test_apply_quotas). */
	assert_int_equal(bind_live(f->bt), 2);
	/* The row the peer refreshed last stays: carol's .21 is refreshed
	 * after .22 was applied; .23 replaces .22, as A replaced it. */
	assert_int_equal(apply(f, CLUSTER_ADD, "lan-b", MA, "192.0.2.21",
	    "carol@x", T0), CB_APPLIED);
	assert_int_equal(apply(f, CLUSTER_ADD, "lan-b", MA, "192.0.2.22",
	    "carol@x", T0 + SEC(1)), CB_APPLIED);
	assert_int_equal(apply(f, CLUSTER_ADD, "lan-b", MA, "192.0.2.21",
	    "carol@x", T0 + SEC(100)), CB_REFRESHED);
	assert_int_equal(apply(f, CLUSTER_ADD, "lan-b", MA, "192.0.2.23",
	    "carol@x", T0 + SEC(101)), CB_APPLIED);
	seen(&t, MA, "192.0.2.21", "carol@x");
	assert_non_null(bind_find(f->bt, &t, T0 + SEC(101)));
	seen(&t, MA, "192.0.2.22", "carol@x");
	assert_null(bind_find(f->bt, &t, T0 + SEC(101)));
}

/*
 * Cost: every message for an identity walks its rows (quotas, removals,
 * here and in a worker's learning), lapsed ones too.  A peer's rows
 * with a short life, each lapsing before the next came, used to stay a
 * grace each, all of them: one identity's chain grew to the table's
 * share for peers, walked by each of its messages under every worker's
 * lock.  Its rows here stay within twice devices_per_identity: the
 * oldest lapsed one a peer gave makes room.
 */
static void
test_apply_lapsed_chain(void **state)
{
	struct bfix		*f = *state;
	struct cluster_msg	 m;
	const struct binding	*rows[64];
	uint64_t		 dh = hash_bytes("chain@x", 7);

	for (int k = 0; k < 40; k++) {
		char		 ip[32];
		uint64_t	 now = T0 + SEC(10) * (uint64_t)k;

		snprintf(ip, sizeof(ip), "10.2.0.%d", k + 1);
		bmsg_of(&m, CLUSTER_ADD, k % 2 ? "lan-a" : "lan-b", MA, ip,
		    "chain@x");
		m.stamp_ms = now / 1000000;
		assert_true(cluster_bind_apply(f->bt, &f->conf, &m, "lan-b",
		    SEC(1), now) <= CB_IMPORTED);
	}
	assert_true(bind_identity_rows(f->bt, dh, 0, rows, 64) <= 2 *
	    f->conf.devices_per_identity);
}

/* A flood of peers' bindings stops short of the last eighth: this
 * node's own phones still find room. */
static void
test_apply_reserve(void **state)
{
	struct bfix	*f = *state;
	struct sg_tuple	 t;
	const struct binding *b;
	int		 applied = 0, refused = 0;

	for (int k = 0; k < 100; k++) {
		char	 ip[32], d[32];

		snprintf(ip, sizeof(ip), "10.1.%d.%d", k / 200, k % 200 + 1);
		snprintf(d, sizeof(d), "u%d@x", k);
		switch (apply(f, CLUSTER_ADD, k % 2 ? "lan-a" : "lan-b", MX,
		    ip, d, T0)) {
		case CB_APPLIED:
		case CB_IMPORTED:
			applied++;
			break;
		case CB_REFUSED_FULL:
			refused++;
			break;
		default:
			fail();
		}
	}
	assert_int_equal(applied, 64 - 64 / 8);
	assert_int_equal(refused, 100 - applied);
	seen(&t, MA, "192.0.2.99", "local@x");
	assert_true(bind_learn(f->bt, &t, 0x1234, T0 + SEC(60), T0, &b) ==
	    BIND_NEW);
}

/* A removal made before the row's last refresh loses (a tombstone read
 * at a resync never undoes a later registration); and a removal from
 * another segment never takes a row this node learned itself. */
static void
test_apply_removal_order(void **state)
{
	struct bfix	*f = *state;
	struct sg_tuple	 t;

	assert_int_equal(apply(f, CLUSTER_ADD, "lan-b", MA, "192.0.2.11",
	    "alice@x", T0 + SEC(10)), CB_APPLIED);
	assert_int_equal(apply(f, CLUSTER_DEL, "lan-b", MA, "192.0.2.11",
	    "alice@x", T0 + SEC(5)), CB_ABSENT);
	seen(&t, MA, "192.0.2.11", "alice@x");
	assert_non_null(bind_find(f->bt, &t, T0 + SEC(11)));
	assert_int_equal(apply(f, CLUSTER_DEL, "lan-b", MA, "192.0.2.11",
	    "alice@x", T0 + SEC(10)), CB_REMOVED);
	assert_null(bind_find(f->bt, &t, T0 + SEC(11)));
	/* Learned here at .12; a peer on another segment de-registers bob
	 * there: its removal names a row it cannot tell from ours. */
	learn_local(f, MA, "192.0.2.12", "bob@x");
	assert_int_equal(apply(f, CLUSTER_DEL, "lan-a", MX, "192.0.2.12",
	    "bob@x", T0 + SEC(20)), CB_ABSENT);
	seen(&t, MA, "192.0.2.12", "bob@x");
	assert_non_null(bind_find(f->bt, &t, T0 + SEC(21)));
	assert_true(cluster_bind_own(bind_find(f->bt, &t, T0), T0));
	/* On the same segment the same F is the same device: it goes. */
	assert_int_equal(apply(f, CLUSTER_DEL, "lan-b", MA, "192.0.2.12",
	    "bob@x", T0 + SEC(20)), CB_REMOVED);
}

/* What cannot be rebuilt elsewhere stays local, counted. */
static void
test_offer_binding(void **state)
{
	struct sg_conf		 conf;
	struct bfix		*f = *state;
	struct cluster		*c;
	struct cluster_status	 s;
	struct sg_tuple		 t;
	const struct binding	*b;
	char			 err[256];
	int			 epfd = epoll_create1(0);

	conf_defaults(&conf);
	snprintf(conf.cluster_node, sizeof(conf.cluster_node), "n1");
	c = cluster_create(&conf, epfd, NULL, err, sizeof(err));
	assert_non_null(c);
	cluster_status(c, &s);
	assert_string_equal(s.segment, "n1");	/* default: the node's */
	assert_string_equal(cluster_segment(c), "n1");
	seen(&t, MA, "192.0.2.11", "alice@x");
	assert_true(bind_learn(f->bt, &t, 0x1234, T0 + SEC(60), T0, &b) ==
	    BIND_NEW);
	cluster_offer_binding(c, b, t.d, "");
	/* A SIP-IP that is a host name: its hash is keyed per node. */
	seen(&t, MA, "192.0.2.12", "bob@x");
	t.s.family = SG_AF_HOST;
	assert_true(bind_learn(f->bt, &t, 0x1234, T0 + SEC(60), T0, &b) ==
	    BIND_NEW);
	cluster_offer_binding(c, b, t.d, "");
	/* An identity whose stored copy does not hash back (truncated). */
	seen(&t, MA, "192.0.2.13", "carol@x");
	t.dh ^= 1;
	assert_true(bind_learn(f->bt, &t, 0x1234, T0 + SEC(60), T0, &b) ==
	    BIND_NEW);
	cluster_offer_binding(c, b, t.d, "");
	seen(&t, MA, "192.0.2.11", "alice@x");
	cluster_binding_removed(c, &t, T0);
	cluster_status(c, &s);
	assert_int_equal(s.queued, 2);
	assert_true(s.binds_unshared == 2);
	cluster_destroy(c);
	close(epfd);
}

/* ---- the queue ---------------------------------------------------------- */

static void
test_queue_bound(void **state)
{
	struct sg_conf		 conf;
	struct cluster		*c;
	struct cluster_status	 s;
	struct bl_entry		 b;
	char			 err[256];
	int			 epfd = epoll_create1(0);

	(void)state;
	assert_true(epfd >= 0);
	conf_defaults(&conf);
	conf.cluster_queue = 16;
	snprintf(conf.cluster_node, sizeof(conf.cluster_node), "t1");
	c = cluster_create(&conf, epfd, NULL, err, sizeof(err));
	assert_non_null(c);
	memset(&b, 0, sizeof(b));
	b.added = T0;
	for (int k = 0; k < 20; k++) {
		char	 ip[32];

		snprintf(ip, sizeof(ip), "192.0.2.%d", k + 1);
		key_of(&b.key, BL_MI, "02:00:5e:10:00:01", ip, 0, true);
		b.expires = T0 + SEC(600);
		cluster_offer(c, &b);
		/* The same entry again at once (another worker): once. */
		cluster_offer(c, &b);
	}
	/* A spoof tuple is not even queued. */
	key_of(&b.key, BL_K, "02:00:5e:10:00:01", "192.0.2.99", 0, true);
	cluster_offer(c, &b);
	cluster_status(c, &s);
	assert_true(s.enabled);
	assert_false(s.connected);
	assert_int_equal(s.queue_cap, 16);
	assert_int_equal(s.queued, 16);
	/* Four entries did not fit, each offered twice (the repeat of an
	 * entry that was not queued is not recognised). */
	assert_true(s.overflow == 8);
	assert_string_equal(s.node, "t1");
	assert_string_equal(s.redis, "127.0.0.1:6379");
	/*
	 * A removal in a full queue takes the oldest listing's place (a
	 * resync offers that one again; a removal lost would never be
	 * sent): still counted as a loss.  Once only listings are gone, a
	 * removal is lost like anything else.
	 */
	for (int k = 0; k < 17; k++) {
		char	 ip[32];

		snprintf(ip, sizeof(ip), "192.0.2.%d", k + 101);
		key_of(&b.key, BL_MI, "02:00:5e:10:00:01", ip, 0, true);
		cluster_removed(c, &b.key, T0);
	}
	cluster_status(c, &s);
	assert_int_equal(s.queued, 16);
	assert_true(s.overflow == 8 + 17);
	assert_true(s.removals_kept == 16);
	cluster_destroy(c);
	close(epfd);
}

/* cluster.node "": the host's name, made a valid name. */
static void
test_node_hostname(void **state)
{
	struct sg_conf		 conf;
	struct cluster		*c;
	struct cluster_status	 s;
	char			 err[256], host[256];
	int			 epfd = epoll_create1(0);

	(void)state;
	conf_defaults(&conf);
	c = cluster_create(&conf, epfd, "secret", err, sizeof(err));
	assert_non_null(c);
	cluster_status(c, &s);
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	host[strcspn(host, ".")] = '\0';
	assert_true(s.node[0] != '\0');
	assert_int_equal(strncmp(s.node, host, strlen(s.node)), 0);
	cluster_destroy(c);
	close(epfd);
}

/* ---- the engine's hook: what a worker offers ------------------------------ */

struct told {
	int		 added, removed;
	struct sg_mac	 m;
	char		 d[SG_ID_MAX];
};

static void
on_shared(void *arg, const struct bind_table *bt, const struct binding *b,
    const struct sg_tuple *gone, uint64_t now)
{
	struct told	*t = arg;
	char		 buf[SG_ID_MAX];

	(void)now;
	if (b != NULL) {
		t->added++;
		t->m = b->m;
		snprintf(t->d, sizeof(t->d), "%s", bind_d(bt, b, buf));
	} else {
		t->removed++;
		t->m = gone->m;
		snprintf(t->d, sizeof(t->d), "%s", gone->d);
	}
}

static const struct pg_ep PROXY_EP = { { 2, 0, 0, 0, 0, 1 }, "192.0.2.1",
    5060 };

/* A REGISTER (expires: its Expires) from `ep', and the proxy's 200. */
static void
registers(struct engine *e, const struct pg_ep *ep, const char *user,
    int expires, const char *cid, uint64_t now)
{
	char		 text[1200], a[64], v[64], contact[96];
	uint8_t		 f[1400];
	struct pg_msg	 m;
	size_t		 n;

	snprintf(a, sizeof(a), "sip:%s@example.com", user);
	snprintf(v, sizeof(v), "%s:5060", ep->ip);
	snprintf(contact, sizeof(contact), "<sip:%s@%s:5060>", user, ep->ip);
	memset(&m, 0, sizeof(m));
	m.method = "REGISTER";
	m.via = v;
	m.from = m.to = a;
	m.call_id = cid;
	m.cseq = 1;
	m.contact = contact;
	m.expires = expires;
	n = pg_frame(f, sizeof(f), ep, &PROXY_EP, text, pg_sip(text,
	    sizeof(text), &m), NULL);
	assert_int_equal(engine_packet(e, LINK_ETHERNET, f, n, NULL,
	    DIR_UNKNOWN, now), SG_ACCEPT);
	snprintf(contact, sizeof(contact), "<sip:%s@%s:5060>;expires=%d",
	    user, ep->ip, expires);
	m.method = NULL;
	m.status = 200;
	m.cseq_method = "REGISTER";
	m.expires = -1;
	n = pg_frame(f, sizeof(f), &PROXY_EP, ep, text, pg_sip(text,
	    sizeof(text), &m), NULL);
	assert_int_equal(engine_packet(e, LINK_ETHERNET, f, n, NULL,
	    DIR_UNKNOWN, now + 1000000), SG_ACCEPT);
}

static enum sg_verdict
invite(struct engine *e, const struct pg_ep *ep, const char *user,
    uint64_t now)
{
	char		 text[1200], a[64], v[64];
	uint8_t		 f[1400];
	struct pg_msg	 m;
	size_t		 n;

	snprintf(a, sizeof(a), "sip:%s@example.com", user);
	snprintf(v, sizeof(v), "%s:5060", ep->ip);
	memset(&m, 0, sizeof(m));
	m.method = "INVITE";
	m.via = v;
	m.from = a;
	m.to = "sip:bob@example.com";
	m.call_id = "inv-1";
	m.cseq = 1;
	m.expires = -1;
	n = pg_frame(f, sizeof(f), ep, &PROXY_EP, text, pg_sip(text,
	    sizeof(text), &m), NULL);
	return engine_packet(e, LINK_ETHERNET, f, n, NULL, DIR_UNKNOWN, now);
}

/*
 * The hook is told a binding the proxy granted and its de-registration;
 * a peer's binding applied, imported or pinned is never told (no echo),
 * and a peer's binding from another segment is judged vii once pinned by
 * the device's own MAC, and the same message from another MAC is not.
 */
static void
test_engine_hook(void **state)
{
	static const char *sets[] = { "proxy.addresses = [\"192.0.2.1\"]",
	    "startup.learn = 0" };
	struct sg_conf		 conf;
	struct conf_errors	 errs;
	struct engine		*e;
	struct told		 t;
	struct pg_ep		 p1 = { { 2, 0, 0x5e, 0, 0, 0x11 },
				    "198.51.100.11", 5060 };
	struct pg_ep		 p2 = { { 2, 0, 0x5e, 0, 0, 0x12 },
				    "198.51.100.12", 5060 };
	struct pg_ep		 x = { { 2, 0, 0x5e, 0, 0, 0x66 },
				    "198.51.100.12", 5060 };
	struct cluster_msg	 m;
	struct sg_tuple		 st;
	struct engine_stats	 es;
	uint64_t		 now = T0;

	(void)state;
	assert_int_equal(conf_load(NULL, sets, (int)nitems(sets), &conf,
	    &errs), 0);
	assert_non_null(e = engine_create(&conf));
	engine_warm_start(e);
	memset(&t, 0, sizeof(t));
	engine_set_shared(e, on_shared, &t);
	registers(e, &p1, "alice", 3600, "r1", now);
	assert_int_equal(t.added, 1);
	assert_string_equal(t.d, "alice@example.com");
	assert_memory_equal(t.m.b, p1.mac, 6);
	seen(&st, "02:00:5e:00:00:11", "198.51.100.11", "alice@example.com");
	assert_true(cluster_bind_own(bind_find(engine_bindings(e), &st, now),
	    now));
	/* A peer's binding from another segment: imported, nothing told. */
	bmsg_of(&m, CLUSTER_ADD, "lan-a", "02:00:5e:00:00:99",
	    "198.51.100.12", "bob@example.com");
	assert_int_equal(cluster_bind_apply(engine_bindings(e), &conf, &m,
	    "lan-b", SEC(3600), now), CB_IMPORTED);
	/* bob's first INVITE from his own MAC here: pinned, vii. */
	assert_int_equal(invite(e, &p2, "bob", now + SEC(1)), SG_ACCEPT);
	engine_stats(e, &es);
	assert_true(es.accept[SG_R_CASE_VII] == 1);
	/* The same message from another MAC: not bob's device, ix. */
	assert_int_equal(invite(e, &x, "bob", now + SEC(2)), SG_DROP);
	engine_stats(e, &es);
	assert_true(es.drop[SG_R_CASE_IX] == 1);
	assert_int_equal(t.added, 1);
	assert_int_equal(t.removed, 0);
	/* alice de-registers: told, with her F. */
	registers(e, &p1, "alice", 0, "r2", now + SEC(3));
	assert_int_equal(t.removed, 1);
	assert_string_equal(t.d, "alice@example.com");
	assert_int_equal(t.added, 1);
	engine_destroy(e);
}

int
main(void)
{
	if (hash_init() == -1)
		return 1;
	TREG_ROWS("conf", test_conf_row, ccases);
	TREG("conf", conf_defaults);
	TREG("conf", redis_addr);
	TREG("wire", encode_add);
	TREG("wire", encode_del_mip_v6);
	TREG("wire", encode_why_escaped);
	TREG("wire", not_shared);
	TREG_ROWS("decode_bad", test_decode_bad, bad);
	TREG("wire", decode_bounds);
	TREG("wire", keys);
	TREG("bind_wire", bind_encode);
	TREG("bind_wire", bind_escaped_del_v6);
	TREG_ROWS("bind_decode_bad", test_bind_decode_bad, bbad);
	TREG("bind_wire", bind_decode_mutations);
	treg_fixture(bfix_setup, bfix_teardown);
	TREG("bind_apply", apply_same_segment);
	TREG("bind_apply", apply_other_segment);
	TREG("bind_apply", apply_rule3);
	TREG("bind_apply", apply_pin_rule3);
	TREG("bind_apply", apply_lapsed_other_segment);
	TREG("bind_apply", apply_lapsed_quota);
	TREG("bind_apply", apply_quota_hop);
	TREG("bind_apply", apply_lapsed_chain);
	TREG("bind_apply", apply_quotas);
	TREG("bind_apply", apply_reserve);
	TREG("bind_apply", apply_removal_order);
	TREG("bind_apply", offer_binding);
	treg_fixture(NULL, NULL);
	TREG("bind_apply", engine_hook);
	TREG("queue", queue_bound);
	TREG("queue", node_hostname);
	return treg_run("cluster");
}
