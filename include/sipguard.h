/*
 * sipguard.h: limits, defaults, paths and the small value types every
 * pipeline stage shares (addresses, the tuple E of SPEC 2, verdicts and
 * their reasons).  Everything here is plain data; behaviour lives in the
 * module headers.
 */
#ifndef SIPGUARD_H
#define SIPGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SG_VERSION		"0.1.0"

#ifndef SG_SYSCONFDIR
#define SG_SYSCONFDIR		"/etc"
#endif
#define SG_CONF_PATH		SG_SYSCONFDIR "/sipguard/sipguard.conf"
#define SG_STATE_DIR		"/var/lib/sipguard"
#define SG_RUN_DIR		"/run/sipguard"
#define SG_CTL_PATH		SG_RUN_DIR "/control"

/* Strings copied out of a SIP message are capped: longer ones are kept
 * truncated for display, and compared by a keyed hash of the full value. */
#define SG_ID_MAX		128	/* user@host, IMPI */
#define SG_CALLID_MAX		96
#define SG_METHOD_MAX		24
#define SG_NONCE_MAX		96
#define SG_URI_MAX		128

/* Largest datagram the engine looks at (IPv4/IPv6 UDP maximum). */
#define SG_PKT_MAX		65535

#define NS_PER_SEC		1000000000ULL
#define SEC(x)			((uint64_t)(x) * NS_PER_SEC)

#define nitems(a)		(sizeof(a) / sizeof((a)[0]))

/*
 * An address of layer 3 or the SIP-IP of layer 5.  Comparable with
 * memcmp(): unused bytes are always zero.  A SIP-IP that is a host name
 * rather than a literal is kept as SG_AF_HOST with a keyed hash of the
 * lower-cased name in the first eight bytes.
 */
enum sg_af {
	SG_AF_NONE = 0,
	SG_AF_INET = 4,
	SG_AF_INET6 = 6,
	SG_AF_HOST = 7,
};

struct sg_addr {
	uint8_t		 family;	/* enum sg_af */
	uint8_t		 pad[3];
	uint8_t		 a[16];
};

struct sg_mac {
	uint8_t		 b[6];
};

/*
 * Is the source (m, i) (m NULL: no layer 2) a bound device?  The tables
 * a flood of unknown sources could fill (TCP reassembly buffers,
 * fragment contexts) keep their last quarter for those.
 */
typedef bool	(*sg_known_fn)(void *, const struct sg_mac *,
		    const struct sg_addr *);

/* SIP methods the decision distinguishes; the rest are SIPM_OTHER. */
enum sip_method {
	SIPM_NONE = 0,		/* a response */
	SIPM_REGISTER,
	SIPM_INVITE,
	SIPM_ACK,
	SIPM_BYE,
	SIPM_CANCEL,
	SIPM_OPTIONS,
	SIPM_MESSAGE,
	SIPM_SUBSCRIBE,
	SIPM_NOTIFY,
	SIPM_PUBLISH,
	SIPM_INFO,
	SIPM_PRACK,
	SIPM_UPDATE,
	SIPM_REFER,
	SIPM_OTHER,
	SIPM__COUNT
};

/*
 * E = {m, i, s, a, d} of SPEC 2, plus what the binding rules need beside
 * it.  Built once per inbound SIP message on the caller's stack.
 */
struct sg_tuple {
	struct sg_mac	 m;
	bool		 has_m;		/* false: no layer 2 ("none") */
	struct sg_addr	 i;
	uint16_t	 sport;
	struct sg_addr	 s;		/* SG_AF_NONE: not stated */
	bool		 nat;		/* s: a tolerated private address != i */
	enum sip_method	 a;
	uint64_t	 dh;		/* keyed hash of d */
	uint64_t	 impih;		/* keyed hash of impi, 0 if none */
	char		 d[SG_ID_MAX];
	char		 impi[SG_ID_MAX];
};

enum sg_verdict {
	SG_ACCEPT = 0,
	SG_DROP = 1,
};

/*
 * Why a packet got its verdict.  The spoof cases carry the paper's
 * labels (SPEC 4); their strings are what alarms and `sipguard -r` print.
 */
enum sg_reason {
	SG_R_NONE = 0,
	/* accepted */
	SG_R_OUTBOUND,
	SG_R_KEEPALIVE,
	SG_R_WHITELISTED,
	SG_R_NOT_SIP,
	SG_R_FRAGMENT,		/* fragment held for reassembly */
	SG_R_TCP,		/* TCP segment that holds no whole message */
	SG_R_TRANSIT,		/* neither from nor to the proxy */
	/* decision cases of SPEC 4 (accept or drop depending on the case) */
	SG_R_CASE_B,		/* 0 0 0 0 */
	SG_R_CASE_I,
	SG_R_CASE_II,
	SG_R_CASE_III,
	SG_R_CASE_IV,
	SG_R_CASE_V,
	SG_R_CASE_VI,
	SG_R_CASE_VII,
	SG_R_CASE_VIII,
	SG_R_CASE_IX,
	SG_R_CASE_X,
	SG_R_CASE_XI,
	SG_R_MASQUERADE,
	SG_R_REFLECTION,
	SG_R_SPOOF,
	SG_R_REPLAY,		/* REGISTER rule 2 */
	/* dropped by something other than module I */
	SG_R_BLACKLISTED,
	SG_R_MALFORMED,
	SG_R_FRAG_DROP,		/* fragment that could not be reassembled */
	SG_R_DS_ADMISSION,
	SG_R_FLOOD,		/* module II alarm on this very message */
	/* evasion (SPEC 1: nothing the proxy acts on goes unjudged) */
	SG_R_FORGED_PROXY,	/* the proxy's address from the network */
	SG_R_UNDECODABLE,	/* a frame on the SIP path that cannot be read */
	SG_R_TCP_POISONED,	/* a message on this connection was dropped */
	SG_R_TCP_CONFLICT,	/* retransmitted bytes differ from the judged */
	SG_R_TCP_UNVERIFIABLE,	/* old bytes no longer held, not yet acked */
	SG_R_TCP_OOO,		/* beyond a hole */
	SG_R_TCP_UNSYNCED,	/* not the start of a message, no state */
	SG_R_TCP_FULL,		/* no connection slot or buffer */
	SG_R_BAD_CSUM,		/* TCP checksum wrong: the host drops it */
	SG_R_TCP_INVALID,	/* what the proxy's stack discards: urgent
				   data, data without ACK, another MAC */
	SG_R__COUNT
};

