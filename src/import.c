/*
 * import.c: the proxy's location table as bindings, at start or on
 * "sipguardctl bindings import".  Not on the packet path: the dump is
 * parsed with jansson, each contact's AoR and Contact go through the
 * same SIP parser as a packet's (sipm_parse() on a REGISTER built here),
 * so d and its hash are exactly those a phone's messages give.
 *
 * What is trusted: the proxy's own database, as its management interface
 * prints it (the file is the operator's, readable by root only).  It
 * names an identity, an address and an expiry; the MAC it cannot know,
 * so bind.c pins it on the first message from that address carrying
 * that identity.  Still, input is checked as if hostile: the file is
 * bounded, every field is checked, a contact that fails is counted and
 * skipped, and nothing but the table's free rows is ever used.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bind.h"
#include "engine.h"
#include "import.h"
#include "sipmsg.h"

#define DEPTH_MAX	32		/* the dumps nest 6 deep */
#define FIELD_MAX	255		/* an AoR, an Address, a Received */
#define EXPIRES_MAX	(7u * 86400)	/* longer is no phone's */

struct walk {
	const char		*domain;
	struct bind_table	**bt;
	int			 n;
	uint64_t		 dumped, now;
	struct import_result	*r;
	struct sipm_parser	*sp;
	int			 arrays;	/* AoRs / AORs arrays seen */
	/* The tables held (every worker's lock), let go every IMPORT_HOLD
	 * contacts: a run-time import of 60,000 never holds them throughout. */
	void			(*hold)(void *, bool);
	void			*harg;
	unsigned		 held;
};

#define IMPORT_HOLD	64

/* A field worth putting into a header line: printable, no <>" or space. */
static const char *
field(const json_t *o, const char *key)
{
	const json_t	*v = json_object_get(o, key);
	const char	*s;
	size_t		 n;

	if (!json_is_string(v))
		return NULL;
	s = json_string_value(v);
	n = json_string_length(v);
	if (n == 0 || n > FIELD_MAX || strlen(s) != n)
		return NULL;
	for (size_t k = 0; k < n; k++) {
		unsigned char	 c = (unsigned char)s[k];

		if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' ||
		    c == '"')
			return NULL;
	}
	return s;
}

/* "[not set]" (Kamailio), "" or absent (OpenSIPS): no received address. */
static bool
unset(const json_t *o, const char *key)
{
	const json_t	*v = json_object_get(o, key);

	return v == NULL || json_is_null(v) || (json_is_string(v) &&
	    (json_string_length(v) == 0 ||
	    strcmp(json_string_value(v), "[not set]") == 0));
}

/*
 * Seconds left at the dump: a number, or digits in a string (older MI);
 * 0 for "permanent", "expired", "deleted" (no binding without an end);
 * -1 if it is none of these.
 */
static int64_t
expires_of(const json_t *o)
{
	const json_t	*v = json_object_get(o, "Expires");
	const char	*s;
	int64_t		 x = 0;

	if (json_is_integer(v))
		x = json_integer_value(v);
	else if (json_is_real(v)) {
		/* MI numbers are doubles inside OpenSIPS: 3593.0 is 3593. */
		double	 d = json_real_value(v);

		if (!(d >= 0 && d <= EXPIRES_MAX) || d != (double)(int64_t)d)
			return -1;
		x = (int64_t)d;
	} else if (json_is_string(v)) {
		s = json_string_value(v);
		if (strcmp(s, "permanent") == 0 || strcmp(s, "expired") == 0 ||
		    strcmp(s, "deleted") == 0)
			return 0;
		if (*s == '\0')
			return -1;
		for (; *s != '\0'; s++) {
			if (*s < '0' || *s > '9')
				return -1;
			if (x < EXPIRES_MAX)
				x = x * 10 + (*s - '0');
		}
	} else
		return -1;
	if (x < 0)
		return -1;
	return x > EXPIRES_MAX ? EXPIRES_MAX : x;
}

/* sip:[user@]host[:port][;params] as Kamailio and OpenSIPS print it. */
static int
received_addr(const char *u, struct sg_addr *a, uint16_t *port)
{
	char		 host[64];
	const char	*p, *e;
	size_t		 n;
	unsigned long	 v = 0;

	if (strncasecmp(u, "sip:", 4) == 0)
		u += 4;
	else if (strncasecmp(u, "sips:", 5) == 0)
		u += 5;
	if ((p = strchr(u, '@')) != NULL)
		u = p + 1;
	if (*u == '[') {
		if ((e = strchr(u, ']')) == NULL)
			return -1;
		u++;
		n = (size_t)(e - u);
		e++;
	} else {
		n = strcspn(u, ":;");
		e = u + n;
	}
	if (n == 0 || n >= sizeof(host))
		return -1;
	memcpy(host, u, n);
	host[n] = '\0';
	if (sg_addr_parse(host, a) == -1 || !sg_addr_is_ip(a))
		return -1;
	*port = 0;
	if (*e == ':') {
		for (e++; *e >= '0' && *e <= '9'; e++)
			if ((v = v * 10 + (unsigned long)(*e - '0')) > 65535)
				return -1;
		*port = (uint16_t)v;
	}
	return *e == '\0' || *e == ';' ? 0 : -1;
}

