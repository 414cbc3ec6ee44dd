/*
 * conf.c: one schema table describes every key (type, range, where it is
 * stored); loading walks the file against it, so unknown keys, wrong
 * types and out-of-range values are all reported with file and line, and
 * `--set key=value' goes through exactly the same checks.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <ctype.h>

#include <libconfig.h>

#include "conf.h"

enum ktype {
	K_INT,		/* int */
	K_BOOL,		/* bool */
	K_ENUM,		/* int, one of `choices' */
	K_SECS,		/* uint64_t ns, from int or float seconds */
	K_FLOAT,	/* double */
	K_STR,		/* char[size] */
	K_ADDRS,	/* proxy addresses */
	K_CIDRS,	/* whitelist */
	K_MACS,		/* MAC list: `off' the array, `size' its count */
	K_GROUP,	/* a group that holds other keys */
};

struct key {
	const char	*path;
	enum ktype	 type;
	size_t		 off;
	double		 min, max;
	const char	*const *choices;
	size_t		 size;		/* K_STR buffer size */
};

static const char *const modes[] = { "prevent", "detect", NULL };
static const char *const nats[] = { "tolerant", "strict", "off", NULL };
static const char *const policies[] = { "drop", "accept", NULL };
static const char *const facilities[] = { "daemon", "user", "local0",
    "local1", "local2", "local3", "local4", "local5", "local6", "local7",
    "authpriv", NULL };

#define O(f)	offsetof(struct sg_conf, f)
#define S(f)	sizeof(((struct sg_conf *)0)->f)

