/*
 * conf.h: the configuration, read with libconfig.  conf_load() checks
 * every key against one schema (conf.c), collects every problem as
 * "file:line: key: problem" and only then fails, so an operator sees all
 * mistakes at once.  A struct sg_conf is plain data: a reload builds a
 * new one and swaps it in only when it is clean.
 */
#ifndef SG_CONF_H
#define SG_CONF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sipguard.h"

#define CONF_MAX_ADDRS		64
#define CONF_MAX_CIDRS		256
#define CONF_MAX_MACS		256
#define CONF_NAME_MAX		64	/* cluster.node, cluster.name */
#define CONF_SENTINELS		8	/* cluster.sentinels, at most */

enum conf_mode { MODE_PREVENT = 0, MODE_DETECT };
enum conf_nat { NAT_TOLERANT = 0, NAT_STRICT, NAT_OFF };
enum conf_policy { POLICY_DROP = 0, POLICY_ACCEPT };

struct sg_conf {
	int		 mode;			/* enum conf_mode */
	int		 nat;			/* enum conf_nat */
	int		 malformed;		/* enum conf_policy */
	int		 fragments;		/* enum conf_policy */
	int		 not_sip;		/* enum conf_policy */
	int		 identities_per_device;
	int		 devices_per_identity;
	int		 gateway_mac_ips;

	struct sg_addr	 proxy[CONF_MAX_ADDRS];
	int		 nproxy;
	struct wl_spec	 whitelist[CONF_MAX_CIDRS];
	int		 nwhitelist;
	struct sg_mac	 gateway_macs[CONF_MAX_MACS];
	int		 ngateway_macs;
	struct sg_mac	 proxy_macs[CONF_MAX_MACS];
	int		 nproxy_macs;

	uint64_t	 blacklist_ttl;		/* ns */
	int		 blacklist_size;
	double		 forgery_rate;		/* a source's, a second */

	uint64_t	 register_timeout;	/* ns, pending REGISTER */
	uint64_t	 replay_window;		/* ns, nonce memory */
	uint64_t	 default_expires;	/* ns, when nothing states it */

	int		 tab_bindings;
	int		 tab_identity_bytes;	/* d, IMPI: bytes a slot */
	int		 tab_pending;
	int		 tab_nonces;
	int		 tab_sources;
	int		 tab_fragments;
	int		 tab_streams;		/* tracked TCP connections */
	int		 tab_whitelist;		/* whitelist entries */
	int		 tab_stream_buffers;	/* 64 KB reassembly buffers */
	uint64_t	 tcp_idle;		/* ns a quiet connection lives */
	int		 tcp_per_source;	/* connections per client IP */

	int		 bloom_cells;		/* counters per binding */
	int		 bloom_hashes;

	/* module II (SPEC 5) */
	uint64_t	 training_duration;	/* ns */
	char		 baseline_file[256];
	int		 window;		/* gaps in Curr.D_Avg */
	int		 min_samples;		/* gaps for a row's own Init */
	double		 min_rate;		/* msgs/s below which IR/DS2
						   never judge a row */
	int		 ss_threshold;		/* Trs above this: SS */
	uint64_t	 ss_decay;		/* ns per Trs unit forgiven */
	double		 ss_rate_factor;	/* ... or this x the row's rate */
	uint64_t	 ds_interval;		/* ns, Curr.C_Avg window */
	double		 ds_tolerance;		/* tr floor, msgs/s */
	double		 ds_tolerance_ratio;	/* tr as a share of Init.C_Avg */
	double		 ds_fast_ratio;		/* x Init.C_Avg over 2 s */
	double		 ds2_ratio;		/* x */
	int		 ds2_samples;
	double		 ds2_lift;		/* the median row's rise forgiven */
	uint64_t	 ds2_hold;		/* ns the DS2 condition must hold */
	double		 ir_ratio;
	int		 ir_samples;
	uint64_t	 ir_hold;		/* ns the IR condition must hold */
	double		 rise_factor;		/* x a row's own trained rate */
	uint64_t	 rise_window;		/* ns, in thirds */
	int		 rise_min;		/* messages in the window */
	double		 rise_trend;		/* population rise tolerated */
	double		 rise_margin;		/* x sqrt(bar) more messages */
	double		 rise_spread_min;	/* a row's trained variance / */
	double		 rise_spread_max;	/* mean, clamped to these */
	bool		 rise_block;		/* the rise test blocks */
	double		 admission_rate;	/* msgs/s admitted under DS1 */
	double		 admission_factor;	/* x the trained unbound rate */
	int		 admission_burst;
	int		 bf_failures;		/* failures ... */
	uint64_t	 bf_window;		/* ... within this window */
	int		 scan_identities;	/* distinct To within window */
	int		 scan_sketches;		/* pool for counts above 16 */
	int		 target_identities;	/* per-identity table rows */
	int		 target_failures;	/* failures for one identity */
	uint64_t	 target_window;		/* ns */
	uint64_t	 target_guard;		/* ns; 0: alarm only */