/*
 * d and s through the packet parser: a REGISTER To the AoR with the
 * dumped Contact, so the identity is normalised and hashed as a phone's.
 */
static int
sip_fields(struct walk *w, const char *aor, const char *contact,
    struct sg_tuple *t)
{
	char		 msg[1024], id[FIELD_MAX + 130];
	struct sipm	 m;
	int		 len;

	if (strncasecmp(aor, "sip:", 4) == 0)
		aor += 4;
	else if (strncasecmp(aor, "sips:", 5) == 0)
		aor += 5;
	if (strchr(aor, '@') != NULL)
		snprintf(id, sizeof(id), "%s", aor);
	else if (w->domain != NULL && w->domain[0] != '\0')
		snprintf(id, sizeof(id), "%s@%s", aor, w->domain);
	else
		return -1;
	len = snprintf(msg, sizeof(msg),
	    "REGISTER sip:import.invalid SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKimport\r\n"
	    "From: <sip:%s>;tag=import\r\n"
	    "To: <sip:%s>\r\n"
	    "Call-ID: import\r\n"
	    "CSeq: 1 REGISTER\r\n"
	    "Contact: <%s>\r\n"
	    "Content-Length: 0\r\n\r\n", id, id, contact);
	if (len < 0 || (size_t)len >= sizeof(msg))
		return -1;
	if (sipm_parse(w->sp, (const uint8_t *)msg, (size_t)len, false, &m) !=
	    SIPM_K_SIP || m.to_h == 0 || m.to[0] == '\0' ||
	    m.ncontacts_kept != 1 || m.contact_star)
		return -1;
	t->dh = m.to_h;
	memcpy(t->d, m.to, sizeof(t->d));
	t->s = m.contact_host;
	return 0;
}

static void
contact(struct walk *w, const char *aor, const json_t *c)
{
	const char	*addr, *recv = NULL;
	const json_t	*o = c;
	struct sg_tuple	 t;
	int64_t		 secs;
	uint64_t	 expires;
	int		 rc = 0;

	w->r->contacts++;
	/* Kamailio: { "Contact": { "Address": ... } }; OpenSIPS: flat. */
	if (json_is_object(json_object_get(c, "Contact"))) {
		o = json_object_get(c, "Contact");
		addr = field(o, "Address");
		if (w->r->format == NULL)
			w->r->format = "kamailio";
	} else {
		addr = field(o, "Contact");
		if (w->r->format == NULL)
			w->r->format = "opensips";
	}
	memset(&t, 0, sizeof(t));
	if (aor == NULL || addr == NULL || sip_fields(w, aor, addr, &t) == -1 ||
	    (secs = expires_of(o)) < 0) {
		w->r->malformed++;
		return;
	}
	/* NAT: the proxy saw the device at its received address. */
	if (!unset(o, "Received")) {
		if ((recv = field(o, "Received")) == NULL ||
		    received_addr(recv, &t.i, &t.sport) == -1) {
			w->r->malformed++;
			return;
		}
	} else if (sg_addr_is_ip(&t.s))
		t.i = t.s;
	else {
		w->r->malformed++;
		return;
	}
	expires = w->dumped + (uint64_t)secs * NS_PER_SEC;
	if (secs == 0 || expires <= w->now) {
		w->r->expired++;
		return;
	}
	if (w->hold != NULL && ++w->held % IMPORT_HOLD == 0) {
		w->hold(w->harg, false);
		w->hold(w->harg, true);
	}
	for (int k = 0; k < w->n; k++) {
		int	 x = bind_import(w->bt[k], &t, expires, w->now);

		if (k == 0)
			rc = x;
	}
	if (rc == 1)
		w->r->imported++;
	else if (rc == 0)
		w->r->known++;
	else
		w->r->refused++;
}

static void
record(struct walk *w, const json_t *rec)
{
	const json_t	*cs = json_object_get(rec, "Contacts");
	const char	*aor;
	size_t		 k;
	json_t		*c;

	aor = field(rec, "AoR");
	if (aor == NULL)
		aor = field(rec, "AOR");
	w->r->records++;
	if (!json_is_array(cs)) {
		w->r->malformed++;
		return;
	}
	json_array_foreach(cs, k, c) {
		if (json_is_object(c))
			contact(w, aor, c);
		else {
			w->r->contacts++;
			w->r->malformed++;
		}
	}
}