static const struct key schema[] = {
	{ "mode", K_ENUM, O(mode), 0, 0, modes, 0 },
	{ "nat", K_ENUM, O(nat), 0, 0, nats, 0 },
	{ "malformed", K_ENUM, O(malformed), 0, 0, policies, 0 },
	{ "fragments", K_ENUM, O(fragments), 0, 0, policies, 0 },
	{ "not_sip", K_ENUM, O(not_sip), 0, 0, policies, 0 },
	{ "identities_per_device", K_INT, O(identities_per_device), 1, 1024,
	    NULL, 0 },
	{ "devices_per_identity", K_INT, O(devices_per_identity), 1, 1024,
	    NULL, 0 },
	{ "gateway_mac_ips", K_INT, O(gateway_mac_ips), 1, 1000000, NULL, 0 },
	{ "gateway_macs", K_MACS, O(gateway_macs), 0, 0, NULL,
	    O(ngateway_macs) },
	{ "whitelist", K_CIDRS, 0, 0, 0, NULL, 0 },
	{ "whitelist_file", K_STR, O(whitelist_file), 0, 0, NULL,
	    S(whitelist_file) },

	{ "proxy", K_GROUP, 0, 0, 0, NULL, 0 },
	{ "proxy.addresses", K_ADDRS, 0, 0, 0, NULL, 0 },
	{ "proxy.macs", K_MACS, O(proxy_macs), 0, 0, NULL, O(nproxy_macs) },

	{ "blacklist", K_GROUP, 0, 0, 0, NULL, 0 },
	{ "blacklist.ttl", K_SECS, O(blacklist_ttl), 1, 86400 * 30, NULL, 0 },
	{ "blacklist.size", K_INT, O(blacklist_size), 16, 1 << 24, NULL, 0 },
	{ "blacklist.forgery_rate", K_FLOAT, O(forgery_rate), 0, 1e6, NULL,
	    0 },

	{ "register", K_GROUP, 0, 0, 0, NULL, 0 },
	{ "register.timeout", K_SECS, O(register_timeout), 1, 600, NULL, 0 },
	{ "register.replay_window", K_SECS, O(replay_window), 1, 86400, NULL,
	    0 },
	{ "register.default_expires", K_SECS, O(default_expires), 1,
	    86400 * 7, NULL, 0 },

	{ "tables", K_GROUP, 0, 0, 0, NULL, 0 },
	{ "tables.bindings", K_INT, O(tab_bindings), 16, 1 << 24, NULL, 0 },
	{ "tables.identity_bytes", K_INT, O(tab_identity_bytes), 32, 256,
	    NULL, 0 },
	{ "tables.pending", K_INT, O(tab_pending), 16, 1 << 24, NULL, 0 },
	{ "tables.nonces", K_INT, O(tab_nonces), 16, 1 << 24, NULL, 0 },
	{ "tables.sources", K_INT, O(tab_sources), 16, 1 << 24, NULL, 0 },
	{ "tables.fragments", K_INT, O(tab_fragments), 1, 4096, NULL, 0 },
	{ "tables.streams", K_INT, O(tab_streams), 16, 1 << 22, NULL, 0 },
	{ "tables.whitelist", K_INT, O(tab_whitelist), 16, 1 << 16, NULL, 0 },
	{ "tables.stream_buffers", K_INT, O(tab_stream_buffers), 1, 65536,
	    NULL, 0 },

	{ "tcp", K_GROUP, 0, 0, 0, NULL, 0 },
	{ "tcp.idle_timeout", K_SECS, O(tcp_idle), 1, 86400, NULL, 0 },
	{ "tcp.streams_per_source", K_INT, O(tcp_per_source), 1, 1 << 20,
	    NULL, 0 },

	{ "bloom", K_GROUP, 0, 0, 0, NULL, 0 },
	{ "bloom.cells_per_binding", K_INT, O(bloom_cells), 2, 256, NULL, 0 },
	{ "bloom.hashes", K_INT, O(bloom_hashes), 1, 16, NULL, 0 },

	{ "training", K_GROUP, 0, 0, 0, NULL, 0 },
	{ "training.duration", K_SECS, O(training_duration), 0, 86400 * 7,
	    NULL, 0 },
	{ "training.baseline_file", K_STR, O(baseline_file), 0, 0, NULL,
	    S(baseline_file) },

	{ "flood", K_GROUP, 0, 0, 0, NULL, 0 },
	{ "flood.window", K_INT, O(window), 2, 15, NULL, 0 },
	{ "flood.min_samples", K_INT, O(min_samples), 1, 1000, NULL, 0 },
	{ "flood.min_rate", K_FLOAT, O(min_rate), 0, 1e6, NULL, 0 },
	{ "flood.ss_threshold", K_INT, O(ss_threshold), 2, 100000, NULL, 0 },
	{ "flood.ss_decay", K_SECS, O(ss_decay), 0.001, 3600, NULL, 0 },
	{ "flood.ss_rate_factor", K_FLOAT, O(ss_rate_factor), 0, 1000, NULL,
	    0 },
	{ "flood.ds_interval", K_SECS, O(ds_interval), 1, 60, NULL, 0 },
	{ "flood.ds_tolerance", K_FLOAT, O(ds_tolerance), 0, 1e9, NULL, 0 },
	{ "flood.ds_tolerance_ratio", K_FLOAT, O(ds_tolerance_ratio), 0, 1000,
	    NULL, 0 },
	{ "flood.ds_fast_ratio", K_FLOAT, O(ds_fast_ratio), 1, 1e6, NULL, 0 },
	{ "flood.ds2_ratio", K_FLOAT, O(ds2_ratio), 0.001, 1, NULL, 0 },
	{ "flood.ds2_samples", K_INT, O(ds2_samples), 1, 255, NULL, 0 },
	{ "flood.ds2_lift", K_FLOAT, O(ds2_lift), 1, 1000, NULL, 0 },
	{ "flood.ds2_hold", K_SECS, O(ds2_hold), 0, 3600, NULL, 0 },
	{ "flood.ir_ratio", K_FLOAT, O(ir_ratio), 0.001, 1, NULL, 0 },
	{ "flood.ir_samples", K_INT, O(ir_samples), 1, 255, NULL, 0 },
	{ "flood.ir_hold", K_SECS, O(ir_hold), 0, 3600, NULL, 0 },
	{ "flood.rise_factor", K_FLOAT, O(rise_factor), 1.1, 1000, NULL, 0 },
	{ "flood.rise_window", K_SECS, O(rise_window), 3, 3600, NULL, 0 },
	{ "flood.rise_min", K_INT, O(rise_min), 1, 1000000, NULL, 0 },
	{ "flood.rise_trend", K_FLOAT, O(rise_trend), 1, 1000, NULL, 0 },
	{ "flood.rise_margin", K_FLOAT, O(rise_margin), 0, 100, NULL, 0 },
	{ "flood.rise_spread_min", K_FLOAT, O(rise_spread_min), 0, 100, NULL,
	    0 },
	{ "flood.rise_spread_max", K_FLOAT, O(rise_spread_max), 0, 100, NULL,
	    0 },
	{ "flood.rise_block", K_BOOL, O(rise_block), 0, 0, NULL, 0 },
	{ "flood.admission_rate", K_FLOAT, O(admission_rate), 0, 1e9, NULL,
	    0 },
	{ "flood.admission_factor", K_FLOAT, O(admission_factor), 0, 1000,
	    NULL, 0 },
	{ "flood.admission_burst", K_INT, O(admission_burst), 1, 1000000,
	    NULL, 0 },
	{ "flood.bruteforce_failures", K_INT, O(bf_failures), 2, 100000, NULL,
	    0 },
	{ "flood.bruteforce_window", K_SECS, O(bf_window), 1, 86400, NULL, 0 },
	{ "flood.scan_identities", K_INT, O(scan_identities), 2, 100000, NULL,
	    0 },
	{ "flood.scan_sketches", K_INT, O(scan_sketches), 1, 65536, NULL, 0 },
	{ "flood.target_identities", K_INT, O(target_identities), 16,
	    1 << 24, NULL, 0 },
	{ "flood.target_failures", K_INT, O(target_failures), 2, 100000,
	    NULL, 0 },
	{ "flood.target_window", K_SECS, O(target_window), 1, 86400, NULL, 0 },
	{ "flood.target_guard", K_SECS, O(target_guard), 0, 86400, NULL, 0 },

	{ "queue", K_GROUP, 0, 0, 0, NULL, 0 },
	{ "queue.num", K_INT, O(queue_num), 0, 65535, NULL, 0 },
	{ "queue.count", K_INT, O(queue_count), 1, 64, NULL, 0 },
	{ "queue.maxlen", K_INT, O(queue_maxlen), 16, 1 << 20, NULL, 0 },
	{ "queue.fail_open", K_BOOL, O(queue_fail_open), 0, 0, NULL, 0 },
	{ "queue.batch", K_INT, O(queue_batch), 1, 1024, NULL, 0 },
	{ "queue.idle_warning", K_SECS, O(queue_idle_warning), 0, 86400, NULL,
	    0 },

	{ "startup", K_GROUP, 0, 0, 0, NULL, 0 },
	{ "startup.learn", K_SECS, O(startup_learn), 0, 86400, NULL, 0 },

	{ "bindings", K_GROUP, 0, 0, 0, NULL, 0 },
	{ "bindings.import_file", K_STR, O(import_file), 0, 0, NULL,
	    S(import_file) },
	{ "bindings.import_domain", K_STR, O(import_domain), 0, 0, NULL,
	    S(import_domain) },
	{ "bindings.grace", K_SECS, O(bind_grace), 0, 86400, NULL, 0 },

	{ "nft", K_GROUP, 0, 0, 0, NULL, 0 },
	{ "nft.enabled", K_BOOL, O(nft_enabled), 0, 0, NULL, 0 },
	{ "nft.keep", K_BOOL, O(nft_keep), 0, 0, NULL, 0 },
	{ "nft.admission_port", K_INT, O(admission_port), 0, 65535, NULL, 0 },
	{ "nft.admission_ceiling", K_INT, O(admission_ceiling), 0, 10000000,
	    NULL, 0 },

	{ "log", K_GROUP, 0, 0, 0, NULL, 0 },
	{ "log.facility", K_ENUM, O(log_facility_id), 0, 0, facilities, 0 },
	{ "log.aggregate", K_SECS, O(log_aggregate), 0, 3600, NULL, 0 },
	{ "log.budget", K_INT, O(log_budget), 0, 1000000, NULL, 0 },
	{ "log.burst", K_INT, O(log_burst), 1, 1000000, NULL, 0 },
	{ "log.budget_total", K_INT, O(log_budget_total), 0, 1000000, NULL,
	    0 },
	{ "log.json_file", K_STR, O(log_json_file), 0, 0, NULL,
	    S(log_json_file) },
	{ "log.json_drops_rate", K_INT, O(log_json_drops_rate), 0, 1000000,
	    NULL, 0 },

	{ "metrics", K_GROUP, 0, 0, 0, NULL, 0 },
	{ "metrics.file", K_STR, O(metrics_file), 0, 0, NULL,
	    S(metrics_file) },
	{ "metrics.interval", K_SECS, O(metrics_interval), 1, 3600, NULL, 0 },

	{ "capture", K_GROUP, 0, 0, 0, NULL, 0 },
	{ "capture.drops_file", K_STR, O(drops_file), 0, 0, NULL,
	    S(drops_file) },
	{ "capture.drops_size", K_INT, O(drops_size), 1 << 20, 1 << 30, NULL,
	    0 },
	{ "capture.drops_files", K_INT, O(drops_files), 1, 1000, NULL, 0 },
	{ "capture.drops_rate", K_INT, O(drops_rate), 1, 1000000, NULL, 0 },

	{ "state", K_GROUP, 0, 0, 0, NULL, 0 },
	{ "state.dir", K_STR, O(state_dir), 0, 0, NULL, S(state_dir) },
	{ "state.interval", K_SECS, O(state_interval), 0, 86400, NULL, 0 },

	{ "control", K_GROUP, 0, 0, 0, NULL, 0 },
	{ "control.socket", K_STR, O(control_socket), 0, 0, NULL,
	    S(control_socket) },

	{ "cluster", K_GROUP, 0, 0, 0, NULL, 0 },
	{ "cluster.enabled", K_BOOL, O(cluster_enabled), 0, 0, NULL, 0 },
	{ "cluster.node", K_STR, O(cluster_node), 0, 0, NULL,
	    S(cluster_node) },
	{ "cluster.segment", K_STR, O(cluster_segment), 0, 0, NULL,
	    S(cluster_segment) },
	{ "cluster.name", K_STR, O(cluster_name), 0, 0, NULL,
	    S(cluster_name) },
	{ "cluster.redis", K_STR, O(cluster_redis), 0, 0, NULL,
	    S(cluster_redis) },
	{ "cluster.sentinels", K_STR, O(cluster_sentinels), 0, 0, NULL,
	    S(cluster_sentinels) },
	{ "cluster.master", K_STR, O(cluster_master), 0, 0, NULL,
	    S(cluster_master) },
	{ "cluster.password_file", K_STR, O(cluster_password_file), 0, 0,
	    NULL, S(cluster_password_file) },
	{ "cluster.sentinel_password_file", K_STR,
	    O(cluster_sentinel_password_file), 0, 0, NULL,
	    S(cluster_sentinel_password_file) },
	{ "cluster.timeout", K_SECS, O(cluster_timeout), 0.1, 60, NULL, 0 },
	{ "cluster.queue", K_INT, O(cluster_queue), 16, 1 << 20, NULL, 0 },
};

