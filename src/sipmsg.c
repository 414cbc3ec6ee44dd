/*
 * sipmsg.c: payload classification and SIP field extraction.
 *
 * libosip2 parses bodies, MIME parts included, and leaks on some of them
 * (a 60 KB multipart datagram costs ~1 MB and ~0.7 s): so it is given the
 * start line and the few headers the decision reads, copied into a scratch
 * buffer, and never a body.  osip2 also accepts much that is not sane
 * (negative Content-Length, CSeq method mismatch, status 4294967301, ...):
 * every field the decision depends on is checked here.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <osipparser2/osip_parser.h>

#include "hash.h"
#include "sipmsg.h"

#define SCRATCH_MAX	(SG_PKT_MAX + 64)
#define FIRSTLINE_MAX	8192
#define LINE_TMP	(8192 + 256)	/* a kept header, normalised */

struct sipm_parser {
	char		 buf[SCRATCH_MAX];
	char		 tmp[LINE_TMP];
};

/* osip2 prints its errors to stdout unless told otherwise: never here. */
static void
osip_silence(const char *file, int line, osip_trace_level_t level,
    const char *fmt, va_list ap)
{
	(void)file;
	(void)line;
	(void)level;
	(void)fmt;
	(void)ap;
}

struct sipm_parser *
sipm_parser_create(void)
{
	static int	 inited;

	if (!inited) {
		if (parser_init() != 0)
			return NULL;
		osip_trace_initialize_func(END_TRACE_LEVEL, osip_silence);
		inited = 1;
	}
	return calloc(1, sizeof(struct sipm_parser));
}

void
sipm_parser_destroy(struct sipm_parser *p)
{
	free(p);
}

static const struct {
	const char	*name;
	enum sip_method	 m;
} methods[] = {
	{ "REGISTER", SIPM_REGISTER }, { "INVITE", SIPM_INVITE },
	{ "ACK", SIPM_ACK }, { "BYE", SIPM_BYE }, { "CANCEL", SIPM_CANCEL },
	{ "OPTIONS", SIPM_OPTIONS }, { "MESSAGE", SIPM_MESSAGE },
	{ "SUBSCRIBE", SIPM_SUBSCRIBE }, { "NOTIFY", SIPM_NOTIFY },
	{ "PUBLISH", SIPM_PUBLISH }, { "INFO", SIPM_INFO },
	{ "PRACK", SIPM_PRACK }, { "UPDATE", SIPM_UPDATE },
	{ "REFER", SIPM_REFER },
};

/* Methods are case-sensitive (RFC 3261 7.1). */
enum sip_method
sipm_method_from_str(const char *s)
{
	for (size_t k = 0; k < nitems(methods); k++)
		if (strcmp(s, methods[k].name) == 0)
			return methods[k].m;
	return SIPM_OTHER;
}

/* ---- classification ----------------------------------------------------- */

static bool
is_stun(const uint8_t *p, size_t len)
{
	size_t	 mlen;

	if (len < 20 || (p[0] & 0xc0) != 0)
		return false;
	if (p[4] != 0x21 || p[5] != 0x12 || p[6] != 0xa4 || p[7] != 0x42)
		return false;
	mlen = (size_t)(p[2] << 8 | p[3]);
	return (mlen % 4) == 0 && mlen + 20 == len;
}

static bool
is_tchar(int c)
{
	return isalnum(c) || strchr("-.!%*_+`'~", c) != NULL;
}

/* Header names that only SIP (and its kin) put at the start of a line. */
static bool
sip_header_line(const uint8_t *p, size_t n)
{
	static const char *const names[] = {
		"via", "v", "cseq", "call-id", "i", "from", "f", "to", "t",
	};
	size_t	 k = 0, namelen;

	while (k < n && k < 16 && p[k] != ':' && p[k] != ' ' && p[k] != '\t')
		k++;
	namelen = k;
	while (k < n && (p[k] == ' ' || p[k] == '\t'))
		k++;
	if (namelen == 0 || k >= n || p[k] != ':')
		return false;
	k = namelen;
	for (size_t j = 0; j < nitems(names); j++)
		if (strlen(names[j]) == k &&
		    strncasecmp(names[j], (const char *)p, k) == 0)
			return true;
	return false;
}

