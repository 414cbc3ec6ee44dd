/*
 * whitelist.h: sources that are never judged by module I and never
 * blocked (SPEC 6: trunks, peer proxies, monitoring), from three places:
 * the configuration's `whitelist' list, the `whitelist_file' (both
 * replaced on every reload) and `sipguardctl whitelist add' (kept in the
 * state file).  An entry is a CIDR prefix, optionally pinned to the MAC
 * the prefix must arrive from: an unpinned entry lets through anyone
 * who can forge an address in it.
 *
 * One entry per prefix.  The configuration outranks the file, the file
 * outranks the control socket: an entry from a higher place replaces a
 * lower one, a lower one is refused.  A source matches the longest
 * prefix that holds it, and that entry alone decides: a /32 pinned to a
 * MAC is not let through from another MAC by a wider unpinned prefix.
 *
 * Lookup: one hash probe per distinct prefix length in use (a handful),
 * longest first.  Fixed capacity (tables.whitelist); nothing allocated
 * after wl_create().
 */
#ifndef SG_WHITELIST_H
#define SG_WHITELIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sipguard.h"

#define WL_COMMENT	80

enum wl_origin {
	WL_RUNTIME,	/* sipguardctl whitelist add; the state file */
	WL_FILE,	/* whitelist_file */
	WL_CONF,	/* the configuration's whitelist */
};

struct wl_entry {
	struct wl_spec	 spec;
	uint8_t		 origin;	/* enum wl_origin */
	uint64_t	 added;		/* wall clock, s; 0: unknown */
	uint64_t	 hits;		/* messages it let through */
	char		 comment[WL_COMMENT];
};

enum wl_verdict {
	WL_NO,		/* no entry holds the source */
	WL_PASS,	/* whitelisted */
	WL_WRONG_MAC,	/* the entry is pinned to another MAC */
};

struct whitelist;

struct whitelist *wl_create(uint32_t capacity);
void		 wl_destroy(struct whitelist *);
/* The entry for `src' decides; its hits counted when it passes. */
enum wl_verdict	 wl_check(struct whitelist *, const struct sg_addr *src,
		    const struct sg_mac *mac, bool has_mac);
/* The same, counting nothing. */
enum wl_verdict	 wl_match(const struct whitelist *, const struct sg_addr *src,
		    const struct sg_mac *mac, bool has_mac);
/* The entry for exactly this prefix, or NULL. */
const struct wl_entry *wl_find(const struct whitelist *,
		    const struct sg_cidr *);
/*
 * Add `x' (its hits start at 0).  0: added; 1: replaced an entry from
 * the same or a lower place (*was is its origin); -1: refused, the
 * prefix is held by a higher place (*was); -2: the table is full.
 */
int		 wl_add(struct whitelist *, const struct wl_entry *x,
		    int *was);
/* Remove the prefix if it is a runtime entry: 0, -1 none, or -2 with
 * *was the place that holds it. */
int		 wl_del(struct whitelist *, const struct sg_cidr *, int *was);
/* Remove the oldest runtime entry (room for the configuration's or the
 * file's): 0, or -1 when there is none. */
int		 wl_evict_runtime(struct whitelist *);
/* Remove every entry from `origin'. */
void		 wl_drop(struct whitelist *, enum wl_origin);
uint32_t	 wl_count(const struct whitelist *);
/* Changes with every entry added or removed. */
uint64_t	 wl_generation(const struct whitelist *);
uint32_t	 wl_capacity(const struct whitelist *);
/* Each entry in the order added; stops at the first non-zero return. */
int		 wl_foreach(const struct whitelist *,
		    int (*)(void *, const struct wl_entry *), void *);
const char	*wl_origin_name(int origin);

/*
 * An entry's match from its words: `cidr' (no host bits set, not an
 * IPv4-mapped address) and `mac' (NULL: unpinned).  0, or -1 with why.
 */
int		 wl_spec_parse(const char *cidr, const char *mac,
		    struct wl_spec *, char *why, size_t len);
/* Does the word (n bytes) read as an attempt at a MAC address? */
bool		 wl_mac_like(const char *, size_t n);
/*
 * Read a whitelist file: one entry a line, `CIDR [MAC] [comment]', `#'
 * to the end of a line a comment, blank lines skipped; ASCII only, a
 * second word that looks like a MAC must be one.  All or nothing:
 * 0 with `*n' entries in `out' (origin WL_FILE), or -1 with "path: line
 * N: what is wrong" in err and nothing to apply.
 */
int		 wl_read_file(const char *path, struct wl_entry *out,
		    uint32_t max, uint32_t *n, char *err, size_t errlen);
/* The same into a new array (free() it); path "": none, 0 entries. */
int		 wl_load_file(const char *path, uint32_t max,
		    struct wl_entry **out, uint32_t *n, char *err,
		    size_t errlen);
/* Format "CIDR" as the operator wrote it: address/len, /len omitted
 * for a single host. */
const char	*wl_prefix_str(const struct sg_cidr *, char *, size_t);

#endif