#undef O

void
conf_defaults(struct sg_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->mode = MODE_PREVENT;
	c->nat = NAT_TOLERANT;
	c->malformed = POLICY_DROP;
	c->fragments = POLICY_DROP;
	c->not_sip = POLICY_DROP;
	c->identities_per_device = 8;
	c->devices_per_identity = 8;
	c->gateway_mac_ips = 8;

	c->blacklist_ttl = SEC(600);
	c->blacklist_size = 65536;
	c->forgery_rate = 50;
	c->register_timeout = SEC(32);
	c->replay_window = SEC(600);
	c->default_expires = SEC(3600);

	c->tab_bindings = 65536;
	c->tab_identity_bytes = 64;
	c->tab_pending = 16384;
	c->tab_nonces = 65536;
	c->tab_sources = 65536;
	c->tab_fragments = 64;
	c->tab_streams = 16384;
	c->tab_whitelist = 4096;
	c->tab_stream_buffers = 256;
	c->tcp_idle = SEC(7200);
	c->tcp_per_source = 256;
	c->bloom_cells = 16;
	c->bloom_hashes = 4;

	c->training_duration = SEC(1800);
	c->window = 15;
	c->min_samples = 4;
	c->min_rate = 0.5;
	c->ss_threshold = 25;
	c->ss_decay = SEC(1);
	c->ss_rate_factor = 4;
	c->ds_interval = SEC(20);
	c->ds_tolerance = 5;
	c->ds_tolerance_ratio = 1.7;
	c->ds_fast_ratio = 5;
	c->ds2_ratio = 0.4;
	c->ds2_samples = 3;
	c->ds2_lift = 2.5;
	c->ds2_hold = SEC(10);
	c->ir_ratio = 0.2;
	c->ir_samples = 3;
	c->ir_hold = SEC(10);
	c->rise_factor = 3.0;
	c->rise_window = SEC(45);
	c->rise_min = 20;
	c->rise_trend = 1.5;
	c->rise_margin = 2.0;
	c->rise_spread_min = 0.25;
	c->rise_spread_max = 2.25;
	c->admission_rate = 10;
	c->admission_factor = 2;
	c->admission_burst = 20;
	c->bf_failures = 10;
	c->bf_window = SEC(60);
	c->scan_identities = 10;
	c->scan_sketches = 256;
	c->target_identities = 16384;
	c->target_failures = 20;
	c->target_window = SEC(60);
	c->target_guard = SEC(300);
	c->queue_num = 0;
	c->queue_count = 1;
	c->queue_maxlen = 4096;
	c->queue_fail_open = true;
	c->queue_batch = 64;
	c->queue_idle_warning = SEC(60);
	c->startup_learn = SEC(3600);
	c->bind_grace = SEC(1800);
	c->nft_enabled = true;
	c->admission_port = 5060;
	c->admission_ceiling = 50000;
	c->log_aggregate = SEC(10);
	c->log_budget = 20;
	c->log_burst = 40;
	c->log_budget_total = 250;
	c->log_json_drops_rate = 1000;
	c->metrics_interval = SEC(15);
	c->drops_size = 16 << 20;
	c->drops_files = 4;
	c->drops_rate = 1000;
	snprintf(c->state_dir, sizeof(c->state_dir), "%s", SG_STATE_DIR);
	c->state_interval = SEC(300);
	snprintf(c->control_socket, sizeof(c->control_socket), "%s",
	    SG_CTL_PATH);
	c->cluster_enabled = false;
	/* cluster.node "": the host's name, at start (cluster.c). */
	snprintf(c->cluster_name, sizeof(c->cluster_name), "sipguard");
	snprintf(c->cluster_redis, sizeof(c->cluster_redis), "127.0.0.1:6379");
	c->cluster_timeout = SEC(2);
	c->cluster_queue = 16384;
}

/* ---- error collection ------------------------------------------------ */