/*
 * Does the payload claim to be SIP (SPEC 1)?  A status line "SIP/...", a
 * request line whose last token starts with "SIP/", or, when the start
 * line is mangled beyond that, a Via, CSeq, Call-ID, From or To header at
 * the start of a line.  A claim that does not parse is malformed; a
 * payload that makes none ("hello" keep-alives, RTP) is simply not SIP.
 */
static bool
claims_sip(const uint8_t *p, size_t len)
{
	size_t	 n, k;

	while (len > 0 && (*p == '\r' || *p == '\n')) {
		p++;
		len--;
	}
	if (len >= 4 && memcmp(p, "SIP/", 4) == 0)
		return true;
	for (n = 0; n < len && n < FIRSTLINE_MAX && p[n] != '\n'; n++)
		;
	for (k = 0; k + 5 <= n; k++)
		if (p[k] == ' ' && memcmp(p + k + 1, "SIP/", 4) == 0)
			return true;
	/* Look at the start of every following line, in the first 4 KB. */
	for (k = n; k + 1 < len && k < 4096; k++)
		if (p[k] == '\n' && sip_header_line(p + k + 1, len - k - 1))
			return true;
	return false;
}

/* ---- header scan -------------------------------------------------------- */

enum hdr {
	H_OTHER = 0, H_VIA, H_FROM, H_TO, H_CALLID, H_CSEQ, H_CONTACT,
	H_EXPIRES, H_AUTH, H_PAUTH, H_CLEN,
};

static inline int
lc(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* Case-insensitive compare of a name of known length with a literal. */
static bool
name_is(const char *name, size_t n, const char *lit, size_t litlen)
{
	if (n != litlen)
		return false;
	for (size_t k = 0; k < n; k++)
		if (lc((unsigned char)name[k]) != lit[k])
			return false;
	return true;
}

/* Dispatch on length and first letter: this runs for every header line. */
static enum hdr
header_id(const char *name, size_t n)
{
	if (n == 0)
		return H_OTHER;
	switch (lc((unsigned char)name[0])) {
	case 'v':
		if (n == 1 || name_is(name, n, "via", 3))
			return H_VIA;
		break;
	case 'f':
		if (n == 1 || name_is(name, n, "from", 4))
			return H_FROM;
		break;
	case 't':
		if (n == 1 || name_is(name, n, "to", 2))
			return H_TO;
		break;
	case 'i':
		if (n == 1)
			return H_CALLID;
		break;
	case 'c':
		if (name_is(name, n, "call-id", 7))
			return H_CALLID;
		if (name_is(name, n, "cseq", 4))
			return H_CSEQ;
		if (name_is(name, n, "contact", 7))
			return H_CONTACT;
		if (name_is(name, n, "content-length", 14))
			return H_CLEN;
		break;
	case 'm':
		if (n == 1)
			return H_CONTACT;
		break;
	case 'l':
		if (n == 1)
			return H_CLEN;
		break;
	case 'e':
		if (name_is(name, n, "expires", 7))
			return H_EXPIRES;
		break;
	case 'a':
		if (name_is(name, n, "authorization", 13))
			return H_AUTH;
		break;
	case 'p':
		if (name_is(name, n, "proxy-authorization", 19))
			return H_PAUTH;
		break;
	}
	return H_OTHER;
}

struct scan {
	size_t		 head_len;	/* start line + headers, no blank */
	size_t		 body_off;	/* first body byte */
	long long	 clen;		/* -1 absent, -2 malformed */
	int		 nclen;
	bool		 terminated;	/* blank line seen */
	const char	*bad;		/* why the headers are unusable */
};

/*
 * Bounds on what reaches osip2.  Its parameter lists are quadratic
 * (30,000 ";x" in one To cost ~0.9 s): no legitimate message comes near
 * these, and a message beyond them is malformed, not parsed.
 */
#define LINE_MAX_KEPT	8192	/* one kept header, folded lines included */
#define PARAMS_MAX	512	/* ';' over all kept headers */
#define CONTACTS_MAX	64	/* ',' over all Contact headers */

/* Parse a Content-Length value: digits with optional surrounding LWS. */
static long long
parse_clen(const uint8_t *v, size_t n)
{
	long long	 x = 0;
	size_t		 k = 0;
	int		 digits = 0;

	while (k < n && (v[k] == ' ' || v[k] == '\t'))
		k++;
	for (; k < n && isdigit(v[k]); k++) {
		if (++digits > 9)
			return -2;
		x = x * 10 + (v[k] - '0');
	}
	while (k < n && (v[k] == ' ' || v[k] == '\t' || v[k] == '\r'))
		k++;
	return (digits == 0 || k != n) ? -2 : x;
}

/*
 * An identity header's URI escapes must be well formed: osip2 stops at
 * a bad one (and at %00) and would hand two different users the same
 * name.
 */
static bool
escapes_ok(const uint8_t *v, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		if (v[k] != '%')
			continue;
		if (k + 2 >= n || !isxdigit(v[k + 1]) || !isxdigit(v[k + 2]) ||
		    (v[k + 1] == '0' && v[k + 2] == '0'))
			return false;
		k += 2;
	}
	return true;
}

