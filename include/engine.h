/*
 * engine.h: the pipeline of SPEC 1, owned in one place.  Both packet
 * sources (NFQUEUE, a pcap file) call engine_packet() with the frame and
 * its time and get a verdict back; the order of the stages lives in
 * engine.c alone.  All tables are allocated in engine_create() from the
 * configuration; engine_packet() allocates nothing but osip2's parse.
 */
#ifndef SG_ENGINE_H
#define SG_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "alarm.h"
#include "conf.h"
#include "decode.h"
#include "sipguard.h"
#include "sipmsg.h"

/* One SIP message or keep-alive judged (several per TCP segment). */
struct sg_result {
	bool			 inbound;
	enum sg_verdict		 verdict;
	enum sg_reason		 reason;
	enum sipm_kind		 kind;
	const struct dec_pkt	*pkt;
	const struct sipm	*msg;	/* NULL unless kind == SIPM_K_SIP; NULL
					   for an outbound request unread (see
					   engine_set_report_fields()) */
};

typedef void	(*engine_observer)(void *, const struct sg_result *);

/*
 * Where a packet was taken (SPEC 1: direction comes from what an
 * attacker cannot forge).  Outbound is only OUTPUT on the proxy host;
 * on a gateway or in a capture, the proxy's address *and* its MAC.
 */
enum engine_dir {
	DIR_UNKNOWN = -1,	/* FORWARD, PREROUTING, a capture: the proxy's
				   address and MAC decide */
	DIR_IN = 0,		/* INPUT on the proxy host: inbound; the
				   proxy's own address here is a forgery */
	DIR_OUT = 1,		/* OUTPUT: outbound */
	DIR_LOCAL = 2,		/* INPUT from the loopback interface: a
				   local process, by address */
};

/*
 * Alarms counted by (type, case, action): a fixed table of slots, the
 * case copied (a raise_alarm() label: an sg_reason_str() value,
 * "undecodable", "sctp", ...; "" for none), filled in the order the
 * combinations first occur.  A combination that finds the table full is
 * counted in `other' by type and action (case "other").  Clear notices
 * are not alarms: not counted (as in alarms[]).
 */
#define ENGINE_CASES		64	/* slots */
#define ENGINE_CASE_MAX		24	/* a case label's bytes, NUL too */
#define ENGINE_CASE_ACTIONS	3	/* drop, block, notice */

struct engine_case {
	uint8_t		 type;		/* enum alarm_type */
	uint8_t		 action;	/* enum alarm_action, not clear */
	char		 kase[ENGINE_CASE_MAX];
	uint64_t	 n;
};

struct engine_cases {
	uint32_t		 used;		/* slots filled */
	struct engine_case	 slot[ENGINE_CASES];
	uint64_t		 other[ALARM__COUNT][ENGINE_CASE_ACTIONS];
};

/*
 * Add `n' alarms of (type, kase, action) to `c' (kase NULL: none); a
 * clear adds nothing.  The engine counts its own; stats sums workers'.
 */
void		 engine_cases_add(struct engine_cases *, enum alarm_type,
		    const char *kase, enum alarm_action, uint64_t n);

struct engine_stats {
	uint64_t	 packets, bytes;
	uint64_t	 decode[DEC__COUNT];
	uint64_t	 inbound, outbound, transit;
	uint64_t	 sip, keepalive, not_sip, malformed, tcp_partial;
	uint64_t	 sctp;		/* inbound SCTP (not read): in not_sip */
	uint64_t	 verdict[2];
	uint64_t	 accept[SG_R__COUNT], drop[SG_R__COUNT];
	uint64_t	 alarms[ALARM__COUNT];
	struct engine_cases alarm_cases;	/* by type, case, action */
	uint64_t	 register_answers, register_unmatched;
	uint64_t	 learn_window;	/* case b let through: start-up window */
	uint64_t	 frag_bad, frag_late;
	uint64_t	 forged_proxy, undecodable;
	uint64_t	 tcp_dropped, bad_csum;
	uint64_t	 wl_wrong_mac;	/* whitelisted prefix, other MAC */
	uint64_t	 lapsed;	/* accepted on a lapsed binding */
};

struct engine;
struct bind_table;
struct enforcer;
struct flood;
struct whitelist;
struct wl_entry;

struct engine	*engine_create(const struct sg_conf *);
void		 engine_destroy(struct engine *);
/*
 * Apply a new configuration.  Table sizes are fixed at start: a change to
 * one is ignored (and reported through the return value, 1).
 */
int		 engine_reload(struct engine *, const struct sg_conf *);
/*
 * The registrations are known (state restored): no start-up learning
 * window.  Without this call an engine opens one (startup.learn) at its
 * first packet, as after a cold start; so does every replay.
 */
void		 engine_warm_start(struct engine *);