static void
err_add(struct conf_errors *e, const config_setting_t *s, const char *file,
    const char *key, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
err_add(struct conf_errors *e, const config_setting_t *s, const char *file,
    const char *key, const char *fmt, ...)
{
	va_list		 ap;
	int		 n;
	size_t		 room;
	unsigned int	 line = s ? config_setting_source_line(s) : 0;
	const char	*sfile = s ? config_setting_source_file(s) : NULL;

	e->count++;
	if (e->len >= sizeof(e->buf) - 1)
		return;
	room = sizeof(e->buf) - e->len;
	/* A setting without a source line came from --set. */
	if (s != NULL && line == 0)
		n = snprintf(e->buf + e->len, room, "--set: %s: ", key);
	else if (sfile == NULL || line == 0)
		n = snprintf(e->buf + e->len, room, "%s: %s: ",
		    sfile ? sfile : file, key);
	else
		n = snprintf(e->buf + e->len, room, "%s:%u: %s: ", sfile, line,
		    key);
	if (n < 0 || (size_t)n >= room) {
		e->len = sizeof(e->buf) - 1;
		return;
	}
	e->len += (size_t)n;
	room -= (size_t)n;
	va_start(ap, fmt);
	n = vsnprintf(e->buf + e->len, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room - 1) {
		e->len = sizeof(e->buf) - 1;
		return;
	}
	e->len += (size_t)n;
	e->buf[e->len++] = '\n';
	e->buf[e->len] = '\0';
}

/* ---- libconfig 1.5's tokens, for the checks before it parses ---------- */

/*
 * Just enough of libconfig 1.5's scanner (scanner.l) to find its string
 * and number tokens and the names before them, skipping comments, so
 * the checks below see the file as libconfig will.
 */
enum lx_tok {
	LX_END,
	LX_STRING,	/* "...", a backslash escaping the next byte */
	LX_OPEN,	/* a string still open at the end of the file */
	LX_NUMBER,	/* integer, hex, float, with their sign and suffix */
	LX_NAME,	/* a setting name (or true/false) */
	LX_INCLUDE,	/* @include "path" at the start of a line: the path */
	LX_PUNCT,	/* = : ; , { } [ ] ( ), or a stray byte */
};

struct lx {
	const char	*p;
	int		 line;		/* of p */
	bool		 bol;		/* only blanks since the last newline */
	const char	*start, *end;	/* the last token */
	int		 tline;		/* the line it starts on */
};

static void
lx_init(struct lx *l, const char *text)
{
	memset(l, 0, sizeof(*l));
	l->p = text;
	l->line = 1;
	l->bol = true;
}

/* Blanks and comments (#, //, C style). */
static void
lx_skip(struct lx *l)
{
	const char	*p = l->p;

	for (;;) {
		if (*p == '\n') {
			l->line++;
			l->bol = true;
			p++;
		} else if (*p == ' ' || *p == '\t')
			p++;
		else if (isspace((unsigned char)*p)) {
			l->bol = false;
			p++;
		} else if (*p == '#' || (*p == '/' && p[1] == '/')) {
			while (*p != '\0' && *p != '\n')
				p++;
		} else if (*p == '/' && p[1] == '*') {
			for (p += 2; *p != '\0' && !(*p == '*' && p[1] == '/');
			    p++)
				if (*p == '\n')
					l->line++;
			if (*p != '\0')
				p += 2;
			l->bol = false;
		} else
			break;
	}
	l->p = p;
}

static bool
lx_number_start(const char *p)
{
	if (*p == '-' || *p == '+')
		p++;
	if (*p == '.')
		p++;
	return isdigit((unsigned char)*p);
}

/* The rest of a quoted string from `p' (past its quote); NULL: open. */
static const char *
lx_string(struct lx *l, const char *p, bool escapes)
{
	for (; *p != '"'; p++) {
		if (*p == '\0')
			return NULL;
		if (escapes && *p == '\\' && p[1] != '\0')
			p++;
		if (*p == '\n')
			l->line++;
	}
	return p;
}

static enum lx_tok
lx_next(struct lx *l)
{
	const char	*p, *q;
	bool		 bol;

	lx_skip(l);
	p = l->start = l->end = l->p;
	l->tline = l->line;
	bol = l->bol;
	l->bol = false;
	if (*p == '\0')
		return LX_END;
	if (*p == '"') {
		if ((q = lx_string(l, p + 1, true)) == NULL) {
			l->p = l->end = p + strlen(p);
			return LX_OPEN;
		}
		l->p = l->end = q + 1;
		return LX_STRING;
	}
	/* ^[ \t]*@include[ \t]+\" in the scanner; the path has no escapes. */
	if (bol && strncmp(p, "@include", 8) == 0 &&
	    (p[8] == ' ' || p[8] == '\t')) {
		for (q = p + 8; *q == ' ' || *q == '\t'; q++)
			;
		if (*q == '"') {
			l->start = q + 1;
			if ((q = lx_string(l, q + 1, false)) == NULL) {
				l->p = l->end = l->start + strlen(l->start);
				return LX_OPEN;
			}
			l->end = q;
			l->p = q + 1;
			return LX_INCLUDE;
		}
	}
	if (lx_number_start(p)) {
		bool	 hex;

		q = p + (*p == '-' || *p == '+');
		hex = q[0] == '0' && (q[1] == 'x' || q[1] == 'X');
		/* Digits, point, exponent (with its sign), L suffix. */
		while (isalnum((unsigned char)*q) || *q == '.' || *q == '_' ||
		    (!hex && (*q == '-' || *q == '+') &&
		    (q[-1] == 'e' || q[-1] == 'E')))
			q++;
		l->p = l->end = q;
		return LX_NUMBER;
	}
	if (isalpha((unsigned char)*p) || *p == '*') {
		for (q = p + 1; isalnum((unsigned char)*q) || *q == '-' ||
		    *q == '_' || *q == '*'; q++)
			;
		l->p = l->end = q;
		return LX_NAME;
	}
	l->p = l->end = p + 1;
	return LX_PUNCT;
}

/* ---- integers libconfig 1.5 would wrap --------------------------------- */

/*
 * libconfig 1.5 reads an integer literal without an L suffix with atoi():
 * 4294967396 becomes 100.  Find such literals (outside strings and
 * comments) and remember the lines from the name before each to the
 * literal, since the setting's source line is its name's and the value
 * may follow on another (`size =\n 4294967396;'): a key in that range
 * is refused instead of silently taking a small value.
 */
#define WIDE_MAX	64

struct wide {
	int		 from[WIDE_MAX], to[WIDE_MAX];
	int		 n;
};

static bool
wide_literal(const char *p)
{
	unsigned long long	 v;
	char			*end;
	int			 base = 10;

	if (*p == '-' || *p == '+')
		p++;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		base = 16;
	errno = 0;
	v = strtoull(p, &end, base);
	/* A float (1.5, 2e9) or a 64-bit literal (L) is read correctly. */
	if (end == p || *end == '.' || *end == 'e' || *end == 'E' ||
	    *end == 'L')
		return false;
	return errno == ERANGE || v > 2147483647ULL;
}

static void
wide_scan(const char *text, struct wide *w)
{
	struct lx	 l;
	enum lx_tok	 t;
	int		 name = 1;

	w->n = 0;
	lx_init(&l, text);
	while ((t = lx_next(&l)) != LX_END && t != LX_OPEN) {
		if (t == LX_NAME)
			name = l.tline;
		else if (t == LX_NUMBER && wide_literal(l.start) &&
		    w->n < WIDE_MAX) {
			w->from[w->n] = name;
			w->to[w->n++] = l.tline;
		}
	}
}

static bool
wide_at(const struct wide *w, int line)
{
	for (int k = 0; k < w->n; k++)
		if (w->from[k] <= line && line <= w->to[k])
			return true;
	return false;
}

/* ---- strings libconfig 1.5 would leak --------------------------------- */

/*
 * libconfig 1.5 leaks the string token it holds when it finds a syntax
 * error there (the parser drops its lookahead without freeing it): after
 * a quote missing upstream, strings pair up wrongly and one lands where
 * no value can be.  Each refused SIGHUP reload of such a file grew the
 * daemon.  The grammar takes a string only as a value: after `=' or `:',
 * after `[' or `(', after `,' inside them, or after another string (they
 * concatenate).  Any other string is refused here, with its line,
 * before libconfig reads the file; included files alike.  A name or a
 * number at an error costs libconfig nothing.  A string the file ends in
 * is refused too: libconfig reports an error or, at the top level, reads
 * nothing after the quote and accepts the file.
 */
#define NEST_MAX	64
#define INCLUDE_MAX	10	/* libconfig's own limit */

static void
err_syntax(struct conf_errors *e, const char *file, int line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
err_syntax(struct conf_errors *e, const char *file, int line,
    const char *fmt, ...)
{
	va_list		 ap;
	char		 msg[256];
	size_t		 room = sizeof(e->buf) - e->len;
	int		 n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e->count++;
	if (line > 0)
		n = snprintf(e->buf + e->len, room, "%s:%d: syntax: %s\n",
		    file, line, msg);
	else
		n = snprintf(e->buf + e->len, room, "%s: %s\n", file, msg);
	if (n < 0 || (size_t)n >= room)
		e->len = strlen(e->buf);
	else
		e->len += (size_t)n;
}

/*
 * The whole of a regular file with no NUL byte, NUL-terminated; NULL,
 * with an error, for anything else.
 */
static char *
read_text(FILE *fp, const char *path, struct conf_errors *e)
{
	struct stat	 sb;
	long		 size;
	size_t		 got;
	char		*text, *nul;

	/* libconfig exit()s on reading a directory: never hand it one. */
	if (fstat(fileno(fp), &sb) == -1 || !S_ISREG(sb.st_mode)) {
		err_syntax(e, path, 0, "not a regular file");
		return NULL;
	}
	if (fseek(fp, 0, SEEK_END) != 0 || (size = ftell(fp)) < 0 ||
	    size >= (1 << 24) || fseek(fp, 0, SEEK_SET) != 0 ||
	    (text = malloc((size_t)size + 1)) == NULL) {
		err_syntax(e, path, 0, "cannot read (16 MB at most)");
		return NULL;
	}
	got = fread(text, 1, (size_t)size, fp);
	text[got] = '\0';
	/* A NUL would hide the rest of the file from strings_check. */
	if ((nul = memchr(text, '\0', got)) != NULL) {
		int	 line = 1;

		for (const char *q = text; q < nul; q++)
			line += *q == '\n';
		err_syntax(e, path, line, "a NUL byte in the file");
		free(text);
		return NULL;
	}
	return text;
}

static bool
string_may_follow(enum lx_tok prev, char pc, const char *nest, int n)
{
	if (prev == LX_STRING)
		return true;
	if (prev != LX_PUNCT)
		return false;
	if (pc == '=' || pc == ':' || pc == '[' || pc == '(')
		return true;
	/* Outside a list or an array, `,' ends a setting, as `;' does. */
	return pc == ',' && n > 0 && nest[n - 1] != '{';
}

static int	strings_file(const char *, int, struct conf_errors *);

static int
strings_check(const char *text, const char *file, int depth,
    struct conf_errors *e)
{
	struct lx	 l;
	enum lx_tok	 t, prev = LX_PUNCT;
	char		 pc = ';', nest[NEST_MAX], inc[1024];
	int		 n = 0, from = 0, to = 0;
	const char	*what = NULL;

	lx_init(&l, text);
	while (what == NULL && (t = lx_next(&l)) != LX_END) {
		char	 c = *l.start;

		if (t == LX_OPEN)
			what = "string not closed";
		else if (t == LX_STRING && !string_may_follow(prev, pc, nest,
		    n))
			what = "a string cannot stand here";
		else if (t == LX_STRING && l.line > l.tline) {
			/* Rare in a configuration: the likely culprit. */
			from = l.tline;
			to = l.line;
		} else if (t == LX_INCLUDE &&
		    (size_t)(l.end - l.start) < sizeof(inc)) {
			memcpy(inc, l.start, (size_t)(l.end - l.start));
			inc[l.end - l.start] = '\0';
			if (strings_file(inc, depth + 1, e) == -1)
				return -1;
		} else if (t == LX_PUNCT && (c == '{' || c == '[' ||
		    c == '(')) {
			if (n == NEST_MAX)
				what = "nested too deep";
			else
				nest[n++] = c;
		} else if (t == LX_PUNCT && (c == '}' || c == ']' ||
		    c == ')') && n > 0)
			n--;
		prev = t;
		pc = c;
	}
	if (what == NULL)
		return 0;
	if (from > 0)
		err_syntax(e, file, l.tline, "%s; the string at line %d runs "
		    "to line %d: a quote missing?", what, from, to);
	else
		err_syntax(e, file, l.tline, "%s", what);
	return -1;
}

/* An included file, opened as libconfig will (the path as written). */
static int
strings_file(const char *path, int depth, struct conf_errors *e)
{
	FILE	*fp;
	char	*text;
	int	 rc = 0;

	/* Too deep or unreadable: libconfig says so, leaking nothing. */
	if (depth > INCLUDE_MAX || (fp = fopen(path, "r")) == NULL)
		return 0;
	if ((text = read_text(fp, path, e)) != NULL) {
		rc = strings_check(text, path, depth, e);
		free(text);
	} else
		rc = -1;
	fclose(fp);
	return rc;
}

/* ---- walking the file ------------------------------------------------- */

/* What walk() carries down the tree to every key it loads. */
struct load {
	const char		*file;	/* for settings with no source file */
	struct sg_conf		*c;
	struct conf_errors	*e;
	const struct wide	*wide;	/* literals libconfig 1.5 wrapped */
};

/* Where key `k' is stored in the configuration being loaded. */
static void *
field(const struct load *ld, const struct key *k)
{
	return (char *)ld->c + k->off;
}

static const struct key *
schema_find(const char *path)
{
	for (size_t k = 0; k < nitems(schema); k++)
		if (strcmp(schema[k].path, path) == 0)
			return &schema[k];
	return NULL;
}

static const char *
type_name(int t)
{
	switch (t) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a number";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	case CONFIG_TYPE_GROUP:
		return "a group";
	default:
		return "a value";
	}
}

static bool
is_number(const config_setting_t *s)
{
	int	 t = config_setting_type(s);

	return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64 ||
	    t == CONFIG_TYPE_FLOAT;
}

static double
number(const config_setting_t *s)
{
	if (config_setting_type(s) == CONFIG_TYPE_FLOAT)
		return config_setting_get_float(s);
	return (double)config_setting_get_int64(s);
}

/* A list or array of strings; each element goes through `parse'. */
static void
load_strings(const config_setting_t *s, const char *path,
    const struct load *ld, int max, const char *what,
    int (*parse)(const char *, void *), void *out, size_t elemsz, int *n)
{
	int	 len, t = config_setting_type(s);

	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
		err_add(ld->e, s, ld->file, path, "must be a list of strings, "
		    "not %s", type_name(t));
		return;
	}
	len = config_setting_length(s);
	if (len > max) {
		err_add(ld->e, s, ld->file, path, "at most %d entries (%d "
		    "given)", max, len);
		len = max;
	}
	*n = 0;
	for (int k = 0; k < len; k++) {
		const config_setting_t	*el = config_setting_get_elem(s,
		    (unsigned)k);
		const char		*v = config_setting_get_string(el);

		if (v == NULL) {
			err_add(ld->e, el, ld->file, path, "entry %d: %s, not "
			    "a string (%s)", k + 1,
			    type_name(config_setting_type(el)), what);
			continue;
		}
		if (parse(v, (char *)out + (size_t)*n * elemsz) == -1) {
			err_add(ld->e, el, ld->file, path, "entry %d: \"%s\" "
			    "is not a valid %s", k + 1, v, what);
			continue;
		}
		(*n)++;
	}
}