/* Any object holding Contacts is a record (an AoR's), wherever it is. */
static void
walk(struct walk *w, const json_t *v, int depth)
{
	const char	*key;
	json_t		*x;
	size_t		 k;

	if (depth > DEPTH_MAX)
		return;
	if (json_is_array(v)) {
		json_array_foreach(v, k, x)
			walk(w, x, depth + 1);
		return;
	}
	if (!json_is_object(v))
		return;
	if (json_object_get(v, "Contacts") != NULL) {
		record(w, v);
		return;
	}
	json_object_foreach((json_t *)v, key, x) {
		if ((strcmp(key, "AoRs") == 0 || strcmp(key, "AORs") == 0) &&
		    json_is_array(x))
			w->arrays++;
		walk(w, x, depth + 1);
	}
}

int
import_buf(const char *buf, size_t len, const char *domain,
    struct bind_table **bt, int n, uint64_t dumped, uint64_t now,
    void (*hold)(void *, bool), void *harg, struct import_result *r,
    char *err, size_t errlen)
{
	struct walk	 w;
	json_error_t	 je;
	json_t		*root, *e;

	memset(r, 0, sizeof(*r));
	if (len > IMPORT_MAX_BYTES) {
		snprintf(err, errlen, "larger than %u bytes", IMPORT_MAX_BYTES);
		return -1;
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		snprintf(err, errlen, "line %d, column %d: not JSON: %s (the "
		    "JSON of kamctl rpc ul.dump or opensips-cli -x mi "
		    "ul_dump; kamcmd prints text)", je.line, je.column,
		    je.text);
		return -1;
	}
	if ((e = json_object_get(root, "error")) != NULL) {
		const char *msg = json_string_value(json_object_get(e,
		    "message"));

		snprintf(err, errlen, "the proxy answered an error: %.100s",
		    msg != NULL ? msg : "(no message)");
		json_decref(root);
		return -1;
	}
	memset(&w, 0, sizeof(w));
	w.domain = domain;
	w.bt = bt;
	w.n = n;
	w.dumped = dumped;
	w.now = now;
	w.r = r;
	w.hold = hold;
	w.harg = harg;
	if ((w.sp = sipm_parser_create()) == NULL) {
		snprintf(err, errlen, "out of memory");
		json_decref(root);
		return -1;
	}
	if (hold != NULL)
		hold(harg, true);
	walk(&w, root, 0);
	if (hold != NULL)
		hold(harg, false);
	sipm_parser_destroy(w.sp);
	json_decref(root);
	if (w.arrays == 0 && r->records == 0) {
		snprintf(err, errlen, "no registrations: no \"AoRs\" "
		    "(Kamailio ul.dump) or \"AORs\" (OpenSIPS ul_dump) array");
		return -1;
	}
	if (r->format == NULL)
		r->format = "empty";
	return 0;
}

int
import_read(const char *path, char **buf, size_t *len, uint64_t now,
    uint64_t *dumped, char *err, size_t errlen)
{
	struct stat	 st;
	ssize_t		 got;
	size_t		 off = 0;
	int		 fd;

	*buf = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > IMPORT_MAX_BYTES) {
		snprintf(err, errlen, "%s: %s", path, !S_ISREG(st.st_mode) ?
		    "not a regular file" : "larger than 64 MiB");
		close(fd);
		return -1;
	}
	if ((*buf = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		close(fd);
		return -1;
	}
	while (off < (size_t)st.st_size && (got = read(fd, *buf + off,
	    (size_t)st.st_size - off)) > 0)
		off += (size_t)got;
	close(fd);
	*len = off;
	/*
	 * Expires are seconds left when the proxy wrote the file; an old
	 * dump so adds only what is still live, a future mtime nothing more.
	 */
	*dumped = (uint64_t)st.st_mtim.tv_sec * NS_PER_SEC +
	    (uint64_t)st.st_mtim.tv_nsec;
	if (*dumped > now)
		*dumped = now;
	return 0;
}

int
import_file(const char *path, const char *domain, struct engine **e, int n,
    uint64_t now, struct import_result *r, char *err, size_t errlen)
{
	struct bind_table	*bt[64];
	char			 why[384];
	char			*buf;
	size_t			 len;
	uint64_t		 dumped;
	int			 rc;

	memset(r, 0, sizeof(*r));
	if (n > (int)nitems(bt))
		n = (int)nitems(bt);
	for (int k = 0; k < n; k++)
		bt[k] = engine_bindings(e[k]);
	if (import_read(path, &buf, &len, now, &dumped, err, errlen) == -1)
		return -1;
	rc = import_buf(buf, len, domain, bt, n, dumped, now, NULL, NULL, r,
	    why, sizeof(why));
	free(buf);
	if (rc == -1)
		snprintf(err, errlen, "%s: %s", path, why);
	return rc;
}
