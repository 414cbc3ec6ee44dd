/*
 * import.h: the proxy's own registrations as bindings.  Reads what the
 * proxy dumps of its location table (Kamailio's ul.dump RPC as JSON,
 * OpenSIPS's ul_dump MI as JSON) and adds, for each live contact, a
 * binding {i, s, d} whose MAC is pinned by the device's first message
 * (bind_import(), bind_pin()).  Bounded: the file at most IMPORT_MAX_BYTES,
 * the table's free rows at most; never replaces a binding.
 */
#ifndef SG_IMPORT_H
#define SG_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "sipguard.h"

#define IMPORT_MAX_BYTES	(64u << 20)

struct bind_table;
struct engine;

struct import_result {
	const char	*format;	/* "kamailio", "opensips" */
	uint32_t	 records;	/* AoRs seen */
	uint32_t	 contacts;	/* contacts seen */
	uint32_t	 imported;	/* new bindings (in each table) */
	uint32_t	 known;		/* a binding of d at i existed */
	uint32_t	 expired;	/* expired, deleted, permanent */
	uint32_t	 refused;	/* table full, identity's quota */
	uint32_t	 malformed;	/* a field missing or unusable */
};

/*
 * Parse `buf' (a whole dump) and import into each of the `n' tables.
 * Expires count from `dumped' (ns, the dump's time), bindings expire at
 * dumped + Expires.  `domain' is the host of an AoR without one
 * (usrloc use_domain = 0); NULL or "" refuses such AoRs.  `hold' (NULL:
 * none) takes (true) and releases (false) the tables around the import,
 * releasing and taking them again every few dozen contacts.  Returns 0,
 * or -1 with `err' saying what is wrong with the file as a whole.
 */
int		 import_buf(const char *buf, size_t len, const char *domain,
		    struct bind_table **bt, int n, uint64_t dumped,
		    uint64_t now, void (*hold)(void *, bool), void *harg,
		    struct import_result *r, char *err, size_t errlen);
/*
 * The whole file into *buf (malloc'd, the caller frees), at most
 * IMPORT_MAX_BYTES; its modification time (no later than `now') is the
 * dump's time.
 */
int		 import_read(const char *path, char **buf, size_t *len,
		    uint64_t now, uint64_t *dumped, char *err, size_t errlen);
/* import_read() and import_buf() into each engine's table. */
int		 import_file(const char *path, const char *domain,
		    struct engine **e, int n, uint64_t now,
		    struct import_result *r, char *err, size_t errlen);

#endif