static int
parse_addr(const char *v, void *out)
{
	return sg_addr_parse(v, out);
}

static int
parse_wl(const char *v, void *out)
{
	return sg_wl_parse(v, out);
}

static int
parse_mac(const char *v, void *out)
{
	return sg_mac_parse(v, out);
}

/* K_INT, K_SECS, K_FLOAT: a number within [min, max], stored by type. */
static void
load_number(const struct key *k, const config_setting_t *s,
    const struct load *ld)
{
	int	 t = config_setting_type(s);
	double	 v;

	if (!is_number(s) || (k->type == K_INT && t == CONFIG_TYPE_FLOAT)) {
		err_add(ld->e, s, ld->file, k->path, "must be %s, not %s",
		    k->type == K_INT ? "an integer" : "a number",
		    type_name(t));
		return;
	}
	if (t == CONFIG_TYPE_INT &&
	    wide_at(ld->wide, (int)config_setting_source_line(s))) {
		err_add(ld->e, s, ld->file, k->path, "integer too large "
		    "(write it with an L suffix if you mean it)");
		return;
	}
	v = number(s);
	if (v < k->min || v > k->max) {
		err_add(ld->e, s, ld->file, k->path, "%.15g is out of range "
		    "[%.15g, %.15g]", v, k->min, k->max);
		return;
	}
	if (k->type == K_INT)
		*(int *)field(ld, k) = (int)v;
	else if (k->type == K_FLOAT)
		*(double *)field(ld, k) = v;
	else
		*(uint64_t *)field(ld, k) =
		    (uint64_t)(v * (double)NS_PER_SEC + 0.5);
}

static void
load_bool(const struct key *k, const config_setting_t *s,
    const struct load *ld)
{
	int	 t = config_setting_type(s);

	if (t != CONFIG_TYPE_BOOL) {
		err_add(ld->e, s, ld->file, k->path, "must be true or false, "
		    "not %s", type_name(t));
		return;
	}
	*(bool *)field(ld, k) = config_setting_get_bool(s) != 0;
}

/* K_ENUM: the index of the string among `choices', else all of them. */
static void
load_enum(const struct key *k, const config_setting_t *s,
    const struct load *ld)
{
	const char	*str = config_setting_get_string(s);
	char		 list[128] = "";

	if (str != NULL) {
		for (int i = 0; k->choices[i] != NULL; i++)
			if (strcmp(str, k->choices[i]) == 0) {
				*(int *)field(ld, k) = i;
				return;
			}
	}
	for (int i = 0; k->choices[i] != NULL; i++) {
		strncat(list, i ? ", \"" : "\"",
		    sizeof(list) - strlen(list) - 1);
		strncat(list, k->choices[i], sizeof(list) - strlen(list) - 1);
		strncat(list, "\"", sizeof(list) - strlen(list) - 1);
	}
	err_add(ld->e, s, ld->file, k->path, "must be one of %s", list);
}