	/* live daemon */
	int		 queue_num;
	int		 queue_count;
	int		 queue_maxlen;
	bool		 queue_fail_open;
	int		 queue_batch;
	uint64_t	 queue_idle_warning;	/* ns; 0: never */
	uint64_t	 startup_learn;		/* ns; 0: no window */
	char		 import_file[256];	/* "": no import at start */
	char		 whitelist_file[256];	/* "": none */
	char		 import_domain[128];	/* for AoRs without @host */
	uint64_t	 bind_grace;		/* ns: a lapsed binding's life */
	bool		 nft_enabled;
	bool		 nft_keep;
	int		 admission_port;	/* kernel admission; 0: off */
	int		 admission_ceiling;	/* unknown sources, always */
	int		 log_facility_id;	/* index in conf_facility() */
	uint64_t	 log_aggregate;		/* ns */
	int		 log_budget;		/* alarm lines/s per type+case */
	int		 log_burst;
	int		 log_budget_total;	/* alarm lines/s in all */
	char		 log_json_file[256];	/* "": no event file */
	int		 log_json_drops_rate;	/* drop lines/s; 0: none */
	char		 metrics_file[256];	/* "": no metrics */
	uint64_t	 metrics_interval;	/* ns */
	char		 drops_file[256];	/* "": no drops capture */
	int		 drops_size;		/* bytes a file, at most */
	int		 drops_files;		/* files in the ring */
	int		 drops_rate;		/* packets/s written, at most */
	char		 state_dir[256];
	uint64_t	 state_interval;	/* ns */
	char		 control_socket[108];

	/* cluster (SPEC 8): off by default */
	bool		 cluster_enabled;
	char		 cluster_node[CONF_NAME_MAX];	/* "": the hostname */
	char		 cluster_segment[CONF_NAME_MAX];	/* "": the node's */
	char		 cluster_name[CONF_NAME_MAX];	/* key prefix */
	char		 cluster_redis[128];		/* host:port, or path */
	char		 cluster_sentinels[512];	/* "": no Sentinel */
	char		 cluster_master[CONF_NAME_MAX];	/* Sentinel's name */
	char		 cluster_password_file[256];	/* "": no AUTH */
	char		 cluster_sentinel_password_file[256];	/* "": none */
	uint64_t	 cluster_timeout;		/* ns */
	int		 cluster_queue;			/* messages */
};

/* Where conf_load() writes its complaints, one per line. */
struct conf_errors {
	char		 buf[8192];
	size_t		 len;
	int		 count;
};

void	conf_defaults(struct sg_conf *);
/*
 * Read `path' (NULL: defaults only), apply `sets' ("key=value", value in
 * libconfig syntax), check everything.  0 on success, -1 with errors
 * listed in `errs'.
 */
int	conf_load(const char *path, const char *const *sets, int nsets,
	    struct sg_conf *, struct conf_errors *);
/* Print every key with its value in libconfig syntax (sipguard -T). */
void	conf_dump(const struct sg_conf *, FILE *);

/* cluster.redis split: host (or socket path, port 0) and port; 0/-1. */
int	conf_redis_addr(const char *, char *host, size_t hlen, int *port);
/* cluster.sentinels split into up to CONF_SENTINELS addresses. */
int	conf_sentinels(const char *, char hosts[][128], int *ports,
	    char *bad, size_t badlen);
/* The syslog facility (LOG_DAEMON, ...) of log.facility. */
int	conf_facility(const struct sg_conf *);
bool	conf_is_proxy(const struct sg_conf *, const struct sg_addr *);
bool	conf_is_gateway_mac(const struct sg_conf *, const struct sg_mac *);
bool	conf_is_proxy_mac(const struct sg_conf *, const struct sg_mac *);

#endif