/*
 * Tables are allocated once and touched at once, so the daemon's resident
 * memory is what it will ever be from the start: no page is first
 * faulted in by an attacker's flood.  NULL on overflow or failure.
 */
void		*sg_table_alloc(size_t n, size_t size);
/* All of buf to fd, through EINTR and short writes: 0, or -1 (errno). */
int		 sg_write_all(int fd, const void *buf, size_t n);

/*
 * A set of 64-bit hashes, for merging the workers' copies of a table
 * when it is saved or listed (never on the packet path).  NULL v: the
 * set could not be allocated and every key counts as new.
 */
struct sg_keyset {
	uint64_t	*v;
	size_t		 mask, count;
};

void		 sg_keyset_init(struct sg_keyset *, size_t n);
bool		 sg_keyset_add(struct sg_keyset *, uint64_t key);
void		 sg_keyset_free(struct sg_keyset *);

/*
 * Take (hold true) or release worker w's lock.  What reads a whole table
 * outside the packet path (a save, a listing, the kernel's copy) holds
 * one worker a page of slots at a time: sg_paged() calls fn(arg, s) for
 * the slots s of [0, n), `page' of them under each hold (hold NULL: none
 * taken).
 */
typedef void	(*sg_hold_fn)(void *, int w, bool hold);
void		 sg_paged(sg_hold_fn, void *harg, int w, uint32_t n,
		    uint32_t page, void (*fn)(void *, uint32_t), void *arg);

const char	*sg_reason_str(enum sg_reason);

/* Addresses: text form (buf >= 46 bytes), parsing, classification. */
#define SG_ADDRSTRLEN	46
#define SG_MACSTRLEN	18
const char	*sg_addr_str(const struct sg_addr *, char *, size_t);
const char	*sg_mac_str(const struct sg_mac *, bool, char *, size_t);
int		 sg_addr_parse(const char *, struct sg_addr *);
int		 sg_mac_parse(const char *, struct sg_mac *);
bool		 sg_addr_private(const struct sg_addr *);
bool		 sg_addr_is_ip(const struct sg_addr *);

/* A CIDR prefix, for the whitelist and the proxy's networks. */
struct sg_cidr {
	struct sg_addr	 net;
	uint8_t		 len;
};
int		 sg_cidr_parse(const char *, struct sg_cidr *);
bool		 sg_cidr_match(const struct sg_cidr *, const struct sg_addr *);

/* A whitelist entry's match: a prefix, and the MAC it must come from. */
struct wl_spec {
	struct sg_cidr	 net;
	struct sg_mac	 mac;
	bool		 pinned;	/* false: any MAC */
};
/* A prefix as an operator writes one to mean it: no host bits set, no
 * IPv4-mapped IPv6 address (the kernel never delivers those), a plain
 * length.  0 or -1. */
int		 sg_cidr_parse_exact(const char *, struct sg_cidr *);
/* "CIDR" or "CIDR MAC" (one or more blanks between), the prefix exact:
 * 0 or -1. */
int		 sg_wl_parse(const char *, struct wl_spec *);

/*
 * A GCRA bucket without a lock (util.c): an event costs 1/rate s of
 * credit, up to one second's worth at once; *tat (theoretical arrival,
 * ns) moves by compare-and-swap; a clock stepped back (tat far ahead)
 * starts afresh rather than shutting the bucket for as long as the step.
 * False for rate 0.
 */
bool	sg_gcra_admit(_Atomic uint64_t *tat, uint32_t rate, uint64_t now);

/*
 * Two buffers between the workers and one writer (events.c, dropcap.c,
 * alarm.c): workers append to *fill under the owner's lock; the writer,
 * under that lock, swaps the two and empties fill, then writes *out (the
 * bytes returned) outside it.
 */
static inline size_t
sg_swap_buffers(char **fill, char **out, size_t *len)
{
	char	*p = *fill;
	size_t	 n = *len;

	*fill = *out;
	*out = p;
	*len = 0;
	return n;
}

/*
 * Every packet compares addresses several times (the proxy's, the
 * binding's): inline, the 20 bytes compare in a few loads where a call
 * to memcmp() cost more than the comparison.
 */
static inline bool
sg_addr_eq(const struct sg_addr *a, const struct sg_addr *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

#endif /* SIPGUARD_H */