/* K_STR: copied whole into its char[size], or refused. */
static void
load_str(const struct key *k, const config_setting_t *s,
    const struct load *ld)
{
	const char	*str = config_setting_get_string(s);

	if (str == NULL) {
		err_add(ld->e, s, ld->file, k->path, "must be a string, not %s",
		    type_name(config_setting_type(s)));
		return;
	}
	if (strlen(str) >= k->size) {
		err_add(ld->e, s, ld->file, k->path, "longer than %zu bytes",
		    k->size - 1);
		return;
	}
	memcpy(field(ld, k), str, strlen(str) + 1);
}

static void
load_key(const struct key *k, const config_setting_t *s,
    const struct load *ld)
{
	struct sg_conf	*c = ld->c;
	int		 t = config_setting_type(s);

	switch (k->type) {
	case K_GROUP:
		if (t != CONFIG_TYPE_GROUP)
			err_add(ld->e, s, ld->file, k->path, "must be a group "
			    "{ ... }, not %s", type_name(t));
		return;
	case K_INT:
	case K_SECS:
	case K_FLOAT:
		load_number(k, s, ld);
		return;
	case K_BOOL:
		load_bool(k, s, ld);
		return;
	case K_ENUM:
		load_enum(k, s, ld);
		return;
	case K_STR:
		load_str(k, s, ld);
		return;
	case K_ADDRS:
		load_strings(s, k->path, ld, CONF_MAX_ADDRS, "IP address",
		    parse_addr, c->proxy, sizeof(c->proxy[0]), &c->nproxy);
		return;
	case K_CIDRS:
		load_strings(s, k->path, ld, CONF_MAX_CIDRS,
		    "address or CIDR prefix [MAC]", parse_wl, c->whitelist,
		    sizeof(c->whitelist[0]), &c->nwhitelist);
		return;
	case K_MACS:
		load_strings(s, k->path, ld, CONF_MAX_MACS, "MAC address",
		    parse_mac, field(ld, k), sizeof(struct sg_mac),
		    (int *)(void *)((char *)c + k->size));
		return;
	}
}

static void
walk(const config_setting_t *g, const char *prefix, const struct load *ld)
{
	char	 path[256];
	int	 n = config_setting_length(g);

	for (int k = 0; k < n; k++) {
		const config_setting_t	*s = config_setting_get_elem(g,
		    (unsigned)k);
		const char		*name = config_setting_name(s);
		const struct key	*key;

		if (name == NULL)
			continue;
		snprintf(path, sizeof(path), "%s%s%s", prefix,
		    *prefix ? "." : "", name);
		if ((key = schema_find(path)) == NULL) {
			err_add(ld->e, s, ld->file, path, "unknown key");
			continue;
		}
		load_key(key, s, ld);
		if (key->type == K_GROUP &&
		    config_setting_type(s) == CONFIG_TYPE_GROUP)
			walk(s, path, ld);
	}
}

/* ---- --set key=value -------------------------------------------------- */

static config_setting_t *
copy_setting(config_setting_t *parent, const char *name,
    const config_setting_t *src)
{
	int			 t = config_setting_type(src);
	config_setting_t	*dst;

	if (name != NULL && config_setting_get_member(parent, name) != NULL)
		config_setting_remove(parent, name);
	if ((dst = config_setting_add(parent, name, t)) == NULL)
		return NULL;
	switch (t) {
	case CONFIG_TYPE_INT:
		config_setting_set_int(dst, config_setting_get_int(src));
		break;
	case CONFIG_TYPE_INT64:
		config_setting_set_int64(dst, config_setting_get_int64(src));
		break;
	case CONFIG_TYPE_FLOAT:
		config_setting_set_float(dst, config_setting_get_float(src));
		break;
	case CONFIG_TYPE_BOOL:
		config_setting_set_bool(dst, config_setting_get_bool(src));
		break;
	case CONFIG_TYPE_STRING:
		config_setting_set_string(dst, config_setting_get_string(src));
		break;
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST:
	case CONFIG_TYPE_GROUP:
		for (int k = 0; k < config_setting_length(src); k++) {
			const config_setting_t *el =
			    config_setting_get_elem(src, (unsigned)k);

			if (copy_setting(dst, t == CONFIG_TYPE_GROUP ?
			    config_setting_name(el) : NULL, el) == NULL)
				return NULL;
		}
		break;
	}
	return dst;
}

static void
apply_set(config_t *cfg, const char *set, struct conf_errors *e)
{
	char			 key[256], text[4096], *seg, *next;
	char			*save = NULL;
	const char		*eq = strchr(set, '=');
	config_t		 tmp;
	config_setting_t	*parent, *child;
	size_t			 klen;

	if (eq == NULL) {
		err_add(e, NULL, "--set", set, "expected key=value");
		return;
	}
	klen = (size_t)(eq - set);
	while (klen > 0 && set[klen - 1] == ' ')
		klen--;
	if (klen == 0 || klen >= sizeof(key)) {
		err_add(e, NULL, "--set", set, "bad key");
		return;
	}
	memcpy(key, set, klen);
	key[klen] = '\0';
	if (schema_find(key) == NULL) {
		err_add(e, NULL, "--set", key, "unknown key");
		return;
	}
	{
		struct wide	 w;

		wide_scan(eq + 1, &w);
		if (w.n > 0) {
			err_add(e, NULL, "--set", key, "integer too large "
			    "(write it with an L suffix if you mean it)");
			return;
		}
	}
	snprintf(text, sizeof(text), "v = %s;", eq + 1);
	/* What libconfig would leak or exit() on, as in a file. */
	if (strings_check(text, "--set", 0, e) == -1)
		return;
	config_init(&tmp);
	if (config_read_string(&tmp, text) == CONFIG_FALSE) {
		const char *v = eq + 1;

		while (*v == ' ')
			v++;
		err_add(e, NULL, "--set", key, "bad value \"%s\": %s%s", eq + 1,
		    config_error_text(&tmp), (*v >= 'a' && *v <= 'z' &&
		    strncmp(v, "true", 4) != 0 && strncmp(v, "false", 5) != 0) ?
		    " (strings take double quotes)" : "");
		config_destroy(&tmp);
		return;
	}
	/* Walk or create the groups down to the leaf, then replace it. */
	parent = config_root_setting(cfg);
	for (seg = strtok_r(key, ".", &save); seg != NULL; seg = next) {
		next = strtok_r(NULL, ".", &save);
		if (next == NULL) {
			copy_setting(parent, seg, config_lookup(&tmp, "v"));
			break;
		}
		child = config_setting_get_member(parent, seg);
		if (child == NULL || config_setting_type(child) !=
		    CONFIG_TYPE_GROUP) {
			if (child != NULL)
				config_setting_remove(parent, seg);
			child = config_setting_add(parent, seg,
			    CONFIG_TYPE_GROUP);
		}
		parent = child;
	}
	config_destroy(&tmp);
}

/*
 * The file into `cfg', once nothing in it can make libconfig 1.5 exit()
 * or leak (read_text, strings_check); the integer literals it would wrap
 * into `wide' (wide_scan).
 */
static int
read_file(config_t *cfg, const char *path, struct wide *wide,
    struct conf_errors *e)
{
	FILE	*fp = fopen(path, "r");
	char	*text;
	int	 n;