static size_t
count_byte(const uint8_t *p, size_t n, uint8_t c)
{
	size_t	 x = 0;

	for (const uint8_t *q = p; (q = memchr(q, c, n - (size_t)(q - p))) !=
	    NULL; q++)
		x++;
	return x;
}

/*
 * Copy the start line and the headers the decision reads into `out'
 * (NULL: only scan), with NULs replaced (osip2 works on C strings: a NUL
 * would silently cut a value short).  Only the first Via header goes
 * through: the top Via is all the decision reads.  Returns the length
 * copied, or -1 (sc->bad says why).
 */
static long
filter_headers(const uint8_t *p, size_t len, char *out, size_t outsz,
    struct scan *sc)
{
	size_t		 pos = 0, o = 0, eol, kept_len = 0;
	size_t		 params = 0, contacts = 0;
	bool		 keep = true, first = true, seen_via = false;
	enum hdr	 cur = H_OTHER;

	memset(sc, 0, sizeof(*sc));
	sc->clen = -1;
	/* Leading CRLFs before the start line are allowed (RFC 3261 7.5). */
	while (pos < len && (p[pos] == '\r' || p[pos] == '\n'))
		pos++;
	while (pos < len) {
		size_t		 start = pos, linelen;
		const uint8_t	*nl = memchr(p + pos, '\n', len - pos);

		eol = nl != NULL ? (size_t)(nl - p) : len;
		linelen = eol - start;
		if (linelen > 0 && p[start + linelen - 1] == '\r')
			linelen--;
		pos = eol < len ? eol + 1 : len;
		if (linelen == 0) {		/* blank line: end of headers */
			sc->terminated = true;
			break;
		}
		if (!first && (p[start] == ' ' || p[start] == '\t')) {
			/* A folded line continues the previous header. */
			if (cur == H_CLEN && sc->bad == NULL)
				sc->bad = "folded Content-Length";
			kept_len += linelen;
		} else if (!first) {
			const uint8_t	*colon = memchr(p + start, ':', linelen);
			size_t		 namelen;

			if (colon == NULL) {
				/* Scanning (framing) goes on to the end. */
				if (sc->bad == NULL)
					sc->bad = "header without a colon";
				if (out != NULL)
					return -1;
				continue;
			}
			namelen = (size_t)(colon - (p + start));
			while (namelen > 0 && (p[start + namelen - 1] == ' ' ||
			    p[start + namelen - 1] == '\t'))
				namelen--;
			cur = header_id((const char *)p + start, namelen);
			if (cur == H_CLEN) {
				sc->nclen++;
				sc->clen = parse_clen(colon + 1, (size_t)(p +
				    start + linelen - colon - 1));
			}
			keep = cur != H_OTHER && cur != H_CLEN &&
			    !(cur == H_VIA && seen_via);
			if (cur == H_VIA)
				seen_via = true;
			kept_len = linelen;
		}
		if (first || !keep)
			goto copy;
		/* The bounds on what osip2 gets. */
		params += count_byte(p + start, linelen, ';');
		if (cur == H_CONTACT)
			contacts += count_byte(p + start, linelen, ',');
		if (kept_len > LINE_MAX_KEPT || params > PARAMS_MAX ||
		    contacts > CONTACTS_MAX) {
			sc->bad = "headers too large";
			return -1;
		}
		if ((cur == H_FROM || cur == H_TO || cur == H_CONTACT) &&
		    !escapes_ok(p + start, linelen)) {
			sc->bad = "bad %-escape in a URI";
			return -1;
		}
copy:
		if (out != NULL && (first || keep)) {
			char	*z, *zend;

			if (o + linelen + 2 >= outsz) {
				sc->bad = "headers too large";
				return -1;
			}
			memcpy(out + o, p + start, linelen);
			zend = out + o + linelen;
			for (z = out + o; (z = memchr(z, '\0',
			    (size_t)(zend - z))) != NULL; z++)
				*z = '?';
			o += linelen;
			out[o++] = '\r';
			out[o++] = '\n';
		}
		first = false;
	}
	sc->head_len = pos;
	sc->body_off = pos;
	if (out == NULL)
		return 0;
	if (o + 3 > outsz) {
		sc->bad = "headers too large";
		return -1;
	}
	out[o++] = '\r';
	out[o++] = '\n';
	out[o] = '\0';
	return (long)o;
}

