/*
 * test_cluster.c: the parts of the cluster (cluster.h) that need no
 * Redis: the cluster.* keys and their checks, the wire format of a
 * listing and a removal (round trip, every malformed form refused, spoof
 * tuples and MAC-less keys never encoded), the key names, and the
 * outbound queue's bound (overflow counted, nothing allocated after
 * create, a run of the same change queued once).  tests/e2e_cluster.sh
 * runs two daemons against a real redis-server.
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

#include "cluster.h"
#include "conf.h"
#include "enforce.h"
#include "hash.h"
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
	/* Removals queue too, and count when they do not fit. */
	key_of(&b.key, BL_MI, "02:00:5e:10:00:01", "192.0.2.1", 0, true);
	cluster_removed(c, &b.key, T0);
	cluster_status(c, &s);
	assert_true(s.overflow == 9);
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
	TREG("queue", queue_bound);
	TREG("queue", node_hostname);
	return treg_run("cluster");
}