	if (fp == NULL) {
		err_add(e, NULL, path, "file", "cannot open: %s",
		    strerror(errno));
		return -1;
	}
	if ((text = read_text(fp, path, e)) == NULL ||
	    strings_check(text, path, 0, e) == -1) {
		free(text);
		fclose(fp);
		return -1;
	}
	wide_scan(text, wide);
	free(text);
	/* config_read_file() keeps the file name for source lines. */
	fclose(fp);
	if (config_read_file(cfg, path) != CONFIG_FALSE)
		return 0;
	e->count++;
	n = snprintf(e->buf, sizeof(e->buf), "%s:%d: syntax: %s\n",
	    config_error_file(cfg) ? config_error_file(cfg) : path,
	    config_error_line(cfg), config_error_text(cfg));
	e->len = n > 0 ? (size_t)n : 0;
	return -1;
}

/*
 * cluster.redis: "IPv4:PORT", "[IPv6]:PORT" or an absolute path (a UNIX
 * socket: port 0).  A literal address only: resolving a name would block
 * the main loop (hiredis resolves synchronously).
 */
int
conf_redis_addr(const char *spec, char *host, size_t hlen, int *port)
{
	const char	*colon, *h = spec;
	size_t		 n;
	struct sg_addr	 a;
	char		*end;
	long		 p;

	if (spec[0] == '/') {
		if (strlen(spec) >= hlen || strlen(spec) >= 108)
			return -1;
		snprintf(host, hlen, "%s", spec);
		*port = 0;
		return 0;
	}
	if ((colon = strrchr(spec, ':')) == NULL)
		return -1;
	n = (size_t)(colon - spec);
	if (spec[0] == '[') {
		if (n < 2 || spec[n - 1] != ']')
			return -1;
		h = spec + 1;
		n -= 2;
	}
	if (n == 0 || n >= hlen)
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	if (sg_addr_parse(host, &a) == -1 || (spec[0] == '[') != (a.family ==
	    SG_AF_INET6))
		return -1;
	p = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || p < 1 || p > 65535)
		return -1;
	*port = (int)p;
	return 0;
}

/* A node or cluster name: it is a key prefix and a field of messages. */
static bool
good_name(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("._-", *s) == NULL)
			return false;
	return true;
}

/*
 * cluster.sentinels: up to CONF_SENTINELS addresses (as cluster.redis),
 * separated by blanks or commas; each into hosts[k]/ports[k].  Their
 * count, or -1 (the bad one in `bad').
 */
int
conf_sentinels(const char *spec, char hosts[][128], int *ports,
    char *bad, size_t badlen)
{
	char	 buf[512], *save = NULL;
	int	 n = 0;

	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *t = strtok_r(buf, " \t,", &save); t != NULL;
	    t = strtok_r(NULL, " \t,", &save)) {
		if (n == CONF_SENTINELS) {
			snprintf(bad, badlen, "more than %d addresses",
			    CONF_SENTINELS);
			return -1;
		}
		if (conf_redis_addr(t, hosts[n], 128, &ports[n]) == -1) {
			snprintf(bad, badlen, "\"%.128s\": want IPv4:PORT, "
			    "[IPv6]:PORT or the path of a UNIX socket", t);
			return -1;
		}
		n++;
	}
	return n;
}

static void
sentinels_check(const config_t *cfg, const char *file,
    const struct sg_conf *c, struct conf_errors *e)
{
	char	 hosts[CONF_SENTINELS][128], bad[200];
	int	 ports[CONF_SENTINELS], n;

	n = conf_sentinels(c->cluster_sentinels, hosts, ports, bad,
	    sizeof(bad));
	if (n == -1)
		err_add(e, config_lookup(cfg, "cluster.sentinels"), file,
		    "cluster.sentinels", "%s", bad);
	else if (n > 0 && !good_name(c->cluster_master))
		err_add(e, config_lookup(cfg, "cluster.master"), file,
		    "cluster.master", "\"%s\": Sentinel's name of the master "
		    "is needed with cluster.sentinels (letters, digits, '.', "
		    "'_' or '-')", c->cluster_master);
	else if (n == 0 && c->cluster_master[0] != '\0')
		err_add(e, config_lookup(cfg, "cluster.master"), file,
		    "cluster.master", "set, but cluster.sentinels is empty");
}

static void
cluster_check(const config_t *cfg, const char *file, const struct sg_conf *c,
    struct conf_errors *e)
{
	char	 host[128];
	int	 port;

	if (c->cluster_node[0] != '\0' && !good_name(c->cluster_node))
		err_add(e, config_lookup(cfg, "cluster.node"), file,
		    "cluster.node", "\"%s\": want letters, digits, '.', '_' "
		    "or '-'", c->cluster_node);
	if (c->cluster_segment[0] != '\0' && !good_name(c->cluster_segment))
		err_add(e, config_lookup(cfg, "cluster.segment"), file,
		    "cluster.segment", "\"%s\": want letters, digits, '.', "
		    "'_' or '-'", c->cluster_segment);
	if (!good_name(c->cluster_name))
		err_add(e, config_lookup(cfg, "cluster.name"), file,
		    "cluster.name", "\"%s\": want letters, digits, '.', '_' "
		    "or '-'", c->cluster_name);
	if (conf_redis_addr(c->cluster_redis, host, sizeof(host), &port) == -1)
		err_add(e, config_lookup(cfg, "cluster.redis"), file,
		    "cluster.redis", "\"%s\": want IPv4:PORT, [IPv6]:PORT or "
		    "the absolute path of a UNIX socket (no host names)",
		    c->cluster_redis);
	sentinels_check(cfg, file, c, e);
	if (c->cluster_password_file[0] != '\0' &&
	    c->cluster_password_file[0] != '/')
		err_add(e, config_lookup(cfg, "cluster.password_file"), file,
		    "cluster.password_file", "\"%s\": want an absolute path",
		    c->cluster_password_file);
	if (c->cluster_sentinel_password_file[0] != '\0' &&
	    c->cluster_sentinel_password_file[0] != '/')
		err_add(e, config_lookup(cfg,
		    "cluster.sentinel_password_file"), file,
		    "cluster.sentinel_password_file",
		    "\"%s\": want an absolute path",
		    c->cluster_sentinel_password_file);
}

/* Keys each within range, but not together. */
static void
cross_check(const config_t *cfg, const char *file, const struct sg_conf *c,
    struct conf_errors *e)
{
	/* The Bloom filter's cells are counted in 32 bits. */
	if ((uint64_t)c->tab_bindings * (uint64_t)c->bloom_cells > UINT32_MAX)
		err_add(e, config_lookup(cfg, "tables.bindings"), file,
		    "tables.bindings", "%d bindings x %d "
		    "bloom.cells_per_binding exceeds 2^32 cells",
		    c->tab_bindings, c->bloom_cells);
	/*
	 * A PBX registering its lines must not look like a scan: counted
	 * exactly up to 16 identities, a threshold above needs the sketch's
	 * margin too (+-3.3 % at one sigma: 20 % is six).
	 */
	if (c->scan_identities <= c->identities_per_device ||
	    (c->scan_identities > 16 &&
	    c->scan_identities * 5 < c->identities_per_device * 6)) {
		config_setting_t *s = config_lookup(cfg,
		    "flood.scan_identities");

		if (s == NULL)
			s = config_lookup(cfg, "identities_per_device");
		err_add(e, s, file, "flood.scan_identities",
		    "%d must exceed identities_per_device (%d)%s",
		    c->scan_identities, c->identities_per_device,
		    c->scan_identities > 16 ? " by 20 % (counted "
		    "approximately above 16)" : "");
	}
	if (c->nwhitelist > c->tab_whitelist)
		err_add(e, config_lookup(cfg, "whitelist"), file, "whitelist",
		    "%d entries do not fit tables.whitelist (%d)",
		    c->nwhitelist, c->tab_whitelist);
	/* One entry a prefix: a second would silently replace the first
	 * (and its MAC pin with it). */
	for (int j = 1; j < c->nwhitelist; j++)
		for (int k = 0; k < j; k++) {
			const config_setting_t *s;

			if (c->whitelist[j].net.len != c->whitelist[k].net.len ||
			    !sg_addr_eq(&c->whitelist[j].net.net,
			    &c->whitelist[k].net.net))
				continue;
			s = config_lookup(cfg, "whitelist");
			if (s != NULL)
				s = config_setting_get_elem(s, (unsigned)j);
			err_add(e, s, file, "whitelist", "entry %d: the "
			    "prefix of entry %d again", j + 1, k + 1);
			break;
		}
}