/* ---- field helpers ------------------------------------------------------ */

static void
copy_trunc(char *dst, size_t dsz, const char *src)
{
	size_t	 n = strlen(src);

	if (n >= dsz)
		n = dsz - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Strip one pair of double quotes, as osip2 keeps them on digest fields. */
static const char *
unquote(const char *s, char *buf, size_t bsz)
{
	size_t	 n;

	if (s == NULL)
		return NULL;
	n = strlen(s);
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s++;
		n -= 2;
	}
	if (n >= bsz)
		n = bsz - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return buf;
}

/* A host as text to an address: IP literal (bracketed IPv6 too) or name. */
static void
host_to_addr(const char *host, struct sg_addr *a)
{
	char	 buf[256];
	size_t	 n = strlen(host);

	memset(a, 0, sizeof(*a));
	if (n == 0)
		return;
	if (host[0] == '[' && n >= 2 && host[n - 1] == ']') {
		host++;
		n -= 2;
	}
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	for (size_t k = 0; k < n; k++)
		buf[k] = (char)tolower((unsigned char)host[k]);
	buf[n] = '\0';
	if (sg_addr_parse(buf, a) == 0)
		return;
	/* A name: kept as a keyed hash, so it compares but never equals i. */
	{
		uint64_t	 h = hash_bytes(buf, n);

		memset(a, 0, sizeof(*a));
		a->family = SG_AF_HOST;
		memcpy(a->a, &h, sizeof(h));
	}
}