void		 engine_set_observer(struct engine *, engine_observer, void *);
/*
 * Told each binding learned or refreshed from the proxy's 2xx, and each
 * imported binding given its MAC: (m, i) and its expiry, in packet time
 * (the kernel's set of bound devices, nft_known).
 */
typedef void	(*engine_bound)(void *, const struct sg_mac *,
		    const struct sg_addr *, uint64_t expires);
void		 engine_set_bound(struct engine *, engine_bound, void *);
/*
 * Told each binding learned or refreshed from the proxy's 2xx (`b'), and
 * each one a de-registration removes (`gone', its F, told before it
 * goes, whether this table held it or not), in packet time: the
 * cluster's copy (daemon.c).  Rows restored, imported, pinned or applied
 * from other nodes are never told, so nothing comes back as an echo.
 */
struct binding;
typedef void	(*engine_shared)(void *, const struct bind_table *,
		    const struct binding *b, const struct sg_tuple *gone,
		    uint64_t now);
void		 engine_set_shared(struct engine *, engine_shared, void *);
void		 engine_set_alarm_sink(struct engine *, alarm_sink, void *);
/*
 * Parse the messages whose verdict needs no parse, so a report can show
 * their fields (sipguard -r): those dropped by the blacklist anyway, and
 * the requests the proxy sends (only its answers teach: SPEC 3).  The
 * verdict and what is learned are the same; the live daemon leaves this
 * off and saves the parse (an outbound request is then counted as SIP
 * and shown to the observer without its message).
 */
void		 engine_set_report_fields(struct engine *, bool);

/*
 * Judge one frame.  `hwmac' (may be NULL) gives the source MAC when the
 * frame starts at layer 3 (NFQUEUE).  `now' is the packet's time in ns.
 */
enum sg_verdict	 engine_packet(struct engine *, enum dec_link,
		    const uint8_t *, size_t, const struct sg_mac *hwmac,
		    enum engine_dir, uint64_t now);
/*
 * What the packet source knows of the transport checksum.  A TCP segment
 * whose checksum is wrong never reaches the proxy's socket, so sipguard
 * must not take it into a stream either (an insertion: Ptacek and
 * Newsham): with ENGINE_CSUM_UNVERIFIED every inbound TCP segment is
 * checked; with neither flag only resets are (a capture); with
 * ENGINE_CSUM_PARTIAL (a local sender's offload) none is.
 */
#define ENGINE_CSUM_UNVERIFIED	0x1
#define ENGINE_CSUM_PARTIAL	0x2
enum sg_verdict	 engine_packet_flags(struct engine *, enum dec_link,
		    const uint8_t *, size_t, const struct sg_mac *hwmac,
		    enum engine_dir, unsigned flags, uint64_t now);
/* Housekeeping (expiry sweeps); call at least once a second. */
void		 engine_tick(struct engine *, uint64_t now);

/* Occupancy of every fixed-size table (they never grow). */
struct engine_tables {
	uint32_t	 bindings, bindings_cap;
	uint32_t	 pending, pending_cap;
	uint32_t	 pending_guarded, pending_guarded_cap;	/* of those */
	uint32_t	 sources, sources_cap;
	uint32_t	 blacklist, blacklist_cap;
	uint32_t	 nonces, nonces_cap;
	uint32_t	 frags, frags_cap;
	uint32_t	 streams, streams_cap;
	uint32_t	 stream_buffers, stream_buffers_cap;
	uint32_t	 whitelist, whitelist_cap;	/* every worker's */
	uint32_t	 id_cells, id_cells_cap;	/* identity texts */
	uint64_t	 streams_refused;
	uint64_t	 pending_evicted, sources_recycled, blacklist_evicted;
	uint64_t	 nonces_evicted, bindings_refused;
	uint64_t	 pending_guarded_evicted;	/* for newer guarded */
	size_t		 memory;		/* bytes, all tables */
};

void		 engine_stats(const struct engine *, struct engine_stats *);
void		 engine_tables(const struct engine *, uint64_t now,
		    struct engine_tables *);
struct bind_table *engine_bindings(struct engine *);
struct enforcer	*engine_enforcer(struct engine *);
struct flood	*engine_flood(struct engine *);
struct whitelist *engine_whitelist(struct engine *);
/*
 * The whitelist file's entries replace the ones it gave before; the
 * configuration's entries outrank them.  The number of runtime entries
 * that gave way (same prefix, or the oldest when the table was full).
 */
uint32_t	 engine_whitelist_file(struct engine *,
		    const struct wl_entry *, uint32_t n);
/*
 * The proxy's MAC as the engine knows it: 2 listed in proxy.macs, 1
 * learned from traffic and pinned (in `mac', `has_mac' false for a
 * frame without one), 0 not yet.
 */
int		 engine_proxy_mac(const struct engine *, struct sg_mac *mac,
		    bool *has_mac);

#endif