int
conf_load(const char *path, const char *const *sets, int nsets,
    struct sg_conf *c, struct conf_errors *e)
{
	config_t	 cfg;
	struct wide	 wide = { .n = 0 };
	struct load	 ld = { .file = path ? path : "-", .c = c, .e = e,
	    .wide = &wide };

	memset(e, 0, sizeof(*e));
	conf_defaults(c);
	config_init(&cfg);
	if (path != NULL && read_file(&cfg, path, &wide, e) == -1) {
		config_destroy(&cfg);
		return -1;
	}
	for (int k = 0; k < nsets; k++)
		apply_set(&cfg, sets[k], e);
	walk(config_root_setting(&cfg), "", &ld);
	cross_check(&cfg, ld.file, c, e);
	cluster_check(&cfg, ld.file, c, e);
	config_destroy(&cfg);
	return e->count > 0 ? -1 : 0;
}

/* ---- queries ----------------------------------------------------------- */

int
conf_facility(const struct sg_conf *c)
{
	static const int fac[] = { LOG_DAEMON, LOG_USER, LOG_LOCAL0,
	    LOG_LOCAL1, LOG_LOCAL2, LOG_LOCAL3, LOG_LOCAL4, LOG_LOCAL5,
	    LOG_LOCAL6, LOG_LOCAL7, LOG_AUTHPRIV };

	if (c->log_facility_id < 0 || (size_t)c->log_facility_id >= nitems(fac))
		return LOG_DAEMON;
	return fac[c->log_facility_id];
}

bool
conf_is_proxy(const struct sg_conf *c, const struct sg_addr *a)
{
	for (int k = 0; k < c->nproxy; k++)
		if (sg_addr_eq(&c->proxy[k], a))
			return true;
	return false;
}

bool
conf_is_proxy_mac(const struct sg_conf *c, const struct sg_mac *m)
{
	for (int k = 0; k < c->nproxy_macs; k++)
		if (memcmp(&c->proxy_macs[k], m, sizeof(*m)) == 0)
			return true;
	return false;
}

bool
conf_is_gateway_mac(const struct sg_conf *c, const struct sg_mac *m)
{
	for (int k = 0; k < c->ngateway_macs; k++)
		if (memcmp(&c->gateway_macs[k], m, sizeof(*m)) == 0)
			return true;
	return false;
}

/* ---- dump -------------------------------------------------------------- */

/* A libconfig string literal. */
static void
dump_str(FILE *fp, const char *v)
{
	fputc('"', fp);
	for (; *v != '\0'; v++) {
		if (*v == '"' || *v == '\\')
			fputc('\\', fp);
		fputc(*v, fp);
	}
	fputc('"', fp);
}

/* A float that reads back exactly, and always as a float. */
static void
dump_float(FILE *fp, double v)
{
	char	 buf[64];

	/* The shortest form that reads back as the same double. */
	for (int prec = 6; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	if (strpbrk(buf, ".eEn") == NULL)
		strcat(buf, ".0");
	fputs(buf, fp);
}

static void
dump_value(FILE *fp, const struct sg_conf *c, const struct key *key)
{
	const char	*base = (const char *)c;
	char		 buf[SG_ADDRSTRLEN];

	switch (key->type) {
	case K_GROUP:
		break;
	case K_INT:
		fprintf(fp, "%d", *(const int *)(base + key->off));
		break;
	case K_BOOL:
		fputs(*(const bool *)(base + key->off) ? "true" : "false", fp);
		break;
	case K_ENUM:
		dump_str(fp, key->choices[*(const int *)(base + key->off)]);
		break;
	case K_SECS: {
		uint64_t ns = *(const uint64_t *)(base + key->off);

		if (ns % NS_PER_SEC == 0)
			fprintf(fp, "%llu", (unsigned long long)(ns /
			    NS_PER_SEC));
		else
			fprintf(fp, "%llu.%09llu", (unsigned long long)(ns /
			    NS_PER_SEC), (unsigned long long)(ns % NS_PER_SEC));
		break;
	}
	case K_FLOAT:
		dump_float(fp, *(const double *)(base + key->off));
		break;
	case K_STR:
		dump_str(fp, base + key->off);
		break;
	case K_ADDRS:
		fputs("[", fp);
		for (int i = 0; i < c->nproxy; i++) {
			fputs(i ? ", " : " ", fp);
			dump_str(fp, sg_addr_str(&c->proxy[i], buf,
			    sizeof(buf)));
		}
		fputs(" ]", fp);
		break;
	case K_CIDRS:
		fputs("[", fp);
		for (int i = 0; i < c->nwhitelist; i++) {
			char	 m[32];

			fprintf(fp, "%s\"%s/%u%s%s\"", i ? ", " : " ",
			    sg_addr_str(&c->whitelist[i].net.net, buf,
			    sizeof(buf)), c->whitelist[i].net.len,
			    c->whitelist[i].pinned ? " " : "",
			    c->whitelist[i].pinned ? sg_mac_str(
			    &c->whitelist[i].mac, true, m, sizeof(m)) : "");
		}
		fputs(" ]", fp);
		break;
	case K_MACS: {
		const struct sg_mac *macs = (const void *)(base + key->off);
		int		 n = *(const int *)(const void *)(base +
				    key->size);

		fputs("[", fp);
		for (int i = 0; i < n; i++) {
			char	 mb[SG_MACSTRLEN];

			fprintf(fp, "%s\"%s\"", i ? ", " : " ",
			    sg_mac_str(&macs[i], true, mb, sizeof(mb)));
		}
		fputs(" ]", fp);
		break;
	}
	}
}

/*
 * Every key with its value, in libconfig syntax that conf_load() reads
 * back to the same configuration (sipguard -T).
 */
void
conf_dump(const struct sg_conf *c, FILE *fp)
{
	/* Top-level keys first, then each group with its members. */
	for (size_t k = 0; k < nitems(schema); k++) {
		if (schema[k].type == K_GROUP ||
		    strchr(schema[k].path, '.') != NULL)
			continue;
		fprintf(fp, "%s = ", schema[k].path);
		dump_value(fp, c, &schema[k]);
		fputs(";\n", fp);
	}
	for (size_t g = 0; g < nitems(schema); g++) {
		size_t	 plen;

		if (schema[g].type != K_GROUP)
			continue;
		plen = strlen(schema[g].path);
		fprintf(fp, "%s:\n{\n", schema[g].path);
		for (size_t k = 0; k < nitems(schema); k++) {
			if (schema[k].type == K_GROUP ||
			    strncmp(schema[k].path, schema[g].path, plen) != 0 ||
			    schema[k].path[plen] != '.')
				continue;
			fprintf(fp, "\t%s = ", schema[k].path + plen + 1);
			dump_value(fp, c, &schema[k]);
			fputs(";\n", fp);
		}
		fputs("};\n", fp);
	}
}