static int
hexv(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Append `s' to out[*o], bounded: lower-cased, %XX-decoded if asked. */
static void
append_norm(char *out, size_t osz, size_t *o, const char *s, bool decode,
    bool lower)
{
	for (; *s != '\0' && *o + 1 < osz; s++) {
		int	 c = (unsigned char)*s;

		if (decode && c == '%' && hexv(s[1]) >= 0 && hexv(s[2]) >= 0) {
			c = hexv(s[1]) << 4 | hexv(s[2]);
			s += 2;
		}
		out[(*o)++] = (char)(lower ? lc(c) : c);
	}
	out[*o] = '\0';
}

/*
 * SPEC 2: d is the address-of-record user@host, lower-cased.  Other
 * schemes (tel:) keep scheme and number.  The hash covers the whole
 * value; the stored copy may be truncated.  With `port', user@host:port
 * (for matching Contacts).
 */
static int
uri_identity(const osip_uri_t *u, char *out, size_t osz, uint64_t *h,
    char *tmp, size_t tsz, bool port)
{
	size_t	 o = 0;

	if (u == NULL)
		return -1;
	if (u->scheme != NULL && strcasecmp(u->scheme, "sip") != 0 &&
	    strcasecmp(u->scheme, "sips") != 0) {
		if (u->string == NULL || u->string[0] == '\0')
			return -1;
		append_norm(tmp, tsz, &o, u->scheme, false, true);
		append_norm(tmp, tsz, &o, ":", false, true);
		append_norm(tmp, tsz, &o, u->string, true, true);
	} else {
		if (u->host == NULL || u->host[0] == '\0')
			return -1;
		/* osip2 has already decoded %XX in a sip/sips user part. */
		if (u->username != NULL && u->username[0] != '\0') {
			append_norm(tmp, tsz, &o, u->username, false, true);
			append_norm(tmp, tsz, &o, "@", false, true);
		}
		append_norm(tmp, tsz, &o, u->host, false, true);
		if (port) {
			append_norm(tmp, tsz, &o, ":", false, true);
			append_norm(tmp, tsz, &o, u->port != NULL ? u->port :
			    "5060", false, true);
		}
	}
	*h = hash_bytes(tmp, o);
	if (out != NULL)
		copy_trunc(out, osz, tmp);
	return 0;
}

/* delta-seconds: digits, clamped to 2^32-1 (RFC 3261 20.19). */
static int64_t
parse_delta(const char *s)
{
	int64_t	 v = 0;

	if (s == NULL)
		return -1;
	while (*s == ' ' || *s == '\t')
		s++;
	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		v = v * 10 + (*s - '0');
		if (v > 0xffffffffLL)
			v = 0xffffffffLL;
	}
	while (*s == ' ' || *s == '\t')
		s++;
	return *s == '\0' ? v : -1;
}

static int64_t
contact_expires(osip_contact_t *c)
{
	osip_generic_param_t	*p = NULL;

	if (osip_contact_param_get_byname(c, "expires", &p) != 0 || p == NULL)
		return -1;
	return parse_delta(p->gvalue);
}

/* ---- extraction --------------------------------------------------------- */

