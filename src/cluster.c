/*
 * cluster.c: the blacklist and the bindings shared through Redis (SPEC 8;
 * issue 14).  Beside the pipeline, never in it: workers only copy a listed
 * entry or a learned binding into the queue; the main loop publishes it, applies what other
 * nodes publish (through the caller's apply callback, which takes the
 * workers' locks), and keeps the two hiredis connections alive.  Nothing
 * here ever blocks: hiredis's async API, its descriptors in the daemon's
 * epoll set through the small adapter below, timeouts checked by the
 * tick.  Redis is cluster.redis, or the master that cluster.sentinels
 * name (asked again at every connection, ROLE checked: a failover is
 * followed).
 *
 * In Redis, for cluster.name N:
 *   N:bl:KIND:MAC:IP:PORT   a live entry, its record as value, PX = the
 *                           entry's remaining life (a node that joins
 *                           later reads what is live, nothing more);
 *   N:del:KIND:MAC:IP:PORT  a removal (tombstone), PX = blacklist.ttl;
 *   N:b:IP:D                a binding of identity D at address IP, its
 *                           record as value (the MAC and the segment it
 *                           was learned on in it), PX = its remaining
 *                           life (at most BIND_TTL_MAX_MS);
 *   N:bdel:IP:D             its removal (de-registration), a tombstone
 *                           of BIND_TOMB_MS;
 *   N:events                the channel every change is published on.
 * A binding is keyed by (i, d), not by F = {m, d, i}: the MAC is per
 * hop, and a node on another segment pins a MAC of its own on the row,
 * so a removal must find the row without the MAC.
 * Pub/sub rather than keyspace notifications or Streams: the events need
 * the whole record (who listed it, why, the stamp), keyspace
 * notifications would need a GET per event and a server setting; a
 * Stream would add a history that resync from the keys already gives.
 * What pub/sub loses while a node is away, the resync on reconnect
 * (SCAN of N:*) gives back, both ways: the node republishes its own
 * live entries first.
 *
 * Why a removal wins over a stale re-publication: a node that was
 * partitioned while an operator removed an entry elsewhere still holds
 * it, and republishes it when it comes back.  Every listing carries the
 * wall-clock time it was first listed (its stamp; a refresh keeps it), a
 * removal the time it was made.  Listing and removal run as Lua scripts,
 * atomic in Redis: a listing whose stamp is not newer than the
 * tombstone's is refused (counted as suppressed), a newer one (the
 * offender came back after the removal) deletes the tombstone and wins.
 * The resync that follows the republication applies the tombstones, so
 * the partitioned node drops its stale copy too.  The stamps come from
 * different hosts: the comparison assumes their clocks agree (NTP); a
 * skew of s makes a listing within s after a removal lose to it (the
 * offender is listed again at its next offence, locally at once).  Live
 * events are not compared: Redis orders them, a removal received removes.
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "cluster.h"
#include "hash.h"
#include "log.h"

#define BACKOFF_MIN	(SEC(1) / 2)
#define BACKOFF_MAX	SEC(30)
/* Through Sentinel a retry first asks a Sentinel, which is cheap, and
 * matters most during a failover: retry sooner. */
#define BACKOFF_MAX_SENTINEL	SEC(2)
#define PING_EVERY	SEC(1)
#define SCAN_COUNT	"256"
#define INBOX		256	/* messages applied under one lock */
/* The longest life an entry can have anywhere (blacklist.ttl's and
 * blacklist add's most): a longer one on the wire is refused. */
#define TTL_MAX_MS	(86400ULL * 30 * 1000)
#define FORGETS		16	/* blacklist forget requests waiting */
/* A binding's life in Redis, and its tombstone's: registrars grant an
 * hour or so (Kamailio's max_expires default 3600 s); a longer binding
 * is shared for a day and refreshed by its next re-registration. */
#define BIND_TTL_MAX_MS	(86400ULL * 1000)
#define BIND_TOMB_MS	BIND_TTL_MAX_MS
/* Peers' bindings never take the last 1/BIND_RESERVE of a table: this
 * node's own phones always find room (cluster_bind_apply). */
#define BIND_RESERVE	8
/* An identity's rows looked at (devices_per_identity: 8 by default, up
 * to 1024): beyond these a removal misses a row, which then expires. */
#define BIND_ROWS	64

/* KEYS: entry, tombstone; ARGV: record, stamp, px, channel. */
#define PUT_SCRIPT \
    "local t = redis.call('GET', KEYS[2]) " \
    "if t then " \
    "  local ts = tonumber(string.match(t, '^%S+ (%d+)')) or 0 " \
    "  if ts >= tonumber(ARGV[2]) then return 0 end " \
    "  redis.call('DEL', KEYS[2]) " \
    "end " \
    "local px = tonumber(ARGV[3]) " \
    "local old = redis.call('PTTL', KEYS[1]) " \
    "if old > px then px = old end " \
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', px) " \
    "redis.call('PUBLISH', ARGV[4], ARGV[1]) " \
    "return 1"
static const char put_script[] = PUT_SCRIPT;
/* KEYS: entry, tombstone; ARGV: record, tombstone px, channel. */
static const char del_script[] =
    "redis.call('DEL', KEYS[1]) "
    "redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2]) "
    "redis.call('PUBLISH', ARGV[3], ARGV[1]) "
    "return 1";
/*
 * A binding's listing: KEYS and ARGV as put_script's.  A record stamped
 * later than this one (the binding refreshed since, at another node)
 * stays: a node cut off republishes its older copy on reconnect, and
 * that copy must not replace it (a late removal between the two stamps
 * would then win over the newer registration).
 */
static const char bput_script[] =
    "local e = redis.call('GET', KEYS[1]) "
    "if e and (tonumber(string.match(e, '^%S+ (%d+)')) or 0) > "
    "    tonumber(ARGV[2]) then return 0 end "
    PUT_SCRIPT;
/*
 * A binding's removal: KEYS and ARGV as del_script's, then its stamp.
 * It loses to what is newer than it: the binding registered again since
 * (a node cut off when it saw the de-registration sends it late), or a
 * later removal's tombstone, which a stale one must not replace (a
 * republication between the two stamps would then win).
 */
static const char bdel_script[] =
    "local e = redis.call('GET', KEYS[1]) "
    "if e and (tonumber(string.match(e, '^%S+ (%d+)')) or 0) > "
    "    tonumber(ARGV[4]) then return 0 end "
    "local t = redis.call('GET', KEYS[2]) "
    "if t and (tonumber(string.match(t, '^%S+ (%d+)')) or 0) > "
    "    tonumber(ARGV[4]) then return 0 end "
    "redis.call('DEL', KEYS[1]) "
    "redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2]) "
    "redis.call('PUBLISH', ARGV[3], ARGV[1]) "
    "return 1";
/* KEYS: a SCAN page; returns value, PTTL pairs of those still there
 * (a key of another type under the prefix is skipped, not an error). */
static const char get_script[] =
    "local r = {} "
    "for _, k in ipairs(KEYS) do "
    "  local v = redis.pcall('GET', k) "
    "  if type(v) == 'string' then "
    "    r[#r + 1] = v; r[#r + 1] = tostring(redis.call('PTTL', k)) "
    "  end "
    "end "
    "return r";

enum cl_state {
	CL_DOWN = 0,
	CL_ASKING,		/* a Sentinel, for the master's address */
	CL_CONNECTING,
	CL_SYNCING,
	CL_UP,
};

struct cl_conn {
	struct cluster		*c;
	redisAsyncContext	*ac;
	int			 fd;
	uint32_t		 mask;		/* EPOLLIN | EPOLLOUT wanted */
	bool			 registered;
	bool			 ready;
};

struct cluster {
	int		 epfd;
	char		 host[128];	/* Redis, or the master Sentinel
					   named */
	int		 port;		/* 0: a UNIX socket */
	char		 sentinel[CONF_SENTINELS][128];
	int		 sport[CONF_SENTINELS];
	int		 nsentinels, next_sentinel;	/* 0: no Sentinel */
	char		 master[CONF_NAME_MAX];
	bool		 asked;		/* the Sentinel answered: connect */
	char		 node[CONF_NAME_MAX];
	char		 name[CONF_NAME_MAX];
	char		 channel[CONF_NAME_MAX + 8];
	char		 password[256];
	char		 sentinel_password[256];
	uint64_t	 timeout;	/* ns */
	uint64_t	 tomb_ttl;	/* ns: blacklist.ttl */

	struct cl_conn	 cmd, sub;
	enum cl_state	 state;
	bool		 broken;	/* tear down at the next chance */
	bool		 tearing;
	uint64_t	 next_try, backoff, started;
	uint64_t	 ping_sent;	/* 0: none outstanding */
	uint64_t	 sync_entries;
	bool		 down_logged;

	cluster_apply	 apply;
	cluster_republish_page republish;
	bool		 republishing;	/* own state still to offer */
	void		*arg;
	char		 segment[CONF_NAME_MAX];

	/* The queue: workers push (under mu), the main loop pops.  The push
	 * that makes it non-empty wakes the main loop (wakefd, an eventfd
	 * in its epoll set): one write(2) per drain, not per listing. */
	int		 wakefd;
	pthread_mutex_t	 mu;
	struct cluster_msg *q;
	uint32_t	 qcap, qhead, qlen;
	uint64_t	 overflow;
	uint64_t	 removals_kept;	/* in a publication's place */
	uint64_t	 unshared;	/* bindings kept local (workers) */

	/* What came in during one read, applied at its end in one batch
	 * (one taking of the workers' locks, not one per message). */
	struct cluster_msg inbox[INBOX];
	uint64_t	 inbox_ttl[INBOX];
	size_t		 ninbox;