static const char *
extract(struct sipm_parser *sp, osip_message_t *msg, struct sipm *m)
{
	osip_via_t		*via = NULL;
	osip_contact_t		*ct = NULL;
	osip_authorization_t	*au = NULL;
	osip_header_t		*eh = NULL;
	char			*tmp = sp->tmp;
	size_t			 tsz = sizeof(sp->tmp);
	const char		*cs;
	char			*end;
	unsigned long long	 seq;
	osip_list_iterator_t	 it;

	if (MSG_IS_REQUEST(msg)) {
		m->request = true;
		if (msg->sip_method == NULL || msg->req_uri == NULL)
			return "request line";
		for (cs = msg->sip_method; *cs != '\0'; cs++)
			if (!is_tchar((unsigned char)*cs))
				return "method";
		copy_trunc(m->method_str, sizeof(m->method_str),
		    msg->sip_method);
		m->method = sipm_method_from_str(msg->sip_method);
		if (msg->sip_version == NULL ||
		    strcasecmp(msg->sip_version, "SIP/2.0") != 0)
			return "version";
	} else {
		/*
		 * osip2 reads the code with sscanf("%d"): 4294967496 wraps to
		 * 200.  The start line in our copy must hold three digits.
		 */
		const char	*sp1 = strchr(sp->buf, ' ');

		if (sp1 == NULL || !isdigit((unsigned char)sp1[1]) ||
		    !isdigit((unsigned char)sp1[2]) ||
		    !isdigit((unsigned char)sp1[3]) ||
		    (sp1[4] != ' ' && sp1[4] != '\r' && sp1[4] != '\n'))
			return "status code";
		if (msg->status_code < 100 || msg->status_code > 699)
			return "status code";
		if (msg->sip_version == NULL ||
		    strcasecmp(msg->sip_version, "SIP/2.0") != 0)
			return "version";
		m->status = msg->status_code;
		m->method = SIPM_NONE;
	}

	if (msg->call_id == NULL || msg->call_id->number == NULL ||
	    msg->call_id->number[0] == '\0')
		return "Call-ID";
	{
		size_t	 o = 0;

		append_norm(tmp, tsz, &o, msg->call_id->number, false, false);
		if (msg->call_id->host != NULL) {
			append_norm(tmp, tsz, &o, "@", false, false);
			append_norm(tmp, tsz, &o, msg->call_id->host, false,
			    false);
		}
		m->call_id_h = hash_bytes(tmp, o);
		copy_trunc(m->call_id, sizeof(m->call_id), tmp);
	}

	if (msg->cseq == NULL || msg->cseq->number == NULL ||
	    msg->cseq->method == NULL)
		return "CSeq";
	if (!isdigit((unsigned char)msg->cseq->number[0]))
		return "CSeq";
	seq = strtoull(msg->cseq->number, &end, 10);
	if (*end != '\0' || seq > 0x7fffffffULL ||
	    strlen(msg->cseq->number) > 10)
		return "CSeq";
	m->cseq = (uint32_t)seq;
	m->cseq_method = sipm_method_from_str(msg->cseq->method);
	if (m->request && strcmp(msg->cseq->method, msg->sip_method) != 0)
		return "CSeq method";

	if (msg->from == NULL || uri_identity(msg->from->url, m->from,
	    sizeof(m->from), &m->from_h, tmp, tsz, false) == -1)
		return "From";
	if (msg->from->url->host != NULL &&
	    strcasecmp(msg->from->url->host, "anonymous.invalid") == 0)
		m->from_anonymous = true;
	if (msg->to == NULL || uri_identity(msg->to->url, m->to,
	    sizeof(m->to), &m->to_h, tmp, tsz, false) == -1)
		return "To";

	if (osip_message_get_via(msg, 0, &via) < 0 || via == NULL ||
	    via->host == NULL || via->host[0] == '\0')
		return "Via";
	host_to_addr(via->host, &m->via_host);

	m->ncontacts = osip_list_size(&msg->contacts);
	if (m->ncontacts < 0)
		m->ncontacts = 0;
	m->contact_expires = -1;
	for (ct = osip_list_get_first(&msg->contacts, &it); ct != NULL;
	    ct = osip_list_get_next(&it)) {
		if (ct->displayname != NULL && strcmp(ct->displayname,
		    "*") == 0 && ct->url == NULL) {
			/* RFC 3261 10.2.2: "*" stands alone. */
			if (m->ncontacts > 1)
				return "Contact";
			m->contact_star = true;
			continue;
		}
		if (ct->url == NULL)
			return "Contact";
		if (m->ncontacts_kept < SIPM_MAX_CONTACTS) {
			struct sipm_contact *c =
			    &m->contacts[m->ncontacts_kept];

			if (uri_identity(ct->url, NULL, 0, &c->uh, tmp, tsz,
			    true) == -1)
				return "Contact";
			c->expires = contact_expires(ct);
			m->ncontacts_kept++;
			if (m->ncontacts_kept == 1) {
				m->contact_uh = c->uh;
				m->contact_expires = c->expires;
				if (ct->url->host != NULL)
					host_to_addr(ct->url->host,
					    &m->contact_host);
				if (uri_identity(ct->url, NULL, 0,
				    &m->contact_idh, tmp, tsz, false) == -1)
					return "Contact";
			}
		}
	}

	m->expires = -1;
	if (osip_message_get_expires(msg, 0, &eh) >= 0 && eh != NULL) {
		m->expires = parse_delta(eh->hvalue);
	}

	if (osip_message_get_authorization(msg, 0, &au) < 0 || au == NULL)
		au = NULL;
	if (au == NULL) {
		osip_proxy_authorization_t *pa = NULL;

		if (osip_message_get_proxy_authorization(msg, 0, &pa) >= 0)
			au = pa;
	}
	if (au != NULL) {
		const char *u;

		m->has_auth = true;
		if ((u = unquote(au->username, tmp, tsz)) != NULL &&
		    u[0] != '\0') {
			copy_trunc(m->impi, sizeof(m->impi), u);
			m->impi_h = hash_bytes(u, strlen(u)) | 1;
		}
		/* The whole nonce and response, however long. */
		if (au->nonce != NULL && au->response != NULL) {
			m->auth_h = hash_mix(hash_bytes(au->nonce,
			    strlen(au->nonce)), hash_bytes(au->response,
			    strlen(au->response))) | 1;
			m->auth_has_response = true;
		}
	}
	return NULL;
}

enum sipm_kind
sipm_parse(struct sipm_parser *sp, const uint8_t *p, size_t len, bool stream,
    struct sipm *m)
{
	osip_message_t	*msg = NULL;
	struct scan	 sc;
	long		 n;
	size_t		 body;
	bool		 crlf_only = true;

	memset(m, 0, sizeof(*m));
	m->expires = -1;
	m->contact_expires = -1;
	if (len == 0)
		return SIPM_K_EMPTY;
	for (size_t k = 0; k < len; k++)
		if (p[k] != '\r' && p[k] != '\n') {
			crlf_only = false;
			break;
		}
	if (crlf_only && len <= 8)
		return SIPM_K_KEEPALIVE;
	if (is_stun(p, len))
		return SIPM_K_STUN;
	if (!claims_sip(p, len))
		return SIPM_K_NOT_SIP;

	n = filter_headers(p, len, sp->buf, sizeof(sp->buf), &sc);
	if (n < 0 || sc.bad != NULL) {
		m->why = sc.bad != NULL ? sc.bad : "header syntax";
		return SIPM_K_MALFORMED;
	}
	body = len - sc.body_off;
	if (sc.nclen > 1 || sc.clen == -2) {
		m->why = "Content-Length";
		return SIPM_K_MALFORMED;
	}
	if (stream) {
		if (sc.clen < 0)
			sc.clen = 0;
		if ((size_t)sc.clen > body) {
			m->why = "Content-Length";
			return SIPM_K_MALFORMED;
		}
		m->msg_len = sc.body_off + (size_t)sc.clen;
	} else {
		/* RFC 3261 18.3: a UDP body shorter than stated is an error. */
		if (sc.clen >= 0 && (size_t)sc.clen > body) {
			m->why = "Content-Length";
			return SIPM_K_MALFORMED;
		}
		m->msg_len = len;
	}

	if (osip_message_init(&msg) != 0) {
		m->why = "out of memory";
		return SIPM_K_MALFORMED;
	}
	if (osip_message_parse(msg, sp->buf, (size_t)n) != 0) {
		osip_message_free(msg);
		m->why = "osip2 rejects it";
		return SIPM_K_MALFORMED;
	}
	m->why = extract(sp, msg, m);
	osip_message_free(msg);
	return m->why == NULL ? SIPM_K_SIP : SIPM_K_MALFORMED;
}

long
sipm_frame(const uint8_t *p, size_t len)
{
	struct scan	 sc;
	long		 n;

	n = filter_headers(p, len, NULL, 0, &sc);
	if (n < 0)
		return -1;
	/*
	 * A bad header line does not stop framing: the message is whole
	 * (the proxy will frame it by Content-Length), and sipm_parse()
	 * will call it malformed.
	 */
	if (!sc.terminated)
		return len >= SG_PKT_MAX ? -1 : 0;
	if (sc.nclen > 1 || sc.clen == -2)
		return -1;
	if (sc.clen < 0)
		sc.clen = 0;
	if (sc.body_off + (size_t)sc.clen > len)
		return 0;
	return (long)(sc.body_off + (size_t)sc.clen);
}