	/* blacklist forget MAC|IP, done in Redis too (the main loop's
	 * own: no lock): a SCAN for the keys naming it, one at a time. */
	struct cl_forget {
		bool		 is_mac;
		struct sg_mac	 m;
		struct sg_addr	 i;
		uint64_t	 now;
	}		 forget[FORGETS];
	int		 nforget;
	bool		 forgetting;	/* a SCAN for forget[0] running */
	uint64_t	 overflow_forget;

	struct cluster_status st;	/* counters; the rest on demand */
};

/* ---- the wire format ----------------------------------------------------- */

bool
cluster_shares(const struct bl_key *k)
{
	/* SPEC 6 across nodes: only what the offender cannot forge (its
	 * own frame's MAC with its address), never a spoof tuple K. */
	return (k->kind == BL_MI || k->kind == BL_MIP) && k->has_m;
}

static void
key_fields(const struct bl_key *k, char *mac, char *ip)
{
	sg_mac_str((const struct sg_mac *)(const void *)k->m, true, mac,
	    SG_MACSTRLEN);
	sg_addr_str(&k->i, ip, SG_ADDRSTRLEN);
}

int
cluster_key(const char *name, const struct bl_key *k, bool tombstone,
    char *buf, size_t len)
{
	char	 mac[SG_MACSTRLEN], ip[SG_ADDRSTRLEN];
	int	 n;

	if (!cluster_shares(k))
		return -1;
	key_fields(k, mac, ip);
	n = snprintf(buf, len, "%s:%s:%s:%s:%s:%u", name, tombstone ? "del" :
	    "bl", k->kind == BL_MI ? "mi" : "mip", mac, ip, k->port);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

int
cluster_encode(const struct cluster_msg *m, char *buf, size_t len)
{
	char	 mac[SG_MACSTRLEN], ip[SG_ADDRSTRLEN], why[sizeof(m->why)];
	size_t	 k;
	int	 n;

	if (!cluster_shares(&m->key) || (m->op != CLUSTER_ADD &&
	    m->op != CLUSTER_DEL) || m->node[0] == '\0')
		return -1;
	key_fields(&m->key, mac, ip);
	/* A field without blanks: the reason is ours, but say so here. */
	for (k = 0; k < sizeof(why) - 1 && m->why[k] != '\0'; k++)
		why[k] = isgraph((unsigned char)m->why[k]) ? m->why[k] : '_';
	why[k] = '\0';
	n = snprintf(buf, len, "sg1 %" PRIu64 " %s %s %s %s %s %u %" PRIu64
	    " %s", m->stamp_ms, m->op == CLUSTER_ADD ? "add" : "del", m->node,
	    m->key.kind == BL_MI ? "mi" : "mip", mac, ip, m->key.port,
	    m->op == CLUSTER_ADD ? m->ttl_ms : 0, k > 0 ? why : "-");
	return n > 0 && (size_t)n < len ? 0 : -1;
}

static int
parse_u64(const char *s, uint64_t max, uint64_t *v)
{
	char	*end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return *end != '\0' || errno != 0 || *v > max ? -1 : 0;
}

static int	decode_bind(char *, size_t, struct cluster_msg *);

/*
 * A record's fields, separated by exactly one space as encoded (`buf',
 * len bytes, NUL-terminated, is cut up): their number, or -1 when there
 * are more than `max' or a space is doubled, leading or trailing.
 */
static int
split_fields(char *buf, size_t len, char **f, int max)
{
	char	*save = NULL;
	int	 n = 0;

	if (strstr(buf, "  ") != NULL || buf[0] == ' ' || buf[len - 1] == ' ')
		return -1;
	for (char *w = strtok_r(buf, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save)) {
		if (n == max)
			return -1;
		f[n++] = w;
	}
	return n;
}

int
cluster_decode(const char *s, size_t len, struct cluster_msg *m)
{
	char		 buf[CLUSTER_MSG_MAX], *f[10];
	struct sg_tuple	 t;
	uint64_t	 port;

	memset(m, 0, sizeof(*m));
	if (len == 0 || len >= sizeof(buf) || memchr(s, '\0', len) != NULL)
		return -1;
	if (len > 5 && memcmp(s, "sgb1 ", 5) == 0) {
		memcpy(buf, s, len);
		buf[len] = '\0';
		return decode_bind(buf, len, m);
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (split_fields(buf, len, f, 10) != 10 || strcmp(f[0], "sg1") != 0)
		return -1;
	if (parse_u64(f[1], UINT64_MAX / 2, &m->stamp_ms) == -1)
		return -1;
	if (strcmp(f[2], "add") == 0)
		m->op = CLUSTER_ADD;
	else if (strcmp(f[2], "del") == 0)
		m->op = CLUSTER_DEL;
	else
		return -1;
	if (strlen(f[3]) >= sizeof(m->node))
		return -1;
	for (const char *p = f[3]; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("._-", *p) == NULL)
			return -1;
	memcpy(m->node, f[3], strlen(f[3]) + 1);
	memset(&t, 0, sizeof(t));
	if (sg_mac_parse(f[5], &t.m) == -1 || sg_addr_parse(f[6], &t.i) == -1 ||
	    (t.i.family != SG_AF_INET && t.i.family != SG_AF_INET6) ||
	    parse_u64(f[7], 65535, &port) == -1)
		return -1;
	t.has_m = true;
	t.sport = (uint16_t)port;
	if (strcmp(f[4], "mi") == 0 && port == 0)
		enf_key_mi(&m->key, &t);
	else if (strcmp(f[4], "mip") == 0 && port != 0)
		enf_key_mip(&m->key, &t);
	else
		return -1;
	if (parse_u64(f[8], TTL_MAX_MS, &m->ttl_ms) == -1 ||
	    strlen(f[9]) >= sizeof(m->why))
		return -1;
	if (strcmp(f[9], "-") != 0)
		memcpy(m->why, f[9], strlen(f[9]) + 1);
	return 0;
}

/* ---- bindings on the wire ------------------------------------------------ */

/* Letters, digits and -._~@+ as they are; anything else %HH.  A lone
 * "-" (which stands for empty) escaped too. */
static int
esc(const char *src, char *dst, size_t len)
{
	size_t	 o = 0;

	if (strcmp(src, "-") == 0)
		return snprintf(dst, len, "%%2d") == 3 ? 0 : -1;
	for (; *src != '\0'; src++) {
		unsigned char	 c = (unsigned char)*src;

		if (o + 4 > len)
			return -1;
		if (isalnum(c) || strchr("-._~@+", c) != NULL)
			dst[o++] = (char)c;
		else
			o += (size_t)snprintf(dst + o, len - o, "%%%02x", c);
	}
	if (o >= len)
		return -1;
	dst[o] = '\0';
	return 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* What esc() writes, and nothing else: no NUL, shorter than `len'. */
static int
unesc(const char *src, char *dst, size_t len)
{
	size_t	 o = 0;

	for (; *src != '\0'; src++) {
		int	 c = (unsigned char)*src;

		if (c == '%') {
			int	 hi = hexval((unsigned char)src[1]), lo;

			if (hi == -1 || (lo = hexval((unsigned char)src[2])) ==
			    -1 || (c = hi << 4 | lo) == 0)
				return -1;
			src += 2;
		} else if (!isalnum(c) && strchr("-._~@+", c) == NULL)
			return -1;
		if (o + 1 >= len)
			return -1;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return 0;
}

static bool
name_ok(const char *p)
{
	if (*p == '\0')
		return false;
	for (; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("._-", *p) == NULL)
			return false;
	return true;
}

int
cluster_bind_encode(const struct cluster_msg *m, char *buf, size_t len)
{
	char	 mac[SG_MACSTRLEN], ip[SG_ADDRSTRLEN], sip[SG_ADDRSTRLEN];
	char	 d[SG_ID_MAX * 3 + 1], impi[SG_ID_MAX * 3 + 1];
	int	 n;

	if (m->kind != CLUSTER_BIND || (m->op != CLUSTER_ADD && m->op !=
	    CLUSTER_DEL) || !name_ok(m->node) || !name_ok(m->b.segment) ||
	    m->b.d[0] == '\0' || !sg_addr_is_ip(&m->b.i) ||
	    (m->op == CLUSTER_ADD && !sg_addr_is_ip(&m->b.s)))
		return -1;
	sg_mac_str(&m->b.m, true, mac, sizeof(mac));
	sg_addr_str(&m->b.i, ip, sizeof(ip));
	if (sg_addr_is_ip(&m->b.s))
		sg_addr_str(&m->b.s, sip, sizeof(sip));
	else
		snprintf(sip, sizeof(sip), "-");
	if (esc(m->b.d, d, sizeof(d)) == -1 || (m->b.impi[0] != '\0' ?
	    esc(m->b.impi, impi, sizeof(impi)) : snprintf(impi, sizeof(impi),
	    "-") != 1) == -1)
		return -1;
	n = snprintf(buf, len, "sgb1 %" PRIu64 " %s %s %s %s %s %s %u %"
	    PRIu64 " %s %s", m->stamp_ms, m->op == CLUSTER_ADD ? "add" : "del",
	    m->node, m->b.segment, mac, ip, sip, m->b.port, m->op ==
	    CLUSTER_ADD ? m->ttl_ms : 0, d, impi);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

/* `buf' (len bytes, NUL-terminated, changed): "sgb1 ..." as encoded. */
static int
decode_bind(char *buf, size_t len, struct cluster_msg *m)
{
	char		*f[12];
	uint64_t	 port;

	if (split_fields(buf, len, f, 12) != 12 || strcmp(f[0], "sgb1") != 0)
		return -1;
	m->kind = CLUSTER_BIND;
	if (parse_u64(f[1], UINT64_MAX / 2, &m->stamp_ms) == -1)
		return -1;
	if (strcmp(f[2], "add") == 0)
		m->op = CLUSTER_ADD;
	else if (strcmp(f[2], "del") == 0)
		m->op = CLUSTER_DEL;
	else
		return -1;
	if (strlen(f[3]) >= sizeof(m->node) || !name_ok(f[3]) ||
	    strlen(f[4]) >= sizeof(m->b.segment) || !name_ok(f[4]))
		return -1;
	memcpy(m->node, f[3], strlen(f[3]) + 1);
	memcpy(m->b.segment, f[4], strlen(f[4]) + 1);
	if (sg_mac_parse(f[5], &m->b.m) == -1 || sg_addr_parse(f[6],
	    &m->b.i) == -1 || !sg_addr_is_ip(&m->b.i))
		return -1;
	if (strcmp(f[7], "-") == 0) {
		if (m->op == CLUSTER_ADD)
			return -1;	/* a binding states its SIP-IP */
	} else if (sg_addr_parse(f[7], &m->b.s) == -1 ||
	    !sg_addr_is_ip(&m->b.s))
		return -1;
	if (parse_u64(f[8], 65535, &port) == -1 || parse_u64(f[9], TTL_MAX_MS,
	    &m->ttl_ms) == -1 || (m->op == CLUSTER_ADD) != (m->ttl_ms > 0))
		return -1;
	m->b.port = (uint16_t)port;
	/* "-" stands for empty, which an identity never is. */
	if (strcmp(f[10], "-") == 0 || unesc(f[10], m->b.d,
	    sizeof(m->b.d)) == -1 || m->b.d[0] == '\0')
		return -1;
	if (strcmp(f[11], "-") != 0 && (unesc(f[11], m->b.impi,
	    sizeof(m->b.impi)) == -1 || m->b.impi[0] == '\0'))
		return -1;
	return 0;
}

int
cluster_bind_key(const char *name, const struct cluster_msg *m,
    bool tombstone, char *buf, size_t len)
{
	char	 ip[SG_ADDRSTRLEN], d[SG_ID_MAX * 3 + 1];
	int	 n;

	if (m->kind != CLUSTER_BIND || !sg_addr_is_ip(&m->b.i) ||
	    m->b.d[0] == '\0' || esc(m->b.d, d, sizeof(d)) == -1)
		return -1;
	sg_addr_str(&m->b.i, ip, sizeof(ip));
	n = snprintf(buf, len, "%s:%s:%s:%s", name, tombstone ? "bdel" : "b",
	    ip, d);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

/* ---- the queue ----------------------------------------------------------- */

static void
push(struct cluster *c, const struct cluster_msg *m)
{
	bool	 wake = false;

	pthread_mutex_lock(&c->mu);
	if (c->qlen > 0 && m->kind == CLUSTER_BL) {
		/* The same change from every worker in a row (a manual
		 * add, a restored entry): once. */
		const struct cluster_msg *last = &c->q[(c->qhead + c->qlen -
		    1) % c->qcap];

		if (last->kind == m->kind && last->op == m->op &&
		    memcmp(&last->key, &m->key,
		    sizeof(m->key)) == 0 && last->expires == m->expires) {
			pthread_mutex_unlock(&c->mu);
			return;
		}
	}
	if (c->qlen == c->qcap) {
		/*
		 * Full.  A publication lost comes back with the next resync
		 * (the node republishes what it holds); a removal lost would
		 * not (the node holds nothing of it any more), and the other
		 * nodes would keep the entry or binding.  So a removal takes
		 * the place of the oldest publication queued: sent sooner
		 * than the publications queued after that one, which is
		 * harmless, since a listing or binding stamped before a
		 * removal loses to its tombstone in Redis.
		 */
		c->overflow++;
		if (m->op == CLUSTER_DEL)
			for (uint32_t k = 0; k < c->qlen; k++) {
				struct cluster_msg *x = &c->q[(c->qhead + k) %
						    c->qcap];

				if (x->op == CLUSTER_ADD) {
					*x = *m;
					c->removals_kept++;
					break;
				}
			}
	} else {
		wake = c->qlen == 0;
		c->q[(c->qhead + c->qlen++) % c->qcap] = *m;
	}
	pthread_mutex_unlock(&c->mu);
	if (wake && c->wakefd != -1) {
		uint64_t	 one = 1;

		/* Non-blocking; a counter that cannot fill in practice. */
		(void)!write(c->wakefd, &one, sizeof(one));
	}
}

static bool
pop(struct cluster *c, struct cluster_msg *m)
{
	bool	 got = false;

	pthread_mutex_lock(&c->mu);
	if (c->qlen > 0) {
		*m = c->q[c->qhead];
		c->qhead = (c->qhead + 1) % c->qcap;
		c->qlen--;
		got = true;
	}
	pthread_mutex_unlock(&c->mu);
	return got;
}

/* Before a republication: the listings queued are in it; removals stay. */
static void
drop_adds(struct cluster *c)
{
	uint32_t	 n = 0;

	pthread_mutex_lock(&c->mu);
	for (uint32_t k = 0; k < c->qlen; k++) {
		const struct cluster_msg *m = &c->q[(c->qhead + k) % c->qcap];

		/* Bindings too: the republication offers them again. */
		if (m->op == CLUSTER_DEL)
			c->q[(c->qhead + n++) % c->qcap] = *m;
	}
	c->qlen = n;
	pthread_mutex_unlock(&c->mu);
}

void
cluster_offer(struct cluster *c, const struct bl_entry *b)
{
	struct cluster_msg	 m;

	if (c == NULL || !cluster_shares(&b->key))
		return;
	memset(&m, 0, sizeof(m));
	m.op = CLUSTER_ADD;
	m.key = b->key;
	m.stamp_ms = b->added / 1000000;
	m.expires = b->expires;
	memcpy(m.why, b->why, sizeof(m.why));
	m.why[sizeof(m.why) - 1] = '\0';
	push(c, &m);
}

/*
 * What another node can rebuild: d hashes to dh as every node hashes an
 * identity (not truncated, no NUL in it), the SIP-IP is an address (a
 * host name's hash is keyed per node), the MAC known.  The IMPI travels
 * only when it too hashes back (else the check it adds is left out).
 */
static bool
bind_fill(struct cluster *c, struct cluster_msg *m, const struct sg_mac *mac,
    const struct sg_addr *i, const struct sg_addr *s, uint16_t port,
    const char *d, uint64_t dh, const char *impi, uint64_t impih)
{
	memset(m, 0, sizeof(*m));
	m->kind = CLUSTER_BIND;
	if (d[0] == '\0' || strnlen(d, SG_ID_MAX) >= SG_ID_MAX - 1 ||
	    hash_bytes(d, strlen(d)) != dh || !sg_addr_is_ip(i)) {
		pthread_mutex_lock(&c->mu);
		c->unshared++;
		pthread_mutex_unlock(&c->mu);
		return false;
	}
	m->b.m = *mac;
	m->b.i = *i;
	if (s != NULL && sg_addr_is_ip(s))
		m->b.s = *s;
	m->b.port = port;
	memcpy(m->b.d, d, strlen(d) + 1);
	if (impi != NULL && impi[0] != '\0' && strnlen(impi, SG_ID_MAX) <
	    SG_ID_MAX - 1 && (hash_bytes(impi, strlen(impi)) | 1) == impih)
		memcpy(m->b.impi, impi, strlen(impi) + 1);
	return true;
}

bool
cluster_bind_own(const struct binding *b, uint64_t now)
{
	/* Learned here from the proxy's 2xx: it carries the request's
	 * Contact (contact_idh); rows imported, restored from a peer or
	 * applied from one have none (cluster_bind_apply). */
	return b->live && b->has_m && !b->pin && b->contact_idh != 0 &&
	    b->expires > now;
}

void
cluster_offer_binding(struct cluster *c, const struct binding *b,
    const char *d, const char *impi)
{
	struct cluster_msg	 m;

	if (c == NULL || b->pin)
		return;
	/* No MAC (a frame without layer 2): nothing a peer could match. */
	if (!b->has_m || !sg_addr_is_ip(&b->s)) {
		pthread_mutex_lock(&c->mu);
		c->unshared++;
		pthread_mutex_unlock(&c->mu);
		return;
	}
	if (!bind_fill(c, &m, &b->m, &b->i, &b->s, b->port, d, b->dh, impi,
	    b->impih))
		return;
	m.op = CLUSTER_ADD;
	m.stamp_ms = b->refreshed / 1000000;
	m.expires = b->expires;
	push(c, &m);
}

void
cluster_binding_removed(struct cluster *c, const struct sg_tuple *t,
    uint64_t now)
{
	struct cluster_msg	 m;

	if (c == NULL || !bind_fill(c, &m, &t->m, &t->i, &t->s, t->sport,
	    t->d, t->dh, NULL, 0))
		return;
	m.op = CLUSTER_DEL;
	m.stamp_ms = now / 1000000;
	push(c, &m);
}

void
cluster_removed(struct cluster *c, const struct bl_key *k, uint64_t now)
{
	struct cluster_msg	 m;

	if (c == NULL || !cluster_shares(k))
		return;
	memset(&m, 0, sizeof(m));
	m.op = CLUSTER_DEL;
	m.key = *k;
	m.stamp_ms = now / 1000000;
	push(c, &m);
}

/* ---- applying a peer's binding ------------------------------------------- */

/*
 * SPEC 8: the MAC is per hop.  A binding carries the segment it was
 * learned on (cluster.segment, by default the node's own name: every
 * node its own segment, so no peer's MAC is trusted unless the operator
 * says two nodes see the same frames).
 *
 *  - Same segment: the frames this node sees from the device carry the
 *    MAC the learning node saw, so the binding is applied as it is, F =
 *    {m, d, i}: the device's next message is an exact match (case vii).
 *  - Another segment: the MAC in the record means nothing here (a
 *    router's, or another LAN's).  The binding is imported (bind_import:
 *    i, s and d, no MAC): the first message from i carrying d (and s, if
 *    stated) pins the MAC this node sees, a router's included (it is
 *    then a gateway MAC by the usual count, SPEC 2), and from then on
 *    another MAC with that address and identity is ix, as for a local
 *    binding.  An unpinned row is in no F, m or device index: it never
 *    matches exactly, is no evidence for REGISTER rules 3 and 4, and
 *    cannot make a local REGISTER be refused; nor can it once pinned,
 *    since a host MAC pins only where rule 3 would let it register
 *    (bind_pin).
 *
 * Anti-collateral (SPEC 6 across nodes): a binding exists only because a
 * proxy answered 200 to an authenticated REGISTER, so a peer's binding
 * is the proxy's word, not the attacker's.  But an attacker with his own
 * credentials can get a binding for a forged source address at node A
 * (a victim's IP with his own MAC, if A's table does not know the
 * victim); shared blindly, that binding would hold the victim's IP at B
 * and B's rule 3 ("IP held by another device") would refuse the victim's
 * own REGISTER there.  So a peer's binding passes this node's own rules
 * first, as a REGISTER would: refused when the address is held here by
 * another host device (rule 3), when the device holds
 * identities_per_device identities (rule 4), when the identity holds
 * devices_per_identity devices none of which a peer gave (where a local
 * learning would replace the oldest; a peer's replaces only the oldest
 * a peer gave, peer_room(), never a live local binding), and when the
 * table is full but for its last 1/BIND_RESERVE (kept for this node's
 * own phones: a flood of peers' bindings, or whoever can write to
 * Redis, cannot lock them out).  Refusals are counted (refused_ip,
 * refused_quota, refused_full in `sipguardctl cluster').  What is left
 * to a forger on another segment is the pin's race (the first message
 * from i with d and s): the same window an imported registrar dump
 * gives (SPEC 9), limited to a forger who can send from i to this node,
 * and closed for good once the device itself has spoken.
 *
 * A removal names (i, d): on the same segment the exact F goes, whoever
 * learned it (it is the same device, and the proxy vouched for its
 * de-registration); in any case every row of d at i this node did not
 * learn itself (imported, pinned or applied from a peer), MAC or not.
 * A row this node learned from its own proxy on another segment stays
 * until its own proxy says otherwise, or it expires.  A row refreshed
 * after the removal was made stays too (older()).  The identity is the
 * one the proxy de-registered: an attacker's own credentials, whatever
 * source he forges, remove only his own rows.
 */
static void
msg_tuple(const struct sg_conf *conf, const struct cluster_msg *m,
    struct sg_tuple *t)
{
	memset(t, 0, sizeof(*t));
	t->m = m->b.m;
	t->has_m = true;
	t->i = m->b.i;
	t->s = m->b.s;
	t->sport = m->b.port;
	memcpy(t->d, m->b.d, sizeof(t->d));
	t->dh = hash_bytes(t->d, strlen(t->d));
	if (m->b.impi[0] != '\0') {
		memcpy(t->impi, m->b.impi, sizeof(t->impi));
		t->impih = hash_bytes(t->impi, strlen(t->impi)) | 1;
	}
	/* As tuple_sip() sets it for the device's own messages here. */
	t->nat = conf->nat != NAT_STRICT && sg_addr_is_ip(&t->s) &&
	    !sg_addr_eq(&t->s, &t->i) && sg_addr_private(&t->s);
}

/*
 * A removal made at `stamp_ms' never takes a row refreshed after it: a
 * tombstone read at a resync (it lives a day) must not undo a phone's
 * registration since, here or at a peer whose publication was lost.
 */
static bool
older(const struct binding *b, uint64_t stamp_ms)
{
	return b->refreshed / 1000000 <= stamp_ms;
}

/*
 * The identity at devices_per_identity here: its oldest row a peer gave
 * (or the proxy's dump) makes room, as the learning node's own oldest
 * did there (a phone that hops addresses: identity_make_room, not
 * published), or the new address would be refused here while a stale
 * one lives on.  A row this node learned itself is never evicted.
 */
static bool
peer_room(struct bind_table *bt, const struct binding **rows, int n)
{
	const struct binding	*old = NULL;

	/* The one refreshed least recently: a peer's refresh extends a
	 * row's life (bind_extend), its `refreshed' stays the first. */
	for (int k = 0; k < n && k < BIND_ROWS; k++)
		if (rows[k]->contact_idh == 0 && (old == NULL ||
		    rows[k]->expires < old->expires))
			old = rows[k];
	if (old == NULL)
		return false;
	bind_drop(bt, old);
	return true;
}

/*
 * A lapsed row (bindings.grace) holds no quota: extended by a peer it
 * takes one again, as a new binding would here: its device below
 * identities_per_device identities, its identity below
 * devices_per_identity live rows (peer_room() may make that room, never
 * from a row learned here).  Else rows applied and left to lapse, as
 * many applied meanwhile, then the lapsed ones refreshed would hold any
 * number.
 */
static bool
lapsed_room(struct bind_table *bt, const struct sg_conf *conf,
    const struct binding *b, uint64_t now)
{
	const struct binding	*rows[BIND_ROWS];
	struct sg_tuple		 dev;
	bool			 has_d;
	int			 n;

	if (b->expires > now)
		return true;
	bind_tuple(b, &dev);
	if (bind_device_identities(bt, &dev, now, &has_d) >=
	    conf->identities_per_device && !has_d)
		return false;
	n = bind_identity_rows(bt, b->dh, now, rows, BIND_ROWS);
	return n < conf->devices_per_identity || (n ==
	    conf->devices_per_identity && peer_room(bt, rows, n));
}

/*
 * Cost: an identity's rows are walked by each message naming it (here,
 * under every worker's lock, and by a worker's learning), lapsed and
 * expired ones too.  Rows a peer gave with a short life, each lapsing
 * before the next came, would stay a grace each: one identity could hold
 * the table's share for peers.  At twice devices_per_identity rows, the
 * one a peer gave that lapsed first makes room; none: refused.
 */
static bool
chain_room(struct bind_table *bt, const struct sg_conf *conf, uint64_t dh,
    uint64_t now)
{
	const struct binding	*rows[BIND_ROWS], *old = NULL;
	int			 n;

	n = bind_identity_rows(bt, dh, 0, rows, BIND_ROWS);
	if (n < 2 * conf->devices_per_identity)
		return true;
	for (int k = 0; k < n && k < BIND_ROWS; k++)
		if (rows[k]->contact_idh == 0 && rows[k]->expires <= now &&
		    (old == NULL || rows[k]->expires < old->expires))
			old = rows[k];
	if (old == NULL)
		return false;
	bind_drop(bt, old);
	return true;
}

static enum cluster_bind_res
bind_removal(struct bind_table *bt, const struct sg_tuple *t, bool same,
    uint64_t stamp_ms)
{
	const struct binding	*rows[BIND_ROWS], *b;
	int			 n, gone = 0;

	if (same && (b = bind_find(bt, t, 0)) != NULL && older(b, stamp_ms)) {
		bind_drop(bt, b);
		gone++;
	}
	n = bind_identity_rows(bt, t->dh, 0, rows, BIND_ROWS);
	for (int k = 0; k < n && k < BIND_ROWS; k++)
		if (sg_addr_eq(&rows[k]->i, &t->i) &&
		    rows[k]->contact_idh == 0 && older(rows[k], stamp_ms)) {
			bind_drop(bt, rows[k]);
			gone++;
		}
	return gone > 0 ? CB_REMOVED : CB_ABSENT;
}

enum cluster_bind_res
cluster_bind_apply(struct bind_table *bt, const struct sg_conf *conf,
    const struct cluster_msg *m, const char *segment, uint64_t ttl,
    uint64_t now)
{
	const struct binding	*rows[BIND_ROWS], *b;
	struct sg_tuple		 t;
	bool			 same = strcmp(m->b.segment, segment) == 0;
	uint64_t		 expires = now + ttl;
	uint32_t		 cap = bind_capacity(bt);
	int			 n, known = 0, refused = 0;
	bool			 has_d;

	msg_tuple(conf, m, &t);
	if (m->op == CLUSTER_DEL)
		return bind_removal(bt, &t, same, m->stamp_ms);
	if (ttl == 0)
		return CB_KEPT;
	/* Known here: its life merged (the longer wins), nothing else. */
	if (same && (b = bind_find(bt, &t, now)) != NULL) {
		if (b->expires >= expires)
			return CB_KEPT;
		if (!lapsed_room(bt, conf, b, now))
			return CB_REFUSED_QUOTA;
		bind_extend(bt, b, expires);
		return CB_REFRESHED;
	}
	if (!same) {
		/*
		 * Held at i, lapsed too (bindings.grace): a lapsed row is
		 * refreshed as a live one is.  A MAC-less twin imported
		 * beside it would never be pinned by the device (its
		 * messages match the lapsed row first), only by a forger.
		 */
		n = bind_identity_rows(bt, t.dh, 0, rows, BIND_ROWS);
		for (int k = 0; k < n && k < BIND_ROWS; k++)
			if (sg_addr_eq(&rows[k]->i, &t.i) &&
			    bind_held(bt, rows[k], now)) {
				known++;
				if (lapsed_room(bt, conf, rows[k], now))
					bind_extend(bt, rows[k], expires);
				else
					refused++;
			}
		if (known > 0)
			return refused == known ? CB_REFUSED_QUOTA :
			    CB_REFRESHED;
	}
	n = bind_identity_rows(bt, t.dh, now, rows, BIND_ROWS);
	if (bind_live(bt) >= cap - cap / BIND_RESERVE)
		return CB_REFUSED_FULL;
	/* Rules 3 and 4 before peer_room(), which evicts. */
	if (same && bind_ip_other_device(bt, &t, now) != NULL)
		return CB_REFUSED_IP;
	if (same && bind_device_identities(bt, &t, now, &has_d) >=
	    conf->identities_per_device && !has_d)
		return CB_REFUSED_QUOTA;
	if ((n >= conf->devices_per_identity && (n >
	    conf->devices_per_identity || !peer_room(bt, rows, n))) ||
	    !chain_room(bt, conf, t.dh, now))
		return CB_REFUSED_QUOTA;
	if (!same) {
		switch (bind_import(bt, &t, expires, now)) {
		case 1:
			return CB_IMPORTED;
		case -1:
			return CB_REFUSED_FULL;
		case -2:
			return CB_REFUSED_QUOTA;
		default:
			return CB_KEPT;
		}
	}
	switch (bind_learn(bt, &t, 0, expires, now, &b)) {
	case BIND_NEW:
		return CB_APPLIED;
	case BIND_REFRESHED:
		return CB_REFRESHED;
	case BIND_QUOTA:
		return CB_REFUSED_QUOTA;
	case BIND_FULL:
	default:
		return CB_REFUSED_FULL;
	}
}

void
cluster_bind_count(struct cluster *c, enum cluster_bind_res r)
{
	switch (r) {
	case CB_REFUSED_IP:
		c->st.refused_ip++;
		break;
	case CB_REFUSED_QUOTA:
		c->st.refused_quota++;
		break;
	case CB_REFUSED_FULL:
		c->st.refused_full++;
		break;
	default:
		return;
	}
	if (c->st.binds_refused++ == 0)
		log_warnx("cluster: a peer's binding refused (%s); counted in "
		    "`sipguardctl cluster'", r == CB_REFUSED_IP ? "its address "
		    "is another device's here" : r == CB_REFUSED_QUOTA ?
		    "a local quota" : "the table's share for peers is full");
}

/* ---- hiredis on the daemon's epoll --------------------------------------- */

static void
ev_update(struct cl_conn *cn)
{
	struct epoll_event	 ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = cn->mask;
	ev.data.ptr = cn;
	if (cn->mask == 0) {
		if (cn->registered)
			epoll_ctl(cn->c->epfd, EPOLL_CTL_DEL, cn->fd, &ev);
		cn->registered = false;
		return;
	}
	if (epoll_ctl(cn->c->epfd, cn->registered ? EPOLL_CTL_MOD :
	    EPOLL_CTL_ADD, cn->fd, &ev) == 0)
		cn->registered = true;
	else
		log_warn("cluster: epoll_ctl");
}

/* hiredis's four hooks: one event bit on or off. */
static void
ev_set(void *p, uint32_t bit, bool on)
{
	struct cl_conn	*cn = p;

	if (on)
		cn->mask |= bit;
	else
		cn->mask &= ~bit;
	ev_update(cn);
}

static void
ev_add_read(void *p)
{
	ev_set(p, EPOLLIN, true);
}

static void
ev_del_read(void *p)
{
	ev_set(p, EPOLLIN, false);
}

static void
ev_add_write(void *p)
{
	ev_set(p, EPOLLOUT, true);
}

static void
ev_del_write(void *p)
{
	ev_set(p, EPOLLOUT, false);
}

/* hiredis frees the context after this: forget it. */
static void
ev_cleanup(void *p)
{
	struct cl_conn	*cn = p;

	cn->mask = 0;
	ev_update(cn);
	cn->ac = NULL;
	cn->ready = false;
}

static void
attach(struct cl_conn *cn, redisAsyncContext *ac)
{
	cn->ac = ac;
	cn->fd = ac->c.fd;
	cn->mask = 0;
	cn->registered = false;
	cn->ready = false;
	ac->data = cn;
	ac->ev.data = cn;
	ac->ev.addRead = ev_add_read;
	ac->ev.delRead = ev_del_read;
	ac->ev.addWrite = ev_add_write;
	ac->ev.delWrite = ev_del_write;
	ac->ev.cleanup = ev_cleanup;
}

bool
cluster_owns(const struct cluster *c, const void *p)
{
	return c != NULL && (p == &c->cmd || p == &c->sub ||
	    p == &c->wakefd);
}

/* ---- connection ---------------------------------------------------------- */

static void
fail(struct cluster *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
fail(struct cluster *c, const char *fmt, ...)
{
	va_list	 ap;

	if (c->tearing || c->broken)
		return;
	va_start(ap, fmt);
	vsnprintf(c->st.last_error, sizeof(c->st.last_error), fmt, ap);
	va_end(ap);
	c->broken = true;
}

/* Outside hiredis's callbacks only. */
static void
teardown(struct cluster *c, uint64_t now)
{
	bool	 was_up = c->state == CL_UP || c->state == CL_SYNCING;

	c->tearing = true;
	if (c->cmd.ac != NULL)
		redisAsyncFree(c->cmd.ac);
	if (c->sub.ac != NULL)
		redisAsyncFree(c->sub.ac);
	c->cmd.ac = c->sub.ac = NULL;
	c->cmd.ready = c->sub.ready = false;
	c->tearing = false;
	c->broken = false;
	c->st.pending = 0;
	c->ping_sent = 0;
	c->forgetting = false;		/* forget[0] starts again */
	c->state = CL_DOWN;
	c->st.failures++;
	if (c->st.down_since == 0)
		c->st.down_since = now;
	c->backoff = c->backoff == 0 ? BACKOFF_MIN : c->backoff * 2;
	if (c->backoff > (c->nsentinels > 0 ? BACKOFF_MAX_SENTINEL :
	    BACKOFF_MAX))
		c->backoff = c->nsentinels > 0 ? BACKOFF_MAX_SENTINEL :
		    BACKOFF_MAX;
	c->next_try = clock_mono() + c->backoff;
	if (was_up || !c->down_logged)
		log_warnx("cluster: down (redis %s): %s; judging with the "
		    "local state, retrying with backoff", c->st.redis,
		    c->st.last_error);
	else
		log_debug("cluster: still down: %s", c->st.last_error);
	c->down_logged = true;
}

static void
on_connect(const redisAsyncContext *ac, int status)
{
	struct cl_conn	*cn = ac->data;

	if (status != REDIS_OK)
		fail(cn->c, "connect: %s", ac->errstr[0] ? ac->errstr :
		    "failed");
}

static void
on_disconnect(const redisAsyncContext *ac, int status)
{
	struct cl_conn	*cn = ac->data;

	(void)status;
	fail(cn->c, "connection lost%s%s", ac->errstr[0] ? ": " : "",
	    ac->errstr);
}

/* A reply that failed: NULL (the context goes) or an error reply. */
static bool
failed(redisAsyncContext *ac, const redisReply *r, const char *what)
{
	struct cl_conn	*cn = ac->data;
	struct cluster	*c = cn->c;

	if (r == NULL) {
		fail(c, "connection lost%s%s", ac->errstr[0] ? ": " : "",
		    ac->errstr);
		return true;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		fail(c, "%s: %.96s", what, r->str);
		return true;
	}
	return false;
}

static void
done_one(struct cluster *c)
{
	if (c->st.pending > 0)
		c->st.pending--;
}

static void	begin_sync(struct cluster *);
static void	start_ask(struct cluster *);
static void	on_role(redisAsyncContext *, void *, void *);
static void	to_master(struct cluster *);

static void
maybe_synced(struct cluster *c)
{
	if (c->state == CL_CONNECTING && c->cmd.ready && c->sub.ready)
		begin_sync(c);
}

static void
on_auth(redisAsyncContext *ac, void *reply, void *priv)
{
	/* priv: what was asked, for the reason logged. */
	failed(ac, reply, priv != NULL ? priv : "AUTH");
}

/* AUTH with "user password" (an ACL user, Redis 6) or a password. */
static void
send_auth(redisAsyncContext *ac, const char *password, const char *what)
{
	const char	*sp = strchr(password, ' ');

	if (sp != NULL)
		redisAsyncCommand(ac, on_auth, (void *)(uintptr_t)what,
		    "AUTH %b %s", password, (size_t)(sp - password), sp + 1);
	else
		redisAsyncCommand(ac, on_auth, (void *)(uintptr_t)what,
		    "AUTH %s", password);
}

static void
on_cmd_ready(redisAsyncContext *ac, void *reply, void *priv)
{
	struct cl_conn	*cn = ac->data;

	(void)priv;
	if (failed(ac, reply, "PING"))
		return;
	cn->ready = true;
	maybe_synced(cn->c);
}

static void
apply_inbox(struct cluster *c)
{
	if (c->ninbox > 0 && c->apply != NULL)
		c->apply(c->arg, c->inbox, c->inbox_ttl, c->ninbox);
	c->ninbox = 0;
}

static void
apply_msg(struct cluster *c, const struct cluster_msg *m, uint64_t ttl)
{
	if (c->ninbox == INBOX)
		apply_inbox(c);
	c->inbox[c->ninbox] = *m;
	c->inbox_ttl[c->ninbox++] = ttl;
}

/* Every message of the channel, and the subscription's confirmation. */
static void
on_message(redisAsyncContext *ac, void *reply, void *priv)
{
	struct cl_conn		*cn = ac->data;
	struct cluster		*c = cn->c;
	const redisReply	*r = reply, *p;
	struct cluster_msg	 m;

	(void)priv;
	if (failed(ac, r, "SUBSCRIBE"))
		return;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    r->element[0]->type != REDIS_REPLY_STRING)
		return;
	if (strcmp(r->element[0]->str, "subscribe") == 0) {
		cn->ready = true;
		maybe_synced(c);
		return;
	}
	if (strcmp(r->element[0]->str, "message") != 0)
		return;
	p = r->element[2];
	if (p->type != REDIS_REPLY_STRING || cluster_decode(p->str, p->len,
	    &m) == -1) {
		c->st.ignored++;
		return;
	}
	if (strcmp(m.node, c->node) == 0)
		return;			/* our own, back from Redis */
	if (m.op == CLUSTER_ADD) {
		if (m.kind == CLUSTER_BIND)
			c->st.binds_in++;
		else
			c->st.events_in++;
		apply_msg(c, &m, m.ttl_ms * 1000000);
	} else {
		if (m.kind == CLUSTER_BIND)
			c->st.bind_removals_in++;
		else
			c->st.removals_in++;
		apply_msg(c, &m, 0);
	}
}

static void
start_connect(struct cluster *c)
{
	redisAsyncContext	*cmd, *sub;

	c->st.connects++;
	c->started = clock_mono();
	if (c->port == 0) {
		cmd = redisAsyncConnectUnix(c->host);
		sub = redisAsyncConnectUnix(c->host);
	} else {
		cmd = redisAsyncConnect(c->host, c->port);
		sub = redisAsyncConnect(c->host, c->port);
	}
	c->state = CL_CONNECTING;
	if (cmd == NULL || sub == NULL || cmd->err || sub->err) {
		fail(c, "connect: %s", cmd == NULL || sub == NULL ?
		    "out of memory" : cmd->err ? cmd->errstr : sub->errstr);
		if (cmd != NULL)
			redisAsyncFree(cmd);
		if (sub != NULL)
			redisAsyncFree(sub);
		return;
	}
	attach(&c->cmd, cmd);
	attach(&c->sub, sub);
	redisAsyncSetConnectCallback(cmd, on_connect);
	redisAsyncSetConnectCallback(sub, on_connect);
	redisAsyncSetDisconnectCallback(cmd, on_disconnect);
	redisAsyncSetDisconnectCallback(sub, on_disconnect);
	if (c->password[0] != '\0') {
		send_auth(cmd, c->password, "AUTH");
		send_auth(sub, c->password, "AUTH");
	}
	if (c->nsentinels > 0)
		redisAsyncCommand(cmd, on_role, NULL, "ROLE");
	redisAsyncCommand(cmd, on_cmd_ready, NULL, "PING");
	redisAsyncCommand(sub, on_message, NULL, "SUBSCRIBE %s", c->channel);
}

/* ---- Sentinel ------------------------------------------------------------ */

/*
 * With cluster.sentinels, every connection starts by asking a Sentinel
 * (the next one each time) for the master's address, then checks with
 * ROLE that the server it reached is the master: after a failover the
 * old master's connections drop (or it answers ROLE as a replica), the
 * node goes down and asks again, so it follows the new master within
 * Sentinel's own failover time plus the backoff.
 */
static void
on_master(redisAsyncContext *ac, void *reply, void *priv)
{
	struct cl_conn		*cn = ac->data;
	struct cluster		*c = cn->c;
	const redisReply	*r = reply;
	struct sg_addr		 a;
	char			*end;
	long			 port;

	(void)priv;
	if (failed(ac, r, "SENTINEL get-master-addr-by-name"))
		return;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_STRING) {
		fail(c, "Sentinel does not know master %s", c->master);
		return;
	}
	port = strtol(r->element[1]->str, &end, 10);
	if (r->element[0]->len >= sizeof(c->host) ||
	    sg_addr_parse(r->element[0]->str, &a) == -1 || *end != '\0' ||
	    port < 1 || port > 65535) {
		fail(c, "Sentinel names master %s at \"%.64s\" port \"%.8s\": "
		    "not an address", c->master, r->element[0]->str,
		    r->element[1]->str);
		return;
	}
	if (strcmp(c->host, r->element[0]->str) != 0 || c->port != port)
		log_info("cluster: Sentinel names %s's master at %s port %ld",
		    c->master, r->element[0]->str, port);
	snprintf(c->host, sizeof(c->host), "%s", r->element[0]->str);
	c->port = (int)port;
	snprintf(c->st.redis, sizeof(c->st.redis), "%s%s%s:%d (master %s)",
	    a.family == SG_AF_INET6 ? "[" : "", c->host, a.family ==
	    SG_AF_INET6 ? "]" : "", c->port, c->master);
	c->asked = true;
}

static void
start_ask(struct cluster *c)
{
	redisAsyncContext	*ac;
	int			 k = c->next_sentinel++ % c->nsentinels;

	c->st.connects++;
	c->started = clock_mono();
	c->state = CL_ASKING;
	c->asked = false;
	ac = c->sport[k] == 0 ? redisAsyncConnectUnix(c->sentinel[k]) :
	    redisAsyncConnect(c->sentinel[k], c->sport[k]);
	if (ac == NULL || ac->err) {
		fail(c, "Sentinel %s: %s", c->sentinel[k], ac == NULL ?
		    "out of memory" : ac->errstr);
		if (ac != NULL)
			redisAsyncFree(ac);
		return;
	}
	attach(&c->cmd, ac);
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	if (c->sentinel_password[0] != '\0')
		send_auth(ac, c->sentinel_password, "Sentinel AUTH");
	redisAsyncCommand(ac, on_master, NULL, "SENTINEL "
	    "get-master-addr-by-name %s", c->master);
}

/* The Sentinel answered: leave it (outside its callbacks), go to the
 * master. */
static void
to_master(struct cluster *c)
{
	c->asked = false;
	c->tearing = true;
	if (c->cmd.ac != NULL)
		redisAsyncFree(c->cmd.ac);
	c->tearing = false;
	start_connect(c);
}

static void
on_role(redisAsyncContext *ac, void *reply, void *priv)
{
	struct cl_conn		*cn = ac->data;
	const redisReply	*r = reply;

	(void)priv;
	if (failed(ac, r, "ROLE"))
		return;
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    strcmp(r->element[0]->str, "master") != 0)
		fail(cn->c, "%s port %d is not the master (ROLE %.16s)",
		    cn->c->host, cn->c->port, r->type == REDIS_REPLY_ARRAY &&
		    r->elements > 0 && r->element[0]->type ==
		    REDIS_REPLY_STRING ? r->element[0]->str : "?");
}

/* ---- publication --------------------------------------------------------- */

static void
on_put(redisAsyncContext *ac, void *reply, void *priv)
{
	struct cl_conn		*cn = ac->data;
	const redisReply	*r = reply;

	(void)priv;
	done_one(cn->c);
	/* A script's error (a foreign key of another type under our
	 * prefix) loses that message, not the connection. */
	if (r != NULL && r->type == REDIS_REPLY_ERROR) {
		if (cn->c->st.ignored++ == 0)
			log_warnx("cluster: Redis refused a message: %.128s",
			    r->str);
		return;
	}
	if (failed(ac, r, "EVAL"))
		return;
	if (r->type == REDIS_REPLY_INTEGER && r->integer == 0)
		cn->c->st.suppressed++;
}

/* A binding: the same scripts as a listing, its own keys and lives. */
static void
send_bind(struct cluster *c, struct cluster_msg *m, char *rec, char *key,
    char *tomb)
{
	snprintf(m->b.segment, sizeof(m->b.segment), "%s", c->segment);
	if (m->op == CLUSTER_ADD && m->ttl_ms > BIND_TTL_MAX_MS)
		m->ttl_ms = BIND_TTL_MAX_MS;
	if (cluster_bind_encode(m, rec, CLUSTER_MSG_MAX) == -1 ||
	    cluster_bind_key(c->name, m, false, key, CLUSTER_KEY_MAX) == -1 ||
	    cluster_bind_key(c->name, m, true, tomb, CLUSTER_KEY_MAX) == -1)
		return;
	if (m->op == CLUSTER_ADD) {
		if (redisAsyncCommand(c->cmd.ac, on_put, NULL,
		    "EVAL %s 2 %s %s %s %" PRIu64 " %" PRIu64 " %s",
		    bput_script, key, tomb, rec, m->stamp_ms, m->ttl_ms,
		    c->channel) != REDIS_OK)
			return;
		c->st.binds_out++;
	} else {
		if (redisAsyncCommand(c->cmd.ac, on_put, NULL,
		    "EVAL %s 2 %s %s %s %" PRIu64 " %s %" PRIu64, bdel_script,
		    key, tomb, rec, (uint64_t)BIND_TOMB_MS, c->channel,
		    m->stamp_ms) != REDIS_OK)
			return;
		c->st.bind_removals_out++;
	}
	c->st.pending++;
}

static void
send_msg(struct cluster *c, struct cluster_msg *m, uint64_t now)
{
	char	 rec[CLUSTER_MSG_MAX], key[CLUSTER_KEY_MAX];
	char	 tomb[CLUSTER_KEY_MAX];

	snprintf(m->node, sizeof(m->node), "%s", c->node);
	if (m->op == CLUSTER_ADD) {
		if (m->expires <= now + 1000000)
			return;		/* lapsed while queued */
		m->ttl_ms = (m->expires - now) / 1000000;
	}
	if (m->kind == CLUSTER_BIND) {
		send_bind(c, m, rec, key, tomb);
		return;
	}
	if (cluster_encode(m, rec, sizeof(rec)) == -1 ||
	    cluster_key(c->name, &m->key, false, key, sizeof(key)) == -1 ||
	    cluster_key(c->name, &m->key, true, tomb, sizeof(tomb)) == -1)
		return;
	if (m->op == CLUSTER_ADD) {
		if (redisAsyncCommand(c->cmd.ac, on_put, NULL,
		    "EVAL %s 2 %s %s %s %" PRIu64 " %" PRIu64 " %s", put_script,
		    key, tomb, rec, m->stamp_ms, m->ttl_ms, c->channel) !=
		    REDIS_OK)
			return;
		c->st.events_out++;
	} else {
		if (redisAsyncCommand(c->cmd.ac, on_put, NULL,
		    "EVAL %s 2 %s %s %s %" PRIu64 " %s", del_script, key, tomb,
		    rec, c->tomb_ttl / 1000000, c->channel) != REDIS_OK)
			return;
		c->st.removals_out++;
	}
	c->st.pending++;
}

static void
flush(struct cluster *c, uint64_t now)
{
	struct cluster_msg	 m;

	while (c->cmd.ac != NULL && !c->broken &&
	    c->st.pending < CLUSTER_PENDING && pop(c, &m))
		send_msg(c, &m, now);
}

/* After an operator's change (the control socket): at once, not at the
 * next tick. */
void
cluster_flush(struct cluster *c, uint64_t now)
{
	if (c != NULL && (c->state == CL_UP || c->state == CL_SYNCING))
		flush(c, now);
}

/* ---- resync -------------------------------------------------------------- */

static void	on_scan(redisAsyncContext *, void *, void *);

/* A page of values: apply each (ours too: a restarted node gets its own
 * entries back).  priv non-NULL: the last page. */
static void
on_page(redisAsyncContext *ac, void *reply, void *priv)
{
	struct cl_conn		*cn = ac->data;
	struct cluster		*c = cn->c;
	const redisReply	*r = reply;
	struct cluster_msg	 m;

	done_one(c);
	if (failed(ac, r, "resync"))
		return;
	if (r->type != REDIS_REPLY_ARRAY)
		return;
	for (size_t k = 0; k + 1 < r->elements; k += 2) {
		const redisReply	*v = r->element[k], *t = r->element[k +
					    1];
		uint64_t		 pttl;

		if (v->type != REDIS_REPLY_STRING || t->type !=
		    REDIS_REPLY_STRING || cluster_decode(v->str, v->len, &m) ==
		    -1) {
			c->st.ignored++;
			continue;
		}
		if (m.op == CLUSTER_ADD) {
			if (parse_u64(t->str, UINT64_MAX / 2000000, &pttl) ==
			    -1 || pttl == 0)
				continue;	/* lapsing, or no TTL (-1) */
			if (pttl > TTL_MAX_MS)
				pttl = TTL_MAX_MS;
			apply_msg(c, &m, pttl * 1000000);
		} else
			apply_msg(c, &m, 0);
		c->sync_entries++;
	}
	apply_inbox(c);
	if (priv != NULL && c->state == CL_SYNCING) {
		c->state = CL_UP;
		c->backoff = 0;
		c->st.down_since = 0;
		c->st.resyncs++;
		c->st.resync_entries = c->sync_entries;
		c->st.last_sync = clock_now();
		log_info("cluster: connected to redis %s as node %s: resync "
		    "applied %" PRIu64 " entr%s and removals", c->st.redis,
		    c->node, c->sync_entries, c->sync_entries == 1 ? "y" :
		    "ies");
		c->down_logged = false;
	}
}

/*
 * A page of a SCAN (what: the log's name for it): its keys read back in
 * one EVAL of get_script, answered to `cb' (given the cluster on the
 * last page).  False when the reply is not a page (the failure said);
 * *last: the cursor is done.
 */
static bool
get_page(struct cluster *c, redisAsyncContext *ac, const redisReply *r,
    const char *what, redisCallbackFn *cb, bool *last)
{
	const redisReply	*keys;
	const char		**argv;
	size_t			*argvlen, n;
	char			 nk[24];

	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_ARRAY) {
		fail(c, "%s: unexpected reply", what);
		return false;
	}
	keys = r->element[1];
	*last = strcmp(r->element[0]->str, "0") == 0;
	n = keys->elements;
	/* The main loop's own memory, once per page. */
	argv = calloc(n + 3, sizeof(*argv));
	argvlen = calloc(n + 3, sizeof(*argvlen));
	if (argv == NULL || argvlen == NULL) {
		free(argv);
		free(argvlen);
		fail(c, "%s: out of memory", what);
		return false;
	}
	snprintf(nk, sizeof(nk), "%zu", n);
	argv[0] = "EVAL";
	argv[1] = get_script;
	argv[2] = nk;
	argvlen[0] = 4;
	argvlen[1] = strlen(get_script);
	argvlen[2] = strlen(nk);
	for (size_t k = 0; k < n; k++) {
		argv[k + 3] = keys->element[k]->str;
		argvlen[k + 3] = keys->element[k]->len;
	}
	/* Copied into hiredis's buffer at once. */
	if (redisAsyncCommandArgv(ac, cb, *last ? (void *)c : NULL,
	    (int)(n + 3), argv, argvlen) == REDIS_OK)
		c->st.pending++;
	free(argv);
	free(argvlen);
	return true;
}

static void
on_scan(redisAsyncContext *ac, void *reply, void *priv)
{
	struct cl_conn		*cn = ac->data;
	struct cluster		*c = cn->c;
	const redisReply	*r = reply;
	bool			 last;
	char			 match[CONF_NAME_MAX + 4];

	(void)priv;
	done_one(c);
	if (failed(ac, r, "SCAN") || !get_page(c, ac, r, "SCAN", on_page,
	    &last) || last)
		return;
	snprintf(match, sizeof(match), "%s:*", c->name);
	if (redisAsyncCommand(ac, on_scan, NULL, "SCAN %s MATCH %s COUNT "
	    SCAN_COUNT, r->element[0]->str, match) == REDIS_OK)
		c->st.pending++;
}

/* Free slots in the queue, less a half kept for the workers. */
static uint32_t
room(struct cluster *c)
{
	uint32_t	 r;

	pthread_mutex_lock(&c->mu);
	r = c->qcap / 2 > c->qlen ? c->qcap / 2 - c->qlen : 0;
	pthread_mutex_unlock(&c->mu);
	return r;
}

/*
 * Both connections ready: republish what this node holds (what it
 * listed while away; a removal made meanwhile wins in the script), then
 * read everything live.  The commands run in order on one connection,
 * so the scan sees the republication.
 */
static void
begin_sync(struct cluster *c)
{
	char	 match[CONF_NAME_MAX + 4];

	c->state = CL_SYNCING;
	c->sync_entries = 0;
	c->ping_sent = 0;
	drop_adds(c);
	/* This node's entries and bindings, a page at a time (the tick goes
	 * on). */
	c->republishing = c->republish != NULL;
	if (c->republishing && c->republish(c->arg, true, room(c)))
		c->republishing = false;
	flush(c, clock_now());
	snprintf(match, sizeof(match), "%s:*", c->name);
	if (redisAsyncCommand(c->cmd.ac, on_scan, NULL, "SCAN 0 MATCH %s "
	    "COUNT " SCAN_COUNT, match) == REDIS_OK)
		c->st.pending++;
}

/* ---- forget in Redis ----------------------------------------------------- */

/*
 * `blacklist forget' removes what this node holds at once; the entries
 * other nodes listed that this one does not hold (its table evicted
 * them, or it joined after them and Redis lost them in between) are
 * found in Redis: a SCAN of the keys whose name could hold the MAC or
 * the address, their records read, and a removal queued for each whose
 * key names it exactly (the pattern only narrows the scan).
 */
static void	on_fscan(redisAsyncContext *, void *, void *);

static void
forget_scan(struct cluster *c, const char *cursor)
{
	const struct cl_forget	*f = &c->forget[0];
	char			 pat[CONF_NAME_MAX + SG_ADDRSTRLEN + 16];
	char			 what[SG_ADDRSTRLEN];

	if (f->is_mac)
		sg_mac_str(&f->m, true, what, sizeof(what));
	else
		sg_addr_str(&f->i, what, sizeof(what));
	snprintf(pat, sizeof(pat), "%s:bl:*:%s:*", c->name, what);
	if (redisAsyncCommand(c->cmd.ac, on_fscan, NULL, "SCAN %s MATCH %s "
	    "COUNT " SCAN_COUNT, cursor, pat) == REDIS_OK)
		c->st.pending++;
}

static void
forget_next(struct cluster *c)
{
	if (c->forgetting || c->nforget == 0 || c->cmd.ac == NULL ||
	    (c->state != CL_UP && c->state != CL_SYNCING))
		return;
	c->forgetting = true;
	forget_scan(c, "0");
}

/* A page of records: those naming forget[0] are removed.  priv: last. */
static void
on_fpage(redisAsyncContext *ac, void *reply, void *priv)
{
	struct cl_conn		*cn = ac->data;
	struct cluster		*c = cn->c;
	const redisReply	*r = reply;
	const struct cl_forget	*f = &c->forget[0];
	struct cluster_msg	 m;

	done_one(c);
	if (failed(ac, r, "forget"))
		return;
	for (size_t k = 0; r->type == REDIS_REPLY_ARRAY && k + 1 <
	    r->elements; k += 2) {
		const redisReply	*v = r->element[k];

		if (v->type != REDIS_REPLY_STRING || cluster_decode(v->str,
		    v->len, &m) == -1 || m.op != CLUSTER_ADD ||
		    m.kind != CLUSTER_BL)
			continue;
		if (f->is_mac ? memcmp(m.key.m, f->m.b, sizeof(f->m.b)) == 0 :
		    sg_addr_eq(&m.key.i, &f->i))
			cluster_removed(c, &m.key, f->now);
	}
	if (priv != NULL) {
		memmove(&c->forget[0], &c->forget[1], (size_t)(c->nforget - 1) *
		    sizeof(c->forget[0]));
		c->nforget--;
		c->forgetting = false;
		forget_next(c);
	}
	flush(c, clock_now());
}

static void
on_fscan(redisAsyncContext *ac, void *reply, void *priv)
{
	struct cl_conn		*cn = ac->data;
	struct cluster		*c = cn->c;
	const redisReply	*r = reply;
	bool			 last;

	(void)priv;
	done_one(c);
	if (failed(ac, r, "forget: SCAN") || !get_page(c, ac, r,
	    "forget: SCAN", on_fpage, &last) || last)
		return;
	forget_scan(c, r->element[0]->str);
}

void
cluster_forget(struct cluster *c, const struct sg_mac *m,
    const struct sg_addr *i, uint64_t now)
{
	struct cl_forget	*f;

	if (c == NULL || (m == NULL) == (i == NULL))
		return;
	if (c->nforget == FORGETS) {
		c->overflow_forget++;
		log_warnx("cluster: %d forgets waiting for Redis: this one is "
		    "done on this node only", FORGETS);
		return;
	}
	f = &c->forget[c->nforget++];
	memset(f, 0, sizeof(*f));
	f->is_mac = m != NULL;
	if (m != NULL)
		f->m = *m;
	else
		f->i = *i;
	f->now = now;
	forget_next(c);
}

/* ---- the loop ------------------------------------------------------------ */

static void
on_pong(redisAsyncContext *ac, void *reply, void *priv)
{
	struct cl_conn	*cn = ac->data;

	(void)priv;
	done_one(cn->c);
	if (!failed(ac, reply, "PING"))
		cn->c->ping_sent = 0;
}

void
cluster_event(struct cluster *c, void *p, uint32_t events)
{
	struct cl_conn	*cn = p;

	if (p == &c->wakefd) {
		uint64_t	 x;

		/* A worker listed something: publish it now. */
		(void)!read(c->wakefd, &x, sizeof(x));
		cluster_flush(c, clock_now());
		return;
	}
	if (cn->ac != NULL && (cn->mask & EPOLLIN) && (events & (EPOLLIN |
	    EPOLLERR | EPOLLHUP)))
		redisAsyncHandleRead(cn->ac);
	if (cn->ac != NULL && (cn->mask & EPOLLOUT) && (events & (EPOLLOUT |
	    EPOLLERR | EPOLLHUP)))
		redisAsyncHandleWrite(cn->ac);
	apply_inbox(c);
	if (!c->broken && c->asked)
		to_master(c);
	if (c->broken || (c->state != CL_DOWN && (c->cmd.ac == NULL ||
	    (c->state != CL_ASKING && c->sub.ac == NULL)))) {
		if (!c->broken)
			fail(c, "connection closed");
		teardown(c, clock_now());
	}
}

void
cluster_tick(struct cluster *c, uint64_t now)
{
	uint64_t	 mono = clock_mono();

	if (c->broken) {
		teardown(c, now);
		return;
	}
	switch (c->state) {
	case CL_DOWN:
		if (mono >= c->next_try) {
			if (c->nsentinels > 0)
				start_ask(c);
			else
				start_connect(c);
		}
		if (c->broken)
			teardown(c, now);
		return;
	case CL_ASKING:
	case CL_CONNECTING:
		if (mono - c->started > c->timeout) {
			fail(c, "no answer within cluster.timeout");
			teardown(c, now);
		}
		return;
	case CL_SYNCING:
	case CL_UP:
		break;
	}
	/* Partitioned, or Redis stuck: no answer within the timeout. */
	if (c->ping_sent != 0 && mono - c->ping_sent > c->timeout) {
		fail(c, "no answer within cluster.timeout");
		teardown(c, now);
		return;
	}
	if (c->ping_sent == 0 && mono - c->started >= PING_EVERY) {
		if (redisAsyncCommand(c->cmd.ac, on_pong, NULL, "PING") ==
		    REDIS_OK) {
			c->st.pending++;
			c->ping_sent = mono;
			c->started = mono;
		}
	}
	if (c->republishing && c->republish(c->arg, false, room(c)))
		c->republishing = false;
	flush(c, now);
	forget_next(c);
	if (c->broken)
		teardown(c, now);
}

void
cluster_status(struct cluster *c, struct cluster_status *s)
{
	*s = c->st;
	s->enabled = true;
	s->connected = c->state == CL_UP || c->state == CL_SYNCING;
	s->syncing = c->state == CL_SYNCING;
	pthread_mutex_lock(&c->mu);
	s->overflow = c->overflow + c->overflow_forget;
	s->removals_kept = c->removals_kept;
	s->binds_unshared = c->unshared;
	s->queued = c->qlen;
	pthread_mutex_unlock(&c->mu);
	s->queue_cap = c->qcap;
}

/* ---- lifecycle ----------------------------------------------------------- */

struct cluster *
cluster_create(const struct sg_conf *conf, int epfd, const char *password,
    char *err, size_t errlen)
{
	struct cluster	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->nsentinels = conf_sentinels(conf->cluster_sentinels, c->sentinel,
	    c->sport, err, errlen);
	if (c->nsentinels == -1) {
		free(c);
		return NULL;
	}
	snprintf(c->master, sizeof(c->master), "%s", conf->cluster_master);
	if (c->nsentinels == 0 && conf_redis_addr(conf->cluster_redis,
	    c->host, sizeof(c->host), &c->port) == -1) {
		snprintf(err, errlen, "cluster.redis \"%s\": not an address",
		    conf->cluster_redis);
		free(c);
		return NULL;
	}
	c->qcap = (uint32_t)conf->cluster_queue;
	if ((c->q = calloc(c->qcap, sizeof(*c->q))) == NULL) {
		snprintf(err, errlen, "cluster.queue %u: out of memory",
		    c->qcap);
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->mu, NULL);
	c->epfd = epfd;
	c->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->wakefd != -1) {
		struct epoll_event	 ev;

		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.ptr = &c->wakefd;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->wakefd, &ev) == -1) {
			close(c->wakefd);
			c->wakefd = -1;
		}
	}
	/* Without it the tick still publishes, a tenth of a second later. */
	if (c->wakefd == -1)
		log_warn("cluster: eventfd");
	c->cmd.c = c->sub.c = c;
	snprintf(c->node, sizeof(c->node), "%s", conf->cluster_node);
	/* "": the host's name up to its first dot. */
	if (c->node[0] == '\0' && gethostname(c->node, sizeof(c->node)) == 0) {
		c->node[sizeof(c->node) - 1] = '\0';
		c->node[strcspn(c->node, ".")] = '\0';
	}
	for (char *p = c->node; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("_-", *p) == NULL)
			*p = '_';
	if (c->node[0] == '\0')
		snprintf(c->node, sizeof(c->node), "node");
	/* "": every node its own segment, so no peer's MAC is trusted
	 * unless the operator says two nodes share one. */
	snprintf(c->segment, sizeof(c->segment), "%s",
	    conf->cluster_segment[0] != '\0' ? conf->cluster_segment :
	    c->node);
	snprintf(c->st.segment, sizeof(c->st.segment), "%s", c->segment);
	snprintf(c->name, sizeof(c->name), "%s", conf->cluster_name);
	snprintf(c->channel, sizeof(c->channel), "%s:events", c->name);
	snprintf(c->password, sizeof(c->password), "%s", password ? password :
	    "");
	c->timeout = conf->cluster_timeout;
	c->tomb_ttl = conf->blacklist_ttl;
	c->st.down_since = clock_now();
	if (c->nsentinels > 0)
		snprintf(c->st.redis, sizeof(c->st.redis), "master %s through "
		    "%d Sentinel(s)", c->master, c->nsentinels);
	else
		snprintf(c->st.redis, sizeof(c->st.redis), "%s",
		    conf->cluster_redis);
	snprintf(c->st.node, sizeof(c->st.node), "%s", c->node);
	snprintf(c->st.name, sizeof(c->st.name), "%s", c->name);
	snprintf(c->st.last_error, sizeof(c->st.last_error), "not connected "
	    "yet");
	log_info("cluster: node %s, segment %s, cluster %s, redis %s, queue "
	    "of %u messages (%zu KB)", c->node, c->segment, c->name,
	    c->st.redis,
	    c->qcap, (size_t)c->qcap * sizeof(*c->q) / 1024);
	return c;
}

void
cluster_set_apply(struct cluster *c, cluster_apply apply, void *arg)
{
	c->apply = apply;
	c->arg = arg;
}

void
cluster_set_sentinel_password(struct cluster *c, const char *password)
{
	snprintf(c->sentinel_password, sizeof(c->sentinel_password), "%s",
	    password != NULL ? password : "");
}

void
cluster_set_republish_page(struct cluster *c, cluster_republish_page fn)
{
	c->republish = fn;
}

const char *
cluster_segment(const struct cluster *c)
{
	return c->segment;
}

void
cluster_destroy(struct cluster *c)
{
	if (c == NULL)
		return;
	c->tearing = true;
	if (c->cmd.ac != NULL)
		redisAsyncFree(c->cmd.ac);
	if (c->sub.ac != NULL)
		redisAsyncFree(c->sub.ac);
	if (c->wakefd != -1) {
		epoll_ctl(c->epfd, EPOLL_CTL_DEL, c->wakefd, NULL);
		close(c->wakefd);
	}
	explicit_bzero(c->password, sizeof(c->password));
	explicit_bzero(c->sentinel_password, sizeof(c->sentinel_password));
	pthread_mutex_destroy(&c->mu);
	free(c->q);
	free(c);
}
