/*
 * sipmsg.c: payload classification and SIP field extraction.
 *
 * libosip2 parses bodies, MIME parts included, and leaks on some of them
 * (a 60 KB multipart datagram costs ~1 MB and ~0.7 s): so it is given the
 * start line and the few headers the decision reads, copied into a scratch
 * buffer, each to its parser of that header, and never a body.  osip2
 * also accepts much that is not sane (negative Content-Length, CSeq method
 * mismatch, status 4294967301, ...): every field the decision depends on
 * is checked here.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <osipparser2/osip_parser.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "hash.h"
#include "sipmsg.h"

#define SCRATCH_MAX	(SG_PKT_MAX + 64)
#define LINE_TMP	(8192 + 256)	/* a kept header, normalised */

/*
 * The '%' of a sip/sips URI is replaced by this byte before osip2 sees it.
 * osip2 decodes %HH escapes in a user part into a C string, so "bob%00x"
 * would come back as "bob", the same user as "bob"; uri_identity() decodes the
 * user part itself.  osip2 also decodes with an sscanf() per escape that
 * measures the rest of the string, quadratic in a long one.  The byte
 * cannot come from the wire: a URI holding a control byte is refused.
 */
#define PCT_MARK	'\001'

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

/*
 * Methods are case-sensitive (RFC 3261 7.1).  strcmp() only where the
 * first byte is the name's.
 */
enum sip_method
sipm_method_from_str(const char *s)
{
	for (size_t k = 0; k < nitems(methods); k++)
		if (s[0] == methods[k].name[0] &&
		    strcmp(s, methods[k].name) == 0)
			return methods[k].m;
	return SIPM_OTHER;
}

/* One of ours in any case: Kamailio's parse_fline.c takes it as ours. */
static bool
method_any_case(const char *s)
{
	for (size_t k = 0; k < nitems(methods); k++)
		if (strcasecmp(s, methods[k].name) == 0)
			return true;
	return false;
}

/* ---- classification ----------------------------------------------------- */

/*
 * What counts as SIP (SPEC 1) is what the proxy parses as SIP.  Kamailio
 * (src/core/parser/parse_fline.c, msg_parser.c) decides by the start line
 * alone.  It skips CR, LF, NUL, SP and HTAB, then reads a status line
 * ("SIP/2.0" in any case, then SP) or a request line (a token, SP, a URI,
 * SP/HTAB, a version, SP/HTAB, end of line) whose version begins with
 * "SIP/2.0" in any case; anything else is not SIP to it (an HTTP version
 * goes to its non-SIP hooks, the rest is dropped).  It then finds headers
 * wherever they are, with no limit on their number.
 *
 * sipguard decides the same way, by the start line, and where it differs
 * it claims more, never less: nothing Kamailio acts on as SIP is ever
 * "not-sip" (which an operator may choose to let through unjudged).
 *
 * - It skips the same bytes before the start line, at most LEAD_MAX.
 * - A start line that begins with "SIP/", or has a token after the first
 *   that begins with "SIP/", in any case, claims SIP: it is parsed, or it
 *   is malformed (dropped by default).  Kamailio takes only "SIP/2.0" and,
 *   in a request, exactly three tokens: what sipguard claims beyond that
 *   (SIP/3.0, four tokens, a bare CR, ...) Kamailio refuses.
 * - SP or HTAB, any number, between all parts (Kamailio wants one SP
 *   after the method and after a status line's version): more is judged
 *   than Kamailio would take.  osip2 knows only SP, and an upper-case
 *   "SIP/" on a status line, so the start line it gets is rewritten with
 *   single spaces and an upper-case "SIP/".
 * - Header lines never make a payload SIP: an MGCP answer ("200 1203 OK",
 *   then "I: 7c") is not SIP to Kamailio, and not to sipguard.  Headers
 *   are found wherever they are, up to the blank line.
 * - Bounds Kamailio does not have: FIRSTLINE_MAX bytes of start line,
 *   LINES_MAX header lines, and those on what reaches osip2 (below).  Past
 *   them a payload is malformed, never not-sip: dropped by default, so not
 *   handed to the proxy unjudged (unless the operator accepts malformed).
 * - A request whose method is one of ours in another case is malformed:
 *   Kamailio takes "register" for a REGISTER, osip2 and RFC 3261 for an
 *   extension method, which would escape the REGISTER checks.
 * - Kamailio can take "HTTP/1.x" replies for replies (http_reply_parse,
 *   off by default); sipguard calls them not-sip.
 */
#define LEAD_MAX	1024	/* CR LF NUL SP HTAB before a start line */
#define FIRSTLINE_MAX	4096	/* the start line */

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

/*
 * RFC 3261 token bytes: letters, digits and "-.!%*_+`'~" (C locale), one
 * table look-up a byte.
 */
static bool
is_tchar(int c)
{
	static const uint8_t	 tc[256] = {
		['-'] = 1, ['.'] = 1, ['!'] = 1, ['%'] = 1, ['*'] = 1,
		['_'] = 1, ['+'] = 1, ['`'] = 1, ['\''] = 1, ['~'] = 1,
		['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1,
		['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
		['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1,
		['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1,
		['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1,
		['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1,
		['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
		['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1,
		['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1,
		['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1,
		['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1,
		['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1,
		['z'] = 1,
	};

	return tc[c & 0xff] != 0;
}

static inline int
lc(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static inline bool
is_lead(uint8_t c)
{
	return c == '\r' || c == '\n' || c == ' ' || c == '\t' || c == '\0';
}

/* "SIP/" in any case. */
static bool
sip_slash(const uint8_t *p, size_t n)
{
	return n >= 4 && lc(p[0]) == 's' && lc(p[1]) == 'i' &&
	    lc(p[2]) == 'p' && p[3] == '/';
}

/*
 * osip2 works on C strings: a NUL would cut a value short, so it becomes
 * a '?'.  memchr() to the first, then a byte loop: NULs may be dense.
 */
static void
nul_to_q(char *s, size_t n)
{
	char	*z = memchr(s, '\0', n);

	for (; z != NULL && z < s + n; z++)
		if (*z == '\0')
			*z = '?';
}

/* The start line, as sipm_parse() found it. */
struct sline {
	size_t		 off;		/* its first byte */
	size_t		 next;		/* the byte after it and its EOL */
	size_t		 tok[3];	/* first three tokens: where, */
	size_t		 toklen[3];	/* how long */
	size_t		 ntok;		/* tokens, all of them */
	bool		 named;		/* one after the first is "SIP/..." */
	int		 delim;		/* the first SP, HTAB, CR or LF */
	size_t		 end;		/* its CR, LF or len */
	bool		 status;
};

/*
 * The tokens of the start line q[0, lim): split at SP and HTAB, up to
 * the first CR or LF, and where that is (lim if none).
 */
static size_t
start_tokens(const uint8_t *q, size_t lim, struct sline *sl)
{
	static const uint8_t	 dl[256] = {
		[' '] = 1, ['\t'] = 1, ['\r'] = 2, ['\n'] = 2,
	};
	size_t			 k;

	for (k = 0; k < lim;) {
		size_t	 t0 = k;

#ifdef __SSE2__
		/* A token, sixteen bytes at a time while sixteen are left. */
		while (k + 16 <= lim) {
			__m128i		 w;
			unsigned	 m;

			w = _mm_loadu_si128((const __m128i *)(const void *)
			    (q + k));
			m = (unsigned)_mm_movemask_epi8(_mm_or_si128(
			    _mm_or_si128(_mm_cmpeq_epi8(w, _mm_set1_epi8(' ')),
			    _mm_cmpeq_epi8(w, _mm_set1_epi8('\t'))),
			    _mm_or_si128(_mm_cmpeq_epi8(w, _mm_set1_epi8('\r')),
			    _mm_cmpeq_epi8(w, _mm_set1_epi8('\n')))));
			if (m != 0) {
				k += (size_t)__builtin_ctz(m);
				break;
			}
			k += 16;
		}
#endif
		while (k < lim && dl[q[k]] == 0)	/* a token */
			k++;
		if (k > t0) {
			if (sl->ntok < 3) {
				sl->tok[sl->ntok] = t0;
				sl->toklen[sl->ntok] = k - t0;
			}
			if (sl->ntok >= 1 && sip_slash(q + t0, k - t0))
				sl->named = true;
			sl->ntok++;
		}
		if (k == lim)
			break;
		if (sl->delim == 0)
			sl->delim = q[k];
		if (dl[q[k]] == 2)			/* CR or LF */
			break;
		while (k < lim && dl[q[k]] == 1)	/* SP, HTAB */
			k++;
	}
	return k;
}

/*
 * Classify by the start line: SIPM_K_SIP (a start line sipguard parses),
 * SIPM_K_NOT_SIP, or SIPM_K_MALFORMED (*why set).  The work is bounded by
 * LEAD_MAX + FIRSTLINE_MAX bytes, whatever the payload's length.
 */
static enum sipm_kind
start_line(const uint8_t *p, size_t len, struct sline *sl, const char **why)
{
	const uint8_t	*q;
	size_t		 n, lim, k;

	memset(sl, 0, sizeof(*sl));
	while (sl->off < len && sl->off < LEAD_MAX && is_lead(p[sl->off]))
		sl->off++;
	if (sl->off == len)
		return SIPM_K_NOT_SIP;
	if (is_lead(p[sl->off])) {
		*why = "blank lines before the start line";
		return SIPM_K_MALFORMED;
	}
	q = p + sl->off;
	n = len - sl->off;
	lim = n < FIRSTLINE_MAX ? n : FIRSTLINE_MAX;
	sl->status = sip_slash(q, n);
	k = start_tokens(q, lim, sl);
	if (k == lim && lim < n) {
		/*
		 * Longer than any start line sipguard parses.  Kamailio could
		 * still take it for a request when its first token ends in SP
		 * (or has not ended yet): malformed.  A first token ending in
		 * HTAB is no request line to Kamailio.
		 */
		if (sl->status || sl->named || sl->delim != '\t') {
			*why = "start line too long";
			return SIPM_K_MALFORMED;
		}
		return SIPM_K_NOT_SIP;
	}
	sl->end = sl->off + k;
	if (k == n)
		sl->next = len;
	else if (q[k] == '\n')
		sl->next = sl->end + 1;
	else if (k + 1 < n && q[k + 1] == '\n')
		sl->next = sl->end + 2;
	else if (sl->status || sl->named) {
		*why = "bare CR after the start line";
		return SIPM_K_MALFORMED;
	} else
		return SIPM_K_NOT_SIP;
	if (sl->status) {
		if (sl->ntok < 2) {
			*why = "status line";
			return SIPM_K_MALFORMED;
		}
		return SIPM_K_SIP;
	}
	if (!sl->named)
		return SIPM_K_NOT_SIP;
	if (sl->ntok != 3 || !sip_slash(q + sl->tok[2], sl->toklen[2])) {
		*why = "request line";
		return SIPM_K_MALFORMED;
	}
	return SIPM_K_SIP;
}

/*
 * The start line as osip2 gets it: single spaces between the parts and
 * "SIP/" in upper case.  A status line keeps its reason phrase whole.
 */
static size_t
start_line_copy(const uint8_t *p, const struct sline *sl, char *out)
{
	const uint8_t	*q = p + sl->off;
	size_t		 o = 0;
	char		*z;

	for (int t = 0; t < 3; t++) {
		size_t	 n = sl->toklen[t];

		if (t == 2 && sl->status)	/* the reason phrase */
			n = sl->tok[2] == 0 ? 0 : sl->end - sl->off -
			    sl->tok[2];
		if (t > 0)
			out[o++] = ' ';
		memcpy(out + o, q + sl->tok[t], n);
		if ((t == 0 && sl->status) || (t == 2 && !sl->status)) {
			out[o] = 'S';
			out[o + 1] = 'I';
			out[o + 2] = 'P';
		}
		/*
		 * The Request-URI is not read: osip2 decodes none of it.
		 * memchr() to the first '%', then a byte loop.
		 */
		if (t == 1 && !sl->status && (z = memchr(out + o, '%', n)) !=
		    NULL)
			for (; z < out + o + n; z++)
				if (*z == '%')
					*z = PCT_MARK;
		o += n;
	}
	nul_to_q(out, o);
	out[o++] = '\r';
	out[o++] = '\n';
	return o;
}

/* ---- header scan -------------------------------------------------------- */

enum hdr {
	H_OTHER = 0, H_VIA, H_FROM, H_TO, H_CALLID, H_CSEQ, H_CONTACT,
	H_EXPIRES, H_AUTH, H_PAUTH, H_CLEN, H_CHAL, H_NKINDS,
	H_CONTACT_TAIL,		/* a Contact after the first 16 values */
};

static const char *const hdr_dup[H_NKINDS] = {
	[H_FROM] = "two From headers", [H_TO] = "two To headers",
	[H_CALLID] = "two Call-ID headers", [H_CSEQ] = "two CSeq headers",
	[H_EXPIRES] = "two Expires headers",
};

/*
 * name[0, n) (n <= 8) against lit, lower-case letters and bytes below
 * 0x40 ('-', '/', '.', digits), as lc() compares them, in one word: a
 * letter's byte with 0x20 set must be the literal's (only its two cases
 * are), any other byte must be equal ((lit >> 1) & 0x20 is 0x20 for a
 * lower-case letter, 0 below 0x40).  With the literal's length a
 * constant, both loads are plain moves.
 */
static inline bool
word_is(const char *name, const char *lit, size_t n)
{
	uint64_t	 w = 0, l = 0;

	memcpy(&w, name, n);
	memcpy(&l, lit, n);
	return (w | ((l >> 1) & 0x2020202020202020ULL)) == l;
}

/*
 * Case-insensitive compare of a name of known length with a literal of
 * lower-case letters and '-': a word, or eight bytes at a time and the
 * last eight of a longer one (at most 24 bytes: "proxy-authorization").
 */
static inline bool
name_is(const char *name, size_t n, const char *lit, size_t litlen)
{
	if (n != litlen)
		return false;
	if (litlen <= 8)
		return word_is(name, lit, litlen);
	if (litlen > 16 && !word_is(name + 8, lit + 8, 8))
		return false;
	return word_is(name, lit, 8) &&
	    word_is(name + litlen - 8, lit + litlen - 8, 8);
}

/*
 * strcasecmp(s, lit) == 0 for a literal of lower-case letters and bytes
 * below 0x40, without the call: sipguard never leaves the C locale, where
 * only A-Z fold.  Each byte as word_is() compares it: 0x20 set in a
 * letter's place, exact elsewhere (a NUL never matches).
 */
static inline bool
ascii_caseeq(const char *s, const char *lit)
{
	for (; *lit != '\0'; s++, lit++)
		if ((*s | ((*lit >> 1) & 0x20)) != *lit)
			return false;
	return *s == '\0';
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
		if (name_is(name, n, "proxy-authenticate", 18))
			return H_CHAL;
		break;
	case 'w':
		if (name_is(name, n, "www-authenticate", 16))
			return H_CHAL;
		break;
	}
	return H_OTHER;
}

/*
 * Bounds on the scan and on what reaches osip2.  osip2 appends to its
 * lists (headers, Contact values, parameters, URI headers) by walking
 * them, so N of anything in one list costs N^2 (4,000 Expires lines
 * ~15 ms, 30,000 ";x" in one To ~0.9 s); it looks at each credential
 * parameter it does not know from there to the end; and it spends a few
 * ns on every byte it is given, the scan one memchr() per line.  So
 * osip2 gets one of each header the decision reads (the first Via value,
 * the first Authorization and Proxy-Authorization), the first
 * SIPM_MAX_CONTACTS Contact values, no display name, at most
 * VALUE_PARAMS_MAX parameters in one list and PARAMS_MAX in all, KEPT_MAX
 * bytes; and no more than LINES_MAX header lines are looked at.  No
 * legitimate message comes near these (a registrar's 200 listing 16
 * Contacts with 6 parameters each is 96 parameters, ~3 KB); a message
 * past them is malformed, and none costs much more than 10 INVITEs
 * (tests/test_sipmsg.c "robust/cost" measures the worst inputs found).
 */
#define LINES_MAX	256	/* header lines, folds included */
#define LINE_MAX_KEPT	4096	/* one kept header, folds included */
#define KEPT_MAX	6144	/* the start line and all kept headers */
#define VALUE_PARAMS_MAX 32	/* ';' '?' '&' in one value (osip2 list) */
#define PARAMS_MAX	160	/* the same over the start line and all */
#define CONTACTS_MAX	64	/* Contact values in all */
#define AUTH_MAX	4	/* Authorization, Proxy-Authorization each */
#define AUTH_PARAMS_MAX	16	/* ',' in the one of each kept */
/*
 * A response carries the request's Via, From and To with what the proxy
 * adds (received, a To tag; a registrar an expires to each Contact): a
 * request at the bounds must not make the proxy's answer to it
 * malformed.  An attacker's review: a REGISTER whose Via held 32
 * parameters got a 401 with 33, which was malformed, so learn() never
 * saw it and password guesses padded so were never counted.
 */
#define RESP_PARAMS_ADDED 4	/* in one list of a response */
#define RESP_TOTAL_ADDED 24	/* in all of a response's */

struct scan {
	size_t		 body_off;	/* first body byte */
	long long	 clen;		/* -1 absent, -2 malformed */
	int		 nclen;
	bool		 terminated;	/* blank line seen */
	const char	*bad;		/* why the headers are unusable */
	int		 ncontacts;	/* Contact values, all of them */
	bool		 contact_star;	/* one of them "*" */
	int		 ncred;		/* (Proxy-)Authorization headers */
	int		 nkept;		/* kept headers, in kept[] */
	size_t		 sline_len;	/* the start line's copy, its CRLF
					   included */
};

/* A header kept for osip2: its kind, its value in the scratch buffer. */
struct kept {
	enum hdr	 kind;
	size_t		 vs, ve;	/* after the ':', before the CRLF */
};

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

static int
hexv(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lc(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* 0x80 in each byte of w equal to c (exact: no carry crosses a byte). */
static inline uint64_t
bytes_eq(uint64_t w, unsigned char c)
{
	const uint64_t	 lo7 = 0x7f7f7f7f7f7f7f7fULL;
	uint64_t	 y = w ^ (0x0101010101010101ULL * c);

	return ~(((y & lo7) + lo7) | y | lo7);
}

#ifdef __SSE2__
/*
 * count_params() sixteen bytes at a time: each match is 0xff in its byte
 * of `e', subtracted from per-byte counters that are summed (psadbw)
 * before any can pass 255.  The last bytes are the sixteen that end at
 * n, those already counted masked off, so nothing is read outside
 * v[0, n).  Returns the bytes counted (all of them but when n < 16).
 */
static size_t
count_params_sse2(const char *v, size_t n, size_t *x)
{
	static const uint8_t	 tail[32] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	};
	const __m128i		 semi = _mm_set1_epi8(';');
	const __m128i		 qm = _mm_set1_epi8('?');
	const __m128i		 amp = _mm_set1_epi8('&');
	__m128i			 sum = _mm_setzero_si128();
	__m128i			 acc = _mm_setzero_si128(), w, e;
	size_t			 k = 0, lim;

	if (n < 16)
		return 0;
	for (;;) {
		/*
		 * 254 rounds at most, and the last bytes' one: no byte
		 * counter wraps.
		 */
		lim = n - k > 254 * 16 ? k + 254 * 16 : n;
		for (; k + 16 <= lim; k += 16) {
			w = _mm_loadu_si128((const __m128i *)(const void *)
			    (v + k));
			e = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(w, semi),
			    _mm_cmpeq_epi8(w, qm)), _mm_cmpeq_epi8(w, amp));
			acc = _mm_sub_epi8(acc, e);
		}
		if (lim == n)
			break;
		sum = _mm_add_epi64(sum, _mm_sad_epu8(acc,
		    _mm_setzero_si128()));
		acc = _mm_setzero_si128();
	}
	if (k < n) {
		w = _mm_loadu_si128((const __m128i *)(const void *)
		    (v + n - 16));
		e = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(w, semi),
		    _mm_cmpeq_epi8(w, qm)), _mm_cmpeq_epi8(w, amp));
		acc = _mm_sub_epi8(acc, _mm_and_si128(e, _mm_loadu_si128(
		    (const __m128i *)(const void *)(tail + (n - k)))));
	}
	sum = _mm_add_epi64(sum, _mm_sad_epu8(acc, _mm_setzero_si128()));
	/* Two 64-bit sums, each below 2^17 (n is at most 64 KB). */
	*x += (size_t)(uint32_t)_mm_cvtsi128_si32(sum) +
	    (size_t)(uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(sum, 8));
	return n;
}
#endif

/*
 * ';' '?' '&': each may start an element of an osip2 list.  Every kept
 * byte passes here once: sixteen at a time with SSE2, else eight.
 */
static size_t
count_params(const char *v, size_t n)
{
	static const uint8_t	 pcls[256] = {
		[';'] = 1, ['?'] = 1, ['&'] = 1,
	};
	size_t			 x = 0, k = 0;

#ifdef __SSE2__
	if ((k = count_params_sse2(v, n, &x)) == n)
		return x;
#endif
	for (; k + 8 <= n; k += 8) {
		uint64_t	 w;

		memcpy(&w, v + k, 8);
		w = bytes_eq(w, ';') | bytes_eq(w, '?') | bytes_eq(w, '&');
		/* One bit a byte, summed into the top byte. */
		x += (size_t)(((w >> 7) * 0x0101010101010101ULL) >> 56);
	}
	for (; k < n; k++)
		x += pcls[(unsigned char)v[k]];
	return x;
}

/*
 * Which of the bytes a, b, c are in s[0, n): bits 0, 1, 2; one pass, not
 * a memchr() each.  Sixteen bytes at a time with SSE2, the last sixteen
 * overlapping the ones before, so nothing outside s[0, n) is read;
 * memchr() for fewer bytes and on other CPUs.
 */
static inline unsigned
bytes_in(const char *s, size_t n, char a, char b, char c)
{
#ifdef __SSE2__
	if (n >= 16) {
		const __m128i	 va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b);
		const __m128i	 vc = _mm_set1_epi8(c);
		__m128i		 ea, eb, ec, w;
		size_t		 k;

		ea = eb = ec = _mm_setzero_si128();
		for (k = 0; k + 16 < n; k += 16) {
			w = _mm_loadu_si128((const __m128i *)(const void *)
			    (s + k));
			ea = _mm_or_si128(ea, _mm_cmpeq_epi8(w, va));
			eb = _mm_or_si128(eb, _mm_cmpeq_epi8(w, vb));
			ec = _mm_or_si128(ec, _mm_cmpeq_epi8(w, vc));
		}
		w = _mm_loadu_si128((const __m128i *)(const void *)
		    (s + n - 16));
		ea = _mm_or_si128(ea, _mm_cmpeq_epi8(w, va));
		eb = _mm_or_si128(eb, _mm_cmpeq_epi8(w, vb));
		ec = _mm_or_si128(ec, _mm_cmpeq_epi8(w, vc));
		return (_mm_movemask_epi8(ea) != 0 ? 1U : 0) |
		    (_mm_movemask_epi8(eb) != 0 ? 2U : 0) |
		    (_mm_movemask_epi8(ec) != 0 ? 4U : 0);
	}
#endif
	return (memchr(s, a, n) != NULL ? 1U : 0) |
	    (memchr(s, b, n) != NULL ? 2U : 0) |
	    (c != b && memchr(s, c, n) != NULL ? 4U : 0);
}

/* ',' in v (a bound on values), stopping once past CONTACTS_MAX. */
static size_t
count_comma(const void *v, size_t n)
{
	size_t		 x = 0;
	const char	*q, *end = (const char *)v + n;

	for (q = v; x <= CONTACTS_MAX && (q = memchr(q, ',',
	    (size_t)(end - q))) != NULL; q++)
		x++;
	return x;
}

/*
 * One URI of a From, To or Contact value, NUL-terminated at u[n].  Every
 * escape must be "%" HEX HEX: osip2 stops at a bad one and would give two
 * users one name.  In a sip/sips URI every '%' is marked (PCT_MARK), and
 * %00 is taken in the user part only (RFC 4475 3.1.1.4): osip2's user
 * part runs from the first ':' to the first '@' of the URI, and so does
 * this one.  A NUL (it would become '?') or the mark itself are refused.
 */
static const char *
uri_check(char *u, size_t n)
{
	const char	*c, *a, *p;
	size_t		 colon, at;
	bool		 sip;
	unsigned	 in = bytes_in(u, n, '\0', PCT_MARK, '%');

	/* A NUL before u[n], or the mark. */
	if ((in & 3) != 0)
		return "control byte in a URI";
	/* memchr() to the first '%', then a byte loop: they may be dense. */
	if ((in & 4) == 0 || (p = memchr(u, '%', n)) == NULL)
		return NULL;
	c = memchr(u, ':', n);
	colon = c != NULL ? (size_t)(c - u) : n;
	a = colon < n ? memchr(u + colon, '@', n - colon) : NULL;
	at = a != NULL ? (size_t)(a - u) : n;
	sip = (colon == 3 || (colon == 4 && lc(u[3]) == 's')) &&
	    lc(u[0]) == 's' && lc(u[1]) == 'i' && lc(u[2]) == 'p';
	for (size_t k = (size_t)(p - u); k < n; k++) {
		if (u[k] != '%')
			continue;
		if (k + 2 >= n || hexv(u[k + 1]) < 0 || hexv(u[k + 2]) < 0)
			return "bad %-escape in a URI";
		if (u[k + 1] == '0' && u[k + 2] == '0' &&
		    !(sip && k > colon && k < at))
			return "%00 outside a user part";
		if (sip && k > colon)
			u[k] = PCT_MARK;
		k += 2;
	}
	return NULL;
}

/*
 * The closing quote of a quoted string opened before v[k]: the next '"'
 * not escaped by an odd number of backslashes (n if none).  memchr() from
 * quote to quote; each run of backslashes is looked at once.
 */
static size_t
quoted_end(const char *v, size_t k, size_t n)
{
	const char	*x;

	while (k < n && (x = memchr(v + k, '"', n - k)) != NULL) {
		size_t	 q = (size_t)(x - v), b = q;

		while (b > k && v[b - 1] == '\\')
			b--;
		if ((q - b) % 2 == 0)
			return q;
		k = q + 1;
	}
	return n;
}

/* What uri_walk() found in a From, To or Contact header. */
struct walk {
	int		 values;	/* so far, in every Contact header */
	size_t		 params;	/* ; ? & in the values kept */
	size_t		 cut;		/* the kept values end */
	size_t		 vmax;		/* params in one value (struct keep) */
	bool		 star;		/* a value "*" */
};

/*
 * Where one value of a From, To or Contact list lies in it: offsets in
 * the list, its length n standing for none.
 */
struct value {
	size_t		 end;		/* its ',' or the end of the list */
	size_t		 lt, gt;	/* its '<' and '>' */
	size_t		 semi;		/* its first ';' out of quotes and <> */
	size_t		 us, ue;	/* its URI, once moved (value_move()) */
};

/*
 * The sixteen bytes sep_find() looked at last, v[at, at + 16), and which
 * of them are separators: the next one is often in them.  `at' starts at
 * n (none).
 */
struct sepc {
	size_t		 at;
	unsigned	 bits;
};

/*
 * The first '"', '<', '>', ';' or ',' in v[e, n) (e < n), or n.  With
 * SSE2 sixteen bytes at a time, the last sixteen ending at v[n - 1] (so
 * nothing past it is read) and the bytes before v[e] dropped; else
 * strcspn(), which may stop short at a NUL inside the list: value_find()
 * steps over one as over any byte it does not look for.
 */
static inline size_t
sep_find(const char *v, size_t e, size_t n, struct sepc *c)
{
#ifdef __SSE2__
	if (n >= 16) {
		for (;;) {
			unsigned	 bits;

			if (e < c->at || e >= c->at + 16) {
				__m128i		 w, m;

				c->at = e + 16 <= n ? e : n - 16;
				w = _mm_loadu_si128((const __m128i *)
				    (const void *)(v + c->at));
				m = _mm_or_si128(_mm_or_si128(
				    _mm_cmpeq_epi8(w, _mm_set1_epi8('"')),
				    _mm_cmpeq_epi8(w, _mm_set1_epi8('<'))),
				    _mm_or_si128(_mm_or_si128(
				    _mm_cmpeq_epi8(w, _mm_set1_epi8('>')),
				    _mm_cmpeq_epi8(w, _mm_set1_epi8(';'))),
				    _mm_cmpeq_epi8(w, _mm_set1_epi8(','))));
				c->bits = (unsigned)_mm_movemask_epi8(m);
			}
			bits = c->bits >> (e - c->at);
			if (bits != 0)
				return e + (size_t)__builtin_ctz(bits);
			if (c->at + 16 >= n)
				return n;
			e = c->at + 16;
		}
	}
#else
	(void)n;
	(void)c;
#endif
	return e + strcspn(v + e, "\"<>;,");
}

/*
 * The value of the list v[0, n) that starts at v[k]: up to the first ','
 * out of quotes and <>.  NULL, or why it is no value osip2 may have.
 */
static const char *
value_find(const char *v, size_t k, size_t n, struct value *x)
{
	size_t		 e;
	struct sepc	 sc = { n, 0 };

	x->lt = x->gt = x->semi = n;
	for (e = k; e < n; e++) {
		char	 c;

		e = sep_find(v, e, n, &sc);
		if (e >= n)
			break;
		c = v[e];
		if (x->lt < n && x->gt == n) {	/* in <URI> */
			if (c == '>')
				x->gt = e;
			else if (c == '"')
				return "quote in a URI";
		} else if (c == '"')
			e = quoted_end(v, e + 1, n);
		else if (x->gt < n && (c == '<' || c == '>'))
			return "'<' or '>' after a URI";
		else if (c == '<')
			x->lt = e;
		else if (c == ';' && x->semi == n)
			x->semi = e;
		else if (c == ',')
			break;
	}
	x->end = e > n ? n : e;
	return NULL;
}

/*
 * Move the value v[s, x->end) down to v[*o] without its display name:
 * "<" URI ">" and the parameters, or the addr-spec and its parameters.
 * Its URI is then v[x->us, x->ue).
 */
static void
value_move(char *v, size_t s, size_t n, struct value *x, size_t *o,
    struct walk *w)
{
	size_t	 e = x->end, gt = x->gt, semi = x->semi;

	if (x->lt < n) {
		if (gt > e)
			gt = e;
		v[(*o)++] = '<';
		/* Nothing moves when the value is already "<URI>params". */
		if (*o != x->lt + 1) {
			memmove(v + *o, v + x->lt + 1, gt - x->lt - 1);
			memmove(v + *o + gt - x->lt - 1, v + gt, e - gt);
		}
		x->us = *o;
		*o += gt - x->lt - 1;
		x->ue = *o;
		*o += e - gt;
		return;
	}
	if (semi > e)
		semi = e;
	while (semi > s && (v[semi - 1] == ' ' || v[semi - 1] == '\t'))
		semi--;
	if (semi - s == 1 && v[s] == '*')
		w->star = true;
	if (*o != s)
		memmove(v + *o, v + s, e - s);
	x->us = *o;
	x->ue = *o + (semi - s);
	*o += e - s;
}

/*
 * The URIs of a From, To or Contact value list (NUL-terminated at v[n]):
 * inside <> when there is one, else up to the first ';' (addr-spec);
 * values split at commas out of quotes and <>, empty ones skipped (as
 * osip2 splits Contact).  Escapes are checked only there: a quoted
 * display name is not a URI, and "%Z%45" is a valid one (RFC 4475
 * 3.1.1.5).
 *
 * The list is rewritten in place without display names, which the
 * decision never reads and osip2 spends most on: "<URI>params" or the
 * addr-spec, joined by ','.  The SP and HTAB before a first value stay
 * where they are (osip_parse_kept() trims them, as it trimmed the
 * value before): the usual single value then moves not at all.  Returns
 * its new length in *len; w->cut is where the SIPM_MAX_CONTACTS-th value
 * of all the walks ends.
 */
static const char *
uri_walk(char *v, size_t *len, struct walk *w)
{
	size_t		 n = *len, k = 0, o = 0, lead = 0, np;

	w->cut = SIZE_MAX;
	while (k < n) {
		struct value	 x;
		size_t		 s = k, vo, b = k;
		const char	*why;
		char		 save;

		/*
		 * An empty value (blanks, then its ','), as value_find()
		 * would end it: skipped here, since a run of thousands cost a
		 * call each (an attacker's review: 31 INVITEs a message).
		 */
		while (b < n && (v[b] == ' ' || v[b] == '\t'))
			b++;
		if (b < n && v[b] == ',') {
			k = b + 1;
			continue;
		}
		if ((why = value_find(v, k, n, &x)) != NULL)
			return why;
		while (s < x.end && (v[s] == ' ' || v[s] == '\t'))
			s++;
		if (s == x.end) {		/* an empty value */
			k = x.end + 1;
			continue;
		}
		if (k == 0)			/* the first byte's value */
			o = lead = s;
		if (o > lead)
			v[o++] = ',';
		vo = o;
		value_move(v, s, n, &x, &o, w);
		save = v[x.ue];
		v[x.ue] = '\0';
		why = uri_check(v + x.us, x.ue - x.us);
		v[x.ue] = save;
		if (why != NULL)
			return why;
		/* One value is one osip2 list of parameters. */
		if ((np = count_params(v + vo, o - vo)) > w->vmax)
			return "too many parameters";
		if (w->values < SIPM_MAX_CONTACTS)
			w->params += np;
		if (++w->values == SIPM_MAX_CONTACTS)
			w->cut = o;
		k = x.end + 1;
	}
	if (w->cut == SIZE_MAX)
		w->cut = o;
	*len = o;
	return NULL;
}

struct keep {
	enum hdr	 cur;		/* kind of the header being kept */
	size_t		 hstart;	/* its first byte in out */
	size_t		 vstart;	/* its value */
	int		 seen[H_NKINDS];
	size_t		 kept;		/* bytes kept */
	size_t		 params;	/* ';' '?' '&' given to osip2 */
	size_t		 vmax, pmax;	/* bounds: a response's are wider */
	size_t		 contacts;	/* Contact values (lines + ',' past
					   the first SIPM_MAX_CONTACTS) */
	struct walk	 walk;		/* Contact values */
	struct kept	*rec;		/* LINES_MAX: one per kept line */
	int		 nrec;
};

/*
 * A kept header is whole (its folds appended): apply the bounds, check
 * its URIs, cut a Via to its first value and Contacts to the first
 * SIPM_MAX_CONTACTS values, and end its line.
 */
static const char *
keep_end(struct keep *kp, char *out, size_t *o)
{
	char		*v = out + kp->vstart, *z;
	size_t		 n = *o - kp->vstart, params;
	const char	*why = NULL;
	struct walk	 w = { .vmax = kp->vmax };
	int		 before = kp->walk.values;
	size_t		 pbefore = kp->walk.params;
	enum hdr	 cur = kp->cur;
	unsigned	 in;

	kp->cur = H_OTHER;
	/*
	 * A CR, a NUL in the line, in one pass: the name before the value
	 * holds neither (it is one header_id() knows, then SP or HTAB).
	 * osip2 would end the header at a CR (Kamailio does not).
	 */
	in = bytes_in(out + kp->hstart, *o - kp->hstart, '\r', '\0', '\0');
	if ((in & 1) != 0)
		return "CR inside a header";
	out[*o] = '\0';
	switch (cur) {
	case H_CONTACT:
		why = uri_walk(v, &n, &kp->walk);
		kp->contacts += kp->walk.values - before;
		if (why == NULL && kp->contacts > CONTACTS_MAX)
			why = "too many Contact values";
		n = kp->walk.cut;
		params = kp->walk.params - pbefore;
		break;
	case H_FROM:
	case H_TO:
		/* osip2 takes it whole: one value, one list. */
		if ((why = uri_walk(v, &n, &w)) == NULL && w.values > 1)
			why = "two values in From or To";
		params = w.params;
		break;
	case H_AUTH:
	case H_PAUTH:
	case H_CHAL:
		/*
		 * osip2 looks at each parameter it does not know from there to
		 * the end of the value: cost parameters times length.
		 */
		if (count_comma(v, n) > AUTH_PARAMS_MAX)
			why = "too many parameters";
		/* FALLTHROUGH */
	case H_VIA:
		if (cur == H_VIA && (z = memchr(v, ',', n)) != NULL)
			n = (size_t)(z - v);
		/* FALLTHROUGH */
	default:
		if ((params = count_params(v, n)) > kp->vmax)
			why = "too many parameters";
		break;
	}
	if (why == NULL && cur == H_CHAL && kp->params + params > kp->pmax)
		why = "too many parameters";
	if (why != NULL) {
		/*
		 * A challenge is read for its nonce alone (register.c): past
		 * a bound it is left out, never the message's fault.  The
		 * proxy's 401 offering three digests (more than 16 commas)
		 * was malformed, learn() never saw it, and the brute-force
		 * count stopped (an attacker's review).
		 */
		if (cur == H_CHAL) {
			kp->kept -= *o - kp->hstart;
			*o = kp->hstart;
			return NULL;
		}
		return why;
	}
	*o = kp->vstart + n;
	if ((kp->params += params) > kp->pmax)
		return "too many parameters";
	if ((in & 2) != 0)
		nul_to_q(out + kp->hstart, *o - kp->hstart);
	kp->rec[kp->nrec].kind = cur;
	kp->rec[kp->nrec].vs = kp->vstart;
	kp->rec[kp->nrec++].ve = *o;
	out[(*o)++] = '\r';
	out[(*o)++] = '\n';
	return NULL;
}

/* Append to the kept header, within its bounds and the buffer's. */
static bool
keep_add(struct keep *kp, char *out, size_t outsz, size_t *o,
    const uint8_t *s, size_t n, bool fold)
{
	size_t	 add = n + (fold ? 1 : 0);

	if (*o - kp->hstart + add > LINE_MAX_KEPT ||
	    kp->kept + add > KEPT_MAX || *o + add + 4 > outsz)
		return false;
	if (fold)		/* unfolded: the CRLF becomes one SP */
		out[(*o)++] = ' ';
	memcpy(out + *o, s, n);
	*o += n;
	kp->kept += add;
	return true;
}

/* What filter_headers() carries from one header line to the next. */
struct filter {
	char		*out;		/* the copy osip2 will get */
	size_t		 outsz;
	size_t		 o;		/* bytes in out */
	enum hdr	 cur;		/* kind of the last header line */
	struct keep	 kp;		/* the header being kept, if any */
	struct scan	*sc;
};

/* A folded line continues the previous header.  -1: past a bound. */
static int
fold_line(struct filter *f, const uint8_t *s, size_t n)
{
	struct scan	*sc = f->sc;

	if (f->cur == H_CLEN && sc->bad == NULL)
		sc->bad = "folded Content-Length";
	if (f->cur == H_CONTACT_TAIL && (f->kp.contacts += count_comma(s,
	    n)) > CONTACTS_MAX) {
		sc->bad = "too many Contact values";
		return -1;
	}
	if (f->kp.cur != H_OTHER && !keep_add(&f->kp, f->out, f->outsz,
	    &f->o, s, n, true)) {
		if (f->kp.cur == H_CHAL) {	/* left out (keep_end()) */
			f->kp.kept -= f->o - f->kp.hstart;
			f->o = f->kp.hstart;
			f->kp.cur = H_OTHER;
			return 0;
		}
		sc->bad = "headers too large";
		return -1;
	}
	return 0;
}

/*
 * Header `cur', its line `s' of n bytes, is one the decision reads: keep
 * it for osip2, unless it is a repeat (of a Via or a credential: skipped;
 * of a header that must be single: -1) or a Contact past the first
 * SIPM_MAX_CONTACTS values (only counted).  -1: past a bound.
 */
static int
keep_start(struct filter *f, enum hdr cur, const uint8_t *s, size_t n,
    const uint8_t *colon)
{
	struct scan	*sc = f->sc;
	struct keep	*kp = &f->kp;

	if (cur == H_AUTH || cur == H_PAUTH)
		sc->ncred++;
	if (kp->seen[cur]++ > 0) {
		if (hdr_dup[cur] != NULL) {
			sc->bad = hdr_dup[cur];
			return -1;
		}
		if ((cur == H_AUTH || cur == H_PAUTH) &&
		    kp->seen[cur] > AUTH_MAX) {
			sc->bad = "too many credentials";
			return -1;
		}
		/* Only the top Via, the first credentials and the first
		 * SIPM_CHALLENGES challenges (one a digest algorithm). */
		if (cur != H_CONTACT && (cur != H_CHAL ||
		    kp->seen[cur] > SIPM_CHALLENGES))
			return 0;
	}
	if (cur == H_CONTACT && kp->walk.values >= SIPM_MAX_CONTACTS) {
		/* osip2 has its Contacts: the rest are only counted. */
		f->cur = H_CONTACT_TAIL;
		if ((kp->contacts += 1 + count_comma(colon, (size_t)(s + n -
		    colon))) > CONTACTS_MAX) {
			sc->bad = "too many Contact values";
			return -1;
		}
		return 0;
	}
	kp->cur = cur;
	kp->hstart = f->o;
	kp->vstart = f->o + (size_t)(colon - s) + 1;
	if (!keep_add(kp, f->out, f->outsz, &f->o, s, n, false)) {
		if (cur == H_CHAL) {		/* left out (keep_end()) */
			f->o = kp->hstart;
			kp->cur = H_OTHER;
			return 0;
		}
		sc->bad = "headers too large";
		return -1;
	}
	return 0;
}

/*
 * The first ':' of the line s[0, n), NULL if none; `end' is the end of
 * the payload.  With SSE2 the first sixteen bytes (they may run past the
 * line, never past the payload) hold a name's colon nearly always.
 */
static inline const uint8_t *
colon_find(const uint8_t *s, size_t n, const uint8_t *end)
{
#ifdef __SSE2__
	if (end - s >= 16) {
		unsigned	 m;

		m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
		    _mm_loadu_si128((const __m128i *)(const void *)s),
		    _mm_set1_epi8(':')));
		if (m != 0)
			return (size_t)__builtin_ctz(m) < n ? s +
			    __builtin_ctz(m) : NULL;
		return n > 16 ? memchr(s + 16, ':', n - 16) : NULL;
	}
#else
	(void)end;
#endif
	return memchr(s, ':', n);
}

/*
 * A header line (not a fold) of n bytes: its kind, Content-Length's
 * value, and the headers the decision reads kept.  -1: unusable.
 * `end': the end of the payload.
 */
static int
header_line(struct filter *f, const uint8_t *s, size_t n,
    const uint8_t *end)
{
	struct scan	*sc = f->sc;
	const uint8_t	*colon = colon_find(s, n, end);
	size_t		 namelen;

	if (colon == NULL) {
		/* A folded Content-Length before it stays the reason. */
		if (sc->bad == NULL)
			sc->bad = "header without a colon";
		return -1;
	}
	namelen = (size_t)(colon - s);
	while (namelen > 0 && (s[namelen - 1] == ' ' ||
	    s[namelen - 1] == '\t'))
		namelen--;
	f->cur = header_id((const char *)s, namelen);
	if (f->cur == H_CLEN) {
		sc->nclen++;
		sc->clen = parse_clen(colon + 1, (size_t)(s + n - colon - 1));
	}
	if (f->cur == H_OTHER || f->cur == H_CLEN)
		return 0;
	return keep_start(f, f->cur, s, n, colon);
}

/*
 * Scan the headers from `pos' (the line after the start line) to the
 * blank line: Content-Length, where the body starts; copy the headers
 * the decision reads into `out' after the `o' bytes already there (the
 * start line), within the bounds above, each listed in `kept'
 * (sc->nkept of them).  Returns the length of out, or -1 (sc->bad says
 * why).  One pass, memchr per line, no line looked at twice.
 */
static long
filter_headers(const uint8_t *p, size_t len, size_t pos, char *out,
    size_t outsz, size_t o, struct kept *kept, struct scan *sc)
{
	struct filter	 f;
	int		 lines = 0;
	const char	*why;

	memset(sc, 0, sizeof(*sc));
	memset(&f, 0, sizeof(f));
	sc->clen = -1;
	f.out = out;
	f.outsz = outsz;
	f.o = o;
	f.sc = sc;
	f.kp.kept = o;			/* the start line counts */
	sc->sline_len = o;
	f.kp.rec = kept;
	f.kp.vmax = VALUE_PARAMS_MAX;
	f.kp.pmax = PARAMS_MAX;
	if (o >= 4 && strncasecmp(out, "SIP/", 4) == 0) {
		f.kp.vmax += RESP_PARAMS_ADDED;
		f.kp.pmax += RESP_TOTAL_ADDED;
	}
	f.kp.walk.vmax = f.kp.vmax;
	/* The Request-URI's parameters are an osip2 list too. */
	if ((f.kp.params = count_params(out, o)) > VALUE_PARAMS_MAX) {
		sc->bad = "too many parameters";
		return -1;
	}
	while (pos < len) {
		size_t		 start = pos, linelen, eol;
		const uint8_t	*nl = memchr(p + pos, '\n', len - pos);

		eol = nl != NULL ? (size_t)(nl - p) : len;
		linelen = eol - start;
		if (linelen > 0 && p[start + linelen - 1] == '\r')
			linelen--;
		pos = eol < len ? eol + 1 : len;
		/*
		 * A blank line ends the headers only once its LF is there:
		 * "\r\n\r" at the end of a TCP segment is not yet the end
		 * (the proxy waits for the LF; what follows the CR may make
		 * it a header line again).
		 */
		if (linelen == 0 && nl == NULL) {
			pos = start;
			break;
		}
		if (linelen == 0) {		/* blank line: end of headers */
			sc->terminated = true;
			break;
		}
		if (++lines > LINES_MAX) {
			sc->bad = "too many header lines";
			return -1;
		}
		if (p[start] == ' ' || p[start] == '\t') {
			if (fold_line(&f, p + start, linelen) == -1)
				return -1;
			continue;
		}
		/* A new header: the one kept before it is whole. */
		if (f.kp.cur != H_OTHER && (why = keep_end(&f.kp, out,
		    &f.o)) != NULL) {
			sc->bad = why;
			return -1;
		}
		if (header_line(&f, p + start, linelen, p + len) == -1)
			return -1;
	}
	if (f.kp.cur != H_OTHER && (why = keep_end(&f.kp, out, &f.o)) !=
	    NULL) {
		sc->bad = why;
		return -1;
	}
	sc->body_off = pos;
	sc->nkept = f.kp.nrec;
	sc->ncontacts = (int)f.kp.contacts;
	sc->contact_star = f.kp.walk.star;
	out[f.o++] = '\r';
	out[f.o++] = '\n';
	out[f.o] = '\0';
	return (long)f.o;
}

/* ---- field helpers ------------------------------------------------------ */

/* The n bytes of src (no NUL among them), truncated to dst. */
static void
copy_n(char *dst, size_t dsz, const char *src, size_t n)
{
	if (n >= dsz)
		n = dsz - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void
copy_trunc(char *dst, size_t dsz, const char *src)
{
	copy_n(dst, dsz, src, strlen(src));
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

/*
 * A dotted quad as inet_pton(AF_INET) reads it (glibc's inet_pton4(),
 * step for step: 1 to 3 digits an octet, no leading zero, at most 255,
 * four of them), straight into a: nearly every Via and Contact host is
 * one, and inet_pton() with its copy and the calls around it cost more
 * than the rest of the field.  false: not one; nothing written.
 */
static bool
quad_to_addr(const char *s, size_t n, struct sg_addr *a)
{
	const char	*p = s, *end = s + n;
	uint8_t		 q[4];

	/* Octet by octet: what inet_pton4() takes, and nothing else. */
	for (int i = 0; i < 4; i++) {
		unsigned	 v;

		if (i > 0 && (p == end || *p++ != '.'))
			return false;
		if (p == end || *p < '0' || *p > '9')
			return false;
		v = (unsigned)(*p++ - '0');
		if (p < end && *p >= '0' && *p <= '9') {
			if (v == 0)		/* a leading zero */
				return false;
			v = v * 10 + (unsigned)(*p++ - '0');
			if (p < end && *p >= '0' && *p <= '9' &&
			    (v = v * 10 + (unsigned)(*p++ - '0')) > 255)
				return false;
			/* A fourth digit is past 255. */
			if (p < end && *p >= '0' && *p <= '9')
				return false;
		}
		q[i] = (uint8_t)v;
	}
	if (p != end)
		return false;
	memset(a, 0, sizeof(*a));
	a->family = SG_AF_INET;
	memcpy(a->a, q, sizeof(q));
	return true;
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
	/* No dotted quad is longer, and case does not matter to one. */
	if (n <= 15 && quad_to_addr(host, n, a))
		return;
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

/* ASCII lower case of the bytes of a word (bytes >= 0x80 untouched). */
static inline uint64_t
lower_word(uint64_t x)
{
	uint64_t	 h = x & 0x7f7f7f7f7f7f7f7fULL, up;

	up = ~x & ((h + 0x3f3f3f3f3f3f3f3fULL) ^ (h + 0x2525252525252525ULL)) &
	    0x8080808080808080ULL;
	return x | up >> 2;
}

/*
 * ASCII lower case, eight bytes at a time; the last bytes as the word (or
 * two half words, under eight) that ends with them, overlapping the ones
 * done (dst and src do not overlap, so they are written the same again).
 */
static void
lower_copy(char *dst, const char *src, size_t n)
{
	size_t		 k = 0;
	uint64_t	 x;
	uint32_t	 y;

	if (n < 4) {
		for (; k < n; k++)
			dst[k] = (char)lc((unsigned char)src[k]);
		return;
	}
	if (n < 8) {
		memcpy(&y, src, 4);
		y = (uint32_t)lower_word(y);
		memcpy(dst, &y, 4);
		memcpy(&y, src + n - 4, 4);
		y = (uint32_t)lower_word(y);
		memcpy(dst + n - 4, &y, 4);
		return;
	}
	for (; k + 8 <= n; k += 8) {
		memcpy(&x, src + k, 8);
		x = lower_word(x);
		memcpy(dst + k, &x, 8);
	}
	if (k < n) {
		memcpy(&x, src + n - 8, 8);
		x = lower_word(x);
		memcpy(dst + n - 8, &x, 8);
	}
}

/*
 * Append `s' to out[*o], bounded, lower-cased if asked.  `esc' HEX HEX is
 * decoded into the byte it stands for, NUL included (the caller hashes
 * the length, not a C string); with no `esc', a PCT_MARK is a '%' again.
 * Up to the first of them a fast copy, then a byte loop.
 */
static void
append_norm(char *out, size_t osz, size_t *o, const char *s, int esc,
    bool lower)
{
	size_t		 lim = osz - 1 - *o, n, k;
	const char	 sp = (char)(esc != 0 ? esc : PCT_MARK);

	/*
	 * To the first NUL or `sp' in one pass (strchrnul()), then the
	 * bound: a string's length is looked for past an `sp' only.
	 */
	k = (size_t)(strchrnul(s, sp) - s);
	if (k >= lim)
		k = n = lim;
	else if (s[k] == '\0')
		n = k;
	else
		n = k + strnlen(s + k, lim - k);
	if (lower)
		lower_copy(out + *o, s, k);
	else
		memcpy(out + *o, s, k);
	*o += k;
	for (; k < n; k++) {
		int	 c = (unsigned char)s[k];

		if (c == sp) {
			c = '%';
			if (esc != 0 && k + 2 < n && hexv(s[k + 1]) >= 0 &&
			    hexv(s[k + 2]) >= 0) {
				c = hexv(s[k + 1]) << 4 | hexv(s[k + 2]);
				k += 2;
			}
		}
		out[(*o)++] = (char)(lower ? lc(c) : c);
	}
	out[*o] = '\0';
}

/* One byte appended as append_norm() appends a string of one. */
static void
append_byte(char *out, size_t osz, size_t *o, char c)
{
	if (*o < osz - 1)
		out[(*o)++] = c;
	out[*o] = '\0';
}

/* A decoded identity for display: a NUL byte shows as "%00". */
static void
copy_id(char *dst, size_t dsz, const char *src, size_t n)
{
	size_t	 o = 0;

	if (memchr(src, '\0', n) == NULL) {	/* nearly always */
		o = n < dsz - 1 ? n : dsz - 1;
		memcpy(dst, src, o);
		dst[o] = '\0';
		return;
	}
	for (size_t k = 0; k < n && o + 1 < dsz; k++) {
		if (src[k] != '\0')
			dst[o++] = src[k];
		else if (o + 4 <= dsz) {
			memcpy(dst + o, "%00", 3);
			o += 3;
		} else
			break;
	}
	dst[o] = '\0';
}

/*
 * SPEC 2: d is the address-of-record user@host, lower-cased.  Other
 * schemes (tel:) keep scheme and number.  The hash covers the whole
 * value; the stored copy may be truncated.  With `hport', also the hash
 * of user@host:port (for matching Contacts).
 *
 * A sip/sips user part is decoded here, once, from what osip2 left of it
 * (its '%' were marked, see PCT_MARK): "%61lice" is alice, "%2561lice" is
 * "%61lice", and "bob%00x" is the five bytes b o b NUL x, hashed with its
 * length, so it is never bob nor "bob%00x" (written "bob%2500x").
 */
static int
uri_identity(const osip_uri_t *u, char *out, size_t osz, uint64_t *h,
    char *tmp, size_t tsz, uint64_t *hport)
{
	size_t	 o = 0;

	if (u == NULL)
		return -1;
	if (u->scheme != NULL && !ascii_caseeq(u->scheme, "sip") &&
	    !ascii_caseeq(u->scheme, "sips")) {
		if (u->string == NULL || u->string[0] == '\0')
			return -1;
		append_norm(tmp, tsz, &o, u->scheme, 0, true);
		append_byte(tmp, tsz, &o, ':');
		append_norm(tmp, tsz, &o, u->string, '%', true);
		*h = hash_bytes(tmp, o);
		if (hport != NULL)
			*hport = *h;
	} else {
		if (u->host == NULL || u->host[0] == '\0')
			return -1;
		if (u->username != NULL && u->username[0] != '\0') {
			append_norm(tmp, tsz, &o, u->username, PCT_MARK, true);
			append_byte(tmp, tsz, &o, '@');
		}
		append_norm(tmp, tsz, &o, u->host, 0, true);
		*h = hash_bytes(tmp, o);
		if (hport != NULL) {
			size_t	 p = o;

			append_byte(tmp, tsz, &p, ':');
			append_norm(tmp, tsz, &p, u->port != NULL ? u->port :
			    "5060", 0, true);
			*hport = hash_bytes(tmp, p);
			tmp[o] = '\0';
		}
	}
	if (out != NULL)
		copy_id(out, osz, tmp, o);
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

/*
 * osip_generic_param_get_byname() for a name in lower case, without its
 * calls (a strlen() and an osip_list_get() per parameter, then
 * osip_strncasecmp()): the first parameter of the list, in osip2's
 * order, whose name is as long and the same in any case.  NULL if none.
 */
static osip_generic_param_t *
param_get(const osip_list_t *l, const char *name)
{
	const __node_t	*nd = l->node;

	for (int k = 0; k < l->nb_elt && nd != NULL; k++, nd = nd->next) {
		osip_generic_param_t	*p = nd->element;

		if (p != NULL && p->gname != NULL &&
		    ascii_caseeq(p->gname, name))
			return p;
	}
	return NULL;
}

static int64_t
contact_expires(osip_contact_t *c)
{
	osip_generic_param_t	*p;

	if ((p = param_get(&c->gen_params, "expires")) == NULL)
		return -1;
	return parse_delta(p->gvalue);
}

/* ---- osip2 on the kept headers ------------------------------------------ */

/*
 * What osip2 makes of the start line and of each kept header: one object
 * per header the decision reads, made by osip2's own parser of that header
 * (osip_via_parse(), osip_from_parse(), ...), called on the value exactly
 * as osip_message_parse() would call it on the same lines, and on nothing
 * else: no osip_message_t, no header the decision does not read, no body.
 * Every object is freed by parsed_release() before sipm_parse() returns.
 */
#define PIECES_MAX	(KEPT_MAX / 2 + 1)	/* Contact values osip2 sees */

struct parsed {
	bool			 request;
	char			*method;	/* in the scratch buffer */
	const char		*version;	/* not NUL-terminated */
	size_t			 version_len;
	int			 status_code;
	osip_uri_t		*req_uri;	/* NULL if plain_uri() vouched */
	uint64_t		 req_uri_h;	/* as written */
	osip_via_t		*via;
	osip_from_t		*from;
	const char		*from_v;	/* the value osip2 read */
	osip_to_t		*to;		/* the From's, if to_is_from */
	bool			 to_is_from;
	osip_call_id_t		*call_id;
	osip_cseq_t		*cseq;
	osip_authorization_t	*auth, *pauth;
	osip_www_authenticate_t	*chal[SIPM_CHALLENGES]; /* WWW-, Proxy-Auth.. */
	int			 nchal;
	const char		*expires;	/* its value; NULL if empty */
	bool			 contacts_read;	/* Contact to osip2 (below) */
	uint64_t		 contact_raw_h;	/* else: the values as written */
	int			 ncontacts;
	osip_contact_t		*contacts[PIECES_MAX];
};

/*
 * What osip2 allocates while sipm_parse() runs comes from the parser's
 * arena (osip_set_allocators()): a bump pointer, a free that returns
 * nothing, everything dropped at once when the fields are out.  osip2
 * makes some 60 allocations for an INVITE's headers and frees each again,
 * a third of the SIP stage's time through malloc() and free().  Nothing
 * in the arena outlives the call.  Past ARENA_MAX (no message kept within
 * the scan's bounds comes near it) blocks come from malloc() and are
 * freed one by one as before.  Outside sipm_parse(), and in other threads
 * meanwhile, osip2 allocates from malloc() as it always did.  Under
 * AddressSanitizer every block is fenced by poisoned bytes and poisoned
 * again when osip2 frees it, so its overruns still show.
 */
#define ARENA_MAX	(256 * 1024)
#define ARENA_ALIGN	16		/* a block's size header, its fence */

struct arena {
	size_t		 used;
	unsigned	 spills;	/* blocks malloc()ed past ARENA_MAX */
	_Alignas(ARENA_ALIGN) unsigned char mem[ARENA_MAX];
};

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SG_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(SG_ASAN)
#define SG_ASAN 1
#endif
#ifdef SG_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n)	ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n)	ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n)	((void)(p), (void)(n))
#define UNPOISON(p, n)	((void)(p), (void)(n))
#endif

/* The arena of the sipm_parse() running in this thread, if any. */
static _Thread_local struct arena *arena_cur;

static bool
in_arena(const void *p)
{
	const struct arena	*a = arena_cur;
	const unsigned char	*b = p;

	return a != NULL && b >= a->mem && b < a->mem + ARENA_MAX;
}

static void *
arena_malloc(size_t n)
{
	struct arena	*a = arena_cur;
	unsigned char	*b;
	size_t		 need;

	if (a == NULL)
		return malloc(n);
	/* Size header, the block rounded up, a fence. */
	need = 2 * ARENA_ALIGN + ((n + ARENA_ALIGN - 1) &
	    ~(size_t)(ARENA_ALIGN - 1));
	if (n > ARENA_MAX || need > ARENA_MAX - a->used) {
		a->spills++;
		return malloc(n);
	}
	b = a->mem + a->used;
	a->used += need;
	UNPOISON(b, ARENA_ALIGN + n);
	memcpy(b, &n, sizeof(n));
	return b + ARENA_ALIGN;
}

static void
arena_free(void *p)
{
	size_t	 n;

	if (p == NULL)
		return;
	if (!in_arena(p)) {
		free(p);
		return;
	}
	memcpy(&n, (unsigned char *)p - ARENA_ALIGN, sizeof(n));
	POISON(p, n);
}

static void *
arena_realloc(void *p, size_t n)
{
	void	*q;
	size_t	 old;

	if (p == NULL)
		return arena_malloc(n);
	if (!in_arena(p))
		return realloc(p, n);
	memcpy(&old, (unsigned char *)p - ARENA_ALIGN, sizeof(old));
	if ((q = arena_malloc(n)) != NULL) {
		memcpy(q, p, old < n ? old : n);
		arena_free(p);
	}
	return q;
}

struct sipm_parser {
	char		 buf[SCRATCH_MAX];
	char		 tmp[LINE_TMP];
	struct kept	 kept[LINES_MAX];
	struct parsed	 pm;
	struct arena	 arena;
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
	static int		 inited;
	struct sipm_parser	*p;

	if (!inited) {
		if (parser_init() != 0)
			return NULL;
		osip_trace_initialize_func(END_TRACE_LEVEL, osip_silence);
		osip_set_allocators(arena_malloc, arena_realloc, arena_free);
		inited = 1;
	}
	if ((p = calloc(1, sizeof(*p))) != NULL)
		POISON(p->arena.mem, ARENA_MAX);
	return p;
}

void
sipm_parser_destroy(struct sipm_parser *p)
{
	if (p != NULL)
		UNPOISON(p->arena.mem, ARENA_MAX);
	free(p);
}

static void
parsed_release(struct parsed *pm)
{
	osip_uri_free(pm->req_uri);
	osip_via_free(pm->via);
	osip_from_free(pm->from);
	if (!pm->to_is_from)
		osip_to_free(pm->to);
	osip_call_id_free(pm->call_id);
	osip_cseq_free(pm->cseq);
	osip_authorization_free(pm->auth);
	osip_proxy_authorization_free(pm->pauth);
	for (int k = 0; k < pm->nchal; k++)
		osip_www_authenticate_free(pm->chal[k]);
	for (int k = 0; k < pm->ncontacts; k++)
		osip_contact_free(pm->contacts[k]);
}

/*
 * A Request-URI osip_uri_parse() certainly takes: "sip:" or "sips:" (any
 * case), an optional user of URI_USER bytes and '@', a host of letters,
 * digits, '-' and '.', an optional ':' and one to seven digits, nothing
 * else (no parameter, header, escape, IPv6 literal or password).  Along
 * osip2 5.3's osip_uri_parse() on such a string: the scheme is letters
 * and "sip" or "sips"; the first ':' ends it; the first '@' ends the user,
 * which holds no ':' (no password) and is not empty; no '?' (headers) nor
 * ';' (parameters); the port, if any, is 1 to 7 bytes (its bound, 2 to 8
 * with the ':'); no ']'; the host is not empty.  Every step succeeds,
 * so the decision, which reads nothing of the Request-URI but whether
 * osip2 takes it (its hash is of the bytes as written), need not run it:
 * a third of the start line's cost.  Anything else goes to osip2
 * (test_sipmsg "split/plain_uri" holds the two to the same answer).
 */
#define URI_USER	1	/* a user part's byte, here */
#define URI_HOST	2	/* a host's byte */
#define URI_DIGIT	4

static const uint8_t	 uri_cls[256] = {
	['0'] = 7, ['1'] = 7, ['2'] = 7, ['3'] = 7, ['4'] = 7, ['5'] = 7,
	['6'] = 7, ['7'] = 7, ['8'] = 7, ['9'] = 7,
	['a'] = 3, ['b'] = 3, ['c'] = 3, ['d'] = 3, ['e'] = 3, ['f'] = 3,
	['g'] = 3, ['h'] = 3, ['i'] = 3, ['j'] = 3, ['k'] = 3, ['l'] = 3,
	['m'] = 3, ['n'] = 3, ['o'] = 3, ['p'] = 3, ['q'] = 3, ['r'] = 3,
	['s'] = 3, ['t'] = 3, ['u'] = 3, ['v'] = 3, ['w'] = 3, ['x'] = 3,
	['y'] = 3, ['z'] = 3,
	['A'] = 3, ['B'] = 3, ['C'] = 3, ['D'] = 3, ['E'] = 3, ['F'] = 3,
	['G'] = 3, ['H'] = 3, ['I'] = 3, ['J'] = 3, ['K'] = 3, ['L'] = 3,
	['M'] = 3, ['N'] = 3, ['O'] = 3, ['P'] = 3, ['Q'] = 3, ['R'] = 3,
	['S'] = 3, ['T'] = 3, ['U'] = 3, ['V'] = 3, ['W'] = 3, ['X'] = 3,
	['Y'] = 3, ['Z'] = 3,
	['-'] = 3, ['.'] = 3, ['_'] = 1, ['!'] = 1, ['~'] = 1, ['*'] = 1,
	['\''] = 1, ['+'] = 1,
};

static bool
plain_uri(const char *u, size_t n)
{
	size_t	 k, s, at = 0, h;

	if (n >= 4 && lc(u[0]) == 's' && lc(u[1]) == 'i' && lc(u[2]) == 'p' &&
	    u[3] == ':')
		s = 4;
	else if (n >= 5 && lc(u[0]) == 's' && lc(u[1]) == 'i' &&
	    lc(u[2]) == 'p' && lc(u[3]) == 's' && u[4] == ':')
		s = 5;
	else
		return false;
	for (k = s; k < n && (uri_cls[(unsigned char)u[k]] & URI_USER); k++)
		;
	if (k < n && u[k] == '@') {
		if (k == s)
			return false;
		at = k + 1;
	} else
		at = s;
	for (h = k = at; k < n && (uri_cls[(unsigned char)u[k]] & URI_HOST);
	    k++)
		;
	if (k == h)
		return false;
	if (k == n)
		return true;
	if (u[k] != ':' || n - k - 1 < 1 || n - k - 1 > 7)
		return false;
	for (k++; k < n; k++)
		if (!(uri_cls[(unsigned char)u[k]] & URI_DIGIT))
			return false;
	return true;
}

/*
 * The start line as start_line_copy() wrote it, read as osip2 reads it
 * (__osip_message_startline_parse()): a status line's code with sscanf()
 * as osip2 does (non-zero), a request's method, its Request-URI through
 * osip_uri_parse(), "SIP/" then digits and dots.  `eol' is its CR.
 * -1 where osip2 refuses the message.
 */
static int
parse_start(char *line, char *eol, struct parsed *pm)
{
	char	*sp1 = memchr(line, ' ', (size_t)(eol - line)), *sp2, *v;

	if (sp1 == NULL)
		return -1;
	if (strncmp(line, "SIP/", 4) == 0) {
		pm->version = line;
		pm->version_len = (size_t)(sp1 - line);
		/* osip2 5.3 (measured): a version shorter than "SIP/2.0". */
		if (pm->version_len < 7)
			return -1;
		/*
		 * start_line_copy() always writes the SP after the code.
		 * Three digits and a SP, as nearly always: what sscanf()
		 * would make of them.
		 */
		if (isdigit((unsigned char)sp1[1]) &&
		    isdigit((unsigned char)sp1[2]) &&
		    isdigit((unsigned char)sp1[3]) && sp1[4] == ' ')
			pm->status_code = (sp1[1] - '0') * 100 +
			    (sp1[2] - '0') * 10 + (sp1[3] - '0');
		else if (sscanf(sp1 + 1, "%d", &pm->status_code) != 1)
			return -1;
		return pm->status_code == 0 ? -1 : 0;
	}
	pm->request = true;
	if ((sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1))) == NULL ||
	    sp2 == sp1 + 1 || sp1 == line)
		return -1;
	pm->req_uri_h = hash_bytes(sp1 + 1, (size_t)(sp2 - sp1 - 1));
	*sp1 = '\0';
	*sp2 = '\0';
	pm->method = line;
	/* Nothing of the Request-URI is read but whether osip2 takes it. */
	if (!plain_uri(sp1 + 1, (size_t)(sp2 - sp1 - 1)) &&
	    (osip_uri_init(&pm->req_uri) != 0 ||
	    osip_uri_parse(pm->req_uri, sp1 + 1) != 0))
		return -1;
	v = sp2 + 1;
	pm->version = v;
	pm->version_len = (size_t)(eol - v);
	if (pm->version_len < 4 || lc(v[0]) != 's' || lc(v[1]) != 'i' ||
	    lc(v[2]) != 'p' || v[3] != '/')
		return -1;
	for (v += 4; v < eol; v++)
		if (!isdigit((unsigned char)*v) && *v != '.')
			return -1;
	return 0;
}

/* One Contact value to osip_contact_parse(); "" is skipped, as osip2 does. */
static int
parse_contact(struct parsed *pm, char *v)
{
	osip_contact_t	*c;

	if (v[0] == '\0')
		return 0;
	/* Cannot happen: KEPT_MAX bytes hold no more values. */
	if (pm->ncontacts == PIECES_MAX || osip_contact_init(&c) != 0)
		return -1;
	pm->contacts[pm->ncontacts++] = c;
	return osip_contact_parse(c, v) == 0 ? 0 : -1;
}

static inline bool
is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* osip_clrncpy(): v[0, n) without SP, HTAB, CR, LF around it. */
static char *
trim(char *v, size_t n)
{
	while (n > 0 && is_lws(v[n - 1]))
		n--;
	while (n > 0 && is_lws(v[0])) {
		v++;
		n--;
	}
	v[n] = '\0';
	return v;
}

/*
 * A Contact line's values as osip2 splits them
 * (osip_message_set_multiple_header()), each to parse_contact(): at each
 * ',' outside a quoted string and outside a "<sip:", "<sips:", "<http:",
 * "<https:" or "<tel:" followed by a '>' somewhere after it; a '"' not
 * escaped by an odd run of '\\' since the value began opens or closes a
 * quoted string.  The value was
 * rewritten by uri_walk(), so its URIs have been checked already; this
 * is only where osip2 cuts it.
 */
static int
split_contacts(struct parsed *pm, char *v)
{
	static const char *const schemes[] = {
		"sip:", "sips:", "http:", "https:", "tel:",
	};
	size_t		 n = strlen(v);
	char		*beg = v, *lastgt = memrchr(v, '>', n), *q;
	bool		 inq = false, inuri = false;

	if (memchr(v, ',', n) == NULL)
		return parse_contact(pm, v);
	for (char *p = v; p <= v + n; p++) {
		switch (*p) {
		case '"':
			/* Escaped by an odd run of '\\' within the value. */
			for (q = p; q > beg && q[-1] == '\\'; q--)
				;
			if ((p - q) % 2 == 0)
				inq = !inq;
			break;
		case '<':
			if (inq || inuri || lastgt == NULL || lastgt < p)
				break;
			for (size_t k = 0; k < nitems(schemes); k++)
				if (strncasecmp(p + 1, schemes[k],
				    strlen(schemes[k])) == 0)
					inuri = true;
			break;
		case '>':
			if (!inq)
				inuri = false;
			break;
		case '\0':
			inq = inuri = false;
			/* FALLTHROUGH */
		case ',':
			if (inq || inuri)
				break;
			if (*beg == '\0')
				return 0;
			if (p > beg && parse_contact(pm, trim(beg,
			    (size_t)(p - beg))) == -1)
				return -1;
			beg = p + 1;
			break;
		}
	}
	return 0;
}

/*
 * An Authorization or Proxy-Authorization value (the scan keeps the first
 * of each).  osip2 5.3's whole-message parse passes a message whose
 * credentials its parser refuses, without them (measured): so does this.
 */
static int
parse_credentials(osip_authorization_t **au, char *v)
{
	if (*au != NULL || osip_authorization_init(au) != 0)
		return -1;
	if (osip_authorization_parse(*au, v) != 0) {
		osip_authorization_free(*au);
		*au = NULL;
	}
	return 0;
}

/*
 * A parameter's name or value that osip2's parameter parser
 * (__osip_generic_param_parseall()) takes as it is: a token's bytes but
 * '%' and '`', never a separator, blank, quote or control byte.
 */
static const uint8_t	 ptok[256] = {
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
	['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['-'] = 1, ['.'] = 1, ['_'] = 1, ['!'] = 1, ['~'] = 1, ['*'] = 1,
	['\''] = 1, ['+'] = 1,
};

/*
 * The From's parameters, cut where osip2 certainly takes them: the
 * decision reads none (nothing here reads a From tag), and osip2 spends
 * on them a twentieth of an INVITE's parse (~660 instructions for
 * ";tag=...").  Along osip2 5.3's osip_from_parse() on "<URI>" params:
 * the URI runs from the '<' to the first '>' and is parsed alone, from
 * the same bytes whatever follows; the parameters start at the first
 * ';' from the byte before that '>', and __osip_generic_param_parseall()
 * refuses only an empty name, or an '=' with a value as empty as "a=;".
 * So when every parameter after the '>' is ";" token or ";" token "="
 * token (ptok[]) up to the end, and the URI does not end in ';', osip2
 * takes them and makes of the URI what it makes of it alone: the value
 * ends at the '>'.  Anything else goes to osip2 whole (test_sipmsg
 * "split/from_params"; the differential run holds old and new to the
 * same fields).  `v' is trimmed: the value starts with its '<'.
 */
/*
 * Whether p, at a ';', runs to its end as ";" token or ";" token "="
 * token (ptok[]), the parameters osip2 certainly takes.
 */
static bool
plain_params(const char *p)
{
	while (*p == ';') {
		const char	*s = ++p;

		while (ptok[(unsigned char)*p])
			p++;
		if (p == s)
			return false;
		if (*p == '=') {
			s = ++p;
			while (ptok[(unsigned char)*p])
				p++;
			if (p == s)
				return false;
		}
	}
	return *p == '\0';
}

static void
from_params_cut(char *v)
{
	char	*gt;

	if (v[0] != '<' || (gt = strchr(v, '>')) == NULL || gt[-1] == ';' ||
	    gt[1] != ';')
		return;
	if (plain_params(gt + 1))
		gt[1] = '\0';
}

/*
 * Whether the parameter at q (its ';') is named "branch" in any case, as
 * param_get() reads a name (ascii_caseeq()), then has its '=' or the
 * next ';'.  Byte by byte: a NUL stops the test where it is.
 */
static bool
branch_at(const char *q)
{
	return (q[1] | 0x20) == 'b' && (q[2] | 0x20) == 'r' &&
	    (q[3] | 0x20) == 'a' && (q[4] | 0x20) == 'n' &&
	    (q[5] | 0x20) == 'c' && (q[6] | 0x20) == 'h' &&
	    (q[7] == '=' || q[7] == ';');
}

/*
 * The top Via's parameters past its first branch, cut where osip2
 * certainly takes them: the decision reads the host and the first
 * branch alone, and each parameter osip2 lists costs some 400
 * instructions (";rport" after the branch, as many phones send it).
 * Along osip2 5.3's osip_via_parse(): the parameters start at the first
 * ';' after the host's SP (p); version, protocol, host and port are read
 * before it, and the parameters one by one, in order, by
 * __osip_generic_param_parseall(), which refuses only an empty name or
 * an empty "a=;" value, and looks past a ';' only inside a quoted value.
 * So with no '"' among them, the ones up to the first named "branch"
 * (which param_get() finds, or one before it) are read the same without
 * the rest; when the rest is ";" token ["=" token] (ptok[]) to the end,
 * osip2 takes it: the value ends after that branch.  Its own value must
 * end as it ended before the ';' that followed it: not in '=' or a blank
 * (";branch=;x" is refused, ";branch=" at the end is not).
 */
static void
via_tail_cut(char *p)
{
	char	*q, *cut;

	/* The first parameter named "branch", in any case. */
	for (q = p; !branch_at(q); q = cut)
		if ((cut = strchr(q + 1, ';')) == NULL)
			return;
	if ((cut = strchr(q + 1, ';')) == NULL || cut[-1] == '=' ||
	    cut[-1] == ' ' || cut[-1] == '\t' ||
	    memchr(p, '"', (size_t)(cut - p)) != NULL)
		return;
	if (plain_params(cut))
		*cut = '\0';
}

/*
 * The top Via as osip2 needs it for what the decision reads (its host and
 * first branch): its plain parameters past that branch cut
 * (via_tail_cut()), and its port too when osip2 certainly takes it.
 * osip_via_parse() reads the port between the first ':' after the host's
 * SP and the parameters, when there is no '[' (an IPv6 host) before
 * them, only to refuse one osip_atoi() makes negative; the host is the
 * bytes before that ':', or before the parameters when there is no port:
 * the same bytes.  One to five digits are a port strtol() takes (~290
 * instructions: a copy, osip_atoi(), an allocation): ":port" goes, the
 * bytes before it moved up to it.  Only the usual layout, "SIP/2.0/", a
 * three-letter transport and SP, with parameters; anything else goes
 * whole (test_sipmsg "split/via_params").  Returns where the value now
 * starts.
 */
static char *
via_cut(char *v)
{
	char	*p, *x;
	size_t	 d;

	/*
	 * "SIP/2.0/UDP " (any case; TCP, TLS, any three letters): osip2's
	 * second '/' at v[7], its host's SP at v[11].  Byte by byte: a NUL
	 * stops the test where it is.
	 */
	if ((v[0] | 0x20) != 's' || (v[1] | 0x20) != 'i' ||
	    (v[2] | 0x20) != 'p' || v[3] != '/' || v[4] != '2' ||
	    v[5] != '.' || v[6] != '0' || v[7] != '/' ||
	    (unsigned)((v[8] | 0x20) - 'a') > 25 ||
	    (unsigned)((v[9] | 0x20) - 'a') > 25 ||
	    (unsigned)((v[10] | 0x20) - 'a') > 25 || v[11] != ' ' ||
	    (p = strchr(v + 11, ';')) == NULL)
		return v;
	via_tail_cut(p);
	if ((x = memchr(v + 12, ':', (size_t)(p - v - 12))) == NULL ||
	    (d = (size_t)(p - x)) < 2 || d > 6 ||
	    memchr(v + 12, '[', (size_t)(p - v - 12)) != NULL)
		return v;
	for (char *y = x + 1; y < p; y++)
		if (*y < '0' || *y > '9')
			return v;
	memmove(v + d, v, (size_t)(x - v));
	return v + d;
}

/*
 * One of the first SIPM_CHALLENGES WWW-Authenticate or Proxy-Authenticate
 * headers (the scan keeps no more): only its nonce is read (register.c).
 * One osip2 refuses is no challenge, as with credentials.
 */
static int
parse_challenge(struct parsed *pm, char *v)
{
	osip_www_authenticate_t	**ch = &pm->chal[pm->nchal];

	if (pm->nchal >= SIPM_CHALLENGES || osip_www_authenticate_init(ch) != 0)
		return -1;
	if (osip_www_authenticate_parse(*ch, v) != 0) {
		osip_www_authenticate_free(*ch);
		*ch = NULL;
	} else
		pm->nchal++;
	return 0;
}

/*
 * One kept header's value (NUL-terminated, trimmed; NULL if it was empty)
 * to its osip2 parser.  An empty value is no header to osip2.  -1 where
 * osip2 refuses it: a value its parser rejects, or a second From, To,
 * Call-ID or CSeq (the scan let none through).
 */
static int
parse_header(struct parsed *pm, enum hdr kind, char *v)
{
	if (kind == H_EXPIRES) {
		pm->expires = v;
		return 0;
	}
	if (v == NULL || v[0] == '\0')
		return 0;
	switch (kind) {
	case H_VIA:
		/* The scan keeps the top Via alone. */
		v = via_cut(v);
		return pm->via != NULL || osip_via_init(&pm->via) != 0 ||
		    osip_via_parse(pm->via, v) != 0 ? -1 : 0;
	case H_FROM:
		from_params_cut(v);
		pm->from_v = v;
		return pm->from != NULL || osip_from_init(&pm->from) != 0 ||
		    osip_from_parse(pm->from, v) != 0 ? -1 : 0;
	case H_TO:
		/*
		 * The To the From osip2 has just read, byte for byte (a
		 * REGISTER's, an answer to one): osip_to_parse() is
		 * osip_from_parse(), so its object would be the From's.
		 */
		if (pm->to == NULL && pm->from != NULL &&
		    strcmp(v, pm->from_v) == 0) {
			pm->to = pm->from;
			pm->to_is_from = true;
			return 0;
		}
		return pm->to != NULL || osip_to_init(&pm->to) != 0 ||
		    osip_to_parse(pm->to, v) != 0 ? -1 : 0;
	case H_CALLID:
		return pm->call_id != NULL ||
		    osip_call_id_init(&pm->call_id) != 0 ||
		    osip_call_id_parse(pm->call_id, v) != 0 ? -1 : 0;
	case H_CSEQ:
		return pm->cseq != NULL || osip_cseq_init(&pm->cseq) != 0 ||
		    osip_cseq_parse(pm->cseq, v) != 0 ? -1 : 0;
	case H_AUTH:
	case H_PAUTH:
		return parse_credentials(kind == H_AUTH ? &pm->auth :
		    &pm->pauth, v);
	case H_CHAL:
		/* Read in a response only: a request's is not the proxy's. */
		return pm->request ? 0 : parse_challenge(pm, v);
	case H_CONTACT:
		return split_contacts(pm, v);
	default:
		return 0;
	}
}

/*
 * osip2's parse of what filter_headers() left in buf: the start line,
 * then each kept line "name:value" as msg_headers_parse() takes it (the
 * name up to the first ':', the value after it trimmed, none if there is
 * nothing after the ':').  The lines are clean: no CR, LF or NUL inside,
 * no fold, each ending in CRLF.  0, or -1 where osip2's whole parse of
 * the same buffer fails.
 */
static int
osip_parse_kept(char *buf, size_t sline_len, const struct kept *kept,
    int nkept, struct parsed *pm)
{
	/*
	 * Its first CR: start_line_copy() leaves none before its CRLF (and
	 * no NUL).
	 */
	char	*eol = buf + sline_len - 2;

	if (parse_start(buf, eol, pm) == -1)
		return -1;
	/*
	 * The decision reads a Contact's fields in a response (s, SPEC 2)
	 * and in a REGISTER (what it asks to bind); in any other request
	 * only whether a copy repeats it (txn_key() in engine.c), for which
	 * the values as written, checked by the scan, are enough: osip2's
	 * Contact parser, a tenth of an INVITE's parse, is not run there.
	 */
	pm->contacts_read = !pm->request || (pm->method[0] == 'R' &&
	    strcmp(pm->method, "REGISTER") == 0);
	for (int k = 0; k < nkept; k++) {
		const struct kept	*h = &kept[k];
		char			*v = NULL;

		if (h->ve > h->vs)
			v = trim(buf + h->vs, h->ve - h->vs);
		if (h->kind == H_CONTACT && !pm->contacts_read) {
			if (v != NULL && v[0] != '\0')
				pm->contact_raw_h = hash_mix(pm->contact_raw_h,
				    hash_bytes(v, strlen(v)));
			continue;
		}
		if (parse_header(pm, h->kind, v) == -1)
			return -1;
	}
	return 0;
}

/* ---- extraction --------------------------------------------------------- */

static const char *
take_request(const struct parsed *pm, struct sipm *m)
{
	const char	*cs;

	m->request = true;
	if (pm->method == NULL)
		return "request line";
	m->req_uri_h = pm->req_uri_h;
	for (cs = pm->method; *cs != '\0'; cs++)
		if (!is_tchar((unsigned char)*cs))
			return "method";
	copy_n(m->method_str, sizeof(m->method_str), pm->method,
	    (size_t)(cs - pm->method));
	m->method = sipm_method_from_str(pm->method);
	if (m->method == SIPM_OTHER && method_any_case(pm->method))
		return "method case";
	if (pm->version_len != 7 || !word_is(pm->version, "sip/2.0", 7))
		return "version";
	return NULL;
}

/* `line': the start line as osip2 got it (start_line_copy()). */
static const char *
take_status(const char *line, const struct parsed *pm, struct sipm *m)
{
	/*
	 * osip2 reads the code with sscanf("%d"): 4294967496 wraps to
	 * 200.  The start line in our copy must hold three digits.
	 */
	const char	*sp1 = strchr(line, ' ');

	if (sp1 == NULL || !isdigit((unsigned char)sp1[1]) ||
	    !isdigit((unsigned char)sp1[2]) ||
	    !isdigit((unsigned char)sp1[3]) ||
	    (sp1[4] != ' ' && sp1[4] != '\r' && sp1[4] != '\n'))
		return "status code";
	if (pm->status_code < 100 || pm->status_code > 699)
		return "status code";
	if (pm->version_len != 7 || !word_is(pm->version, "sip/2.0", 7))
		return "version";
	m->status = pm->status_code;
	m->method = SIPM_NONE;
	return NULL;
}

static const char *
take_call_id(struct sipm_parser *sp, const struct parsed *pm,
    struct sipm *m)
{
	size_t	 o = 0;

	if (pm->call_id == NULL || pm->call_id->number == NULL ||
	    pm->call_id->number[0] == '\0')
		return "Call-ID";
	append_norm(sp->tmp, sizeof(sp->tmp), &o, pm->call_id->number, 0,
	    false);
	if (pm->call_id->host != NULL) {
		append_byte(sp->tmp, sizeof(sp->tmp), &o, '@');
		append_norm(sp->tmp, sizeof(sp->tmp), &o, pm->call_id->host,
		    0, false);
	}
	m->call_id_h = hash_bytes(sp->tmp, o);
	/* append_norm() without `esc' writes no NUL: o is its length. */
	copy_n(m->call_id, sizeof(m->call_id), sp->tmp, o);
	return NULL;
}

/* A number below 2^31 and, in a request, the request's own method. */
static const char *
take_cseq(const struct parsed *pm, struct sipm *m)
{
	const char		*num;
	unsigned long long	 seq = 0;
	size_t			 d;

	if (pm->cseq == NULL || pm->cseq->number == NULL ||
	    pm->cseq->method == NULL)
		return "CSeq";
	/* Digits alone, at most 10 of them (what strtoull() took). */
	num = pm->cseq->number;
	for (d = 0; num[d] >= '0' && num[d] <= '9' && d <= 10; d++)
		seq = seq * 10 + (unsigned)(num[d] - '0');
	if (d == 0 || d > 10 || num[d] != '\0' || seq > 0x7fffffffULL)
		return "CSeq";
	m->cseq = (uint32_t)seq;
	/* The request's own method (take_request() looked it up). */
	if (m->request && strcmp(pm->cseq->method, pm->method) == 0) {
		m->cseq_method = m->method;
		return NULL;
	}
	m->cseq_method = sipm_method_from_str(pm->cseq->method);
	if (m->request)
		return "CSeq method";
	return NULL;
}

/* Two C strings equal, a byte loop: they differ early or are short. */
static inline bool
str_eq(const char *a, const char *b)
{
	for (; *a == *b; a++, b++)
		if (*a == '\0')
			return true;
	return false;
}

/* A user part as uri_identity() reads it: NULL or empty is none. */
static inline bool
no_user(const osip_uri_t *u)
{
	return u->username == NULL || u->username[0] == '\0';
}

static inline bool
sip_scheme(const osip_uri_t *u)
{
	return u->scheme == NULL || ascii_caseeq(u->scheme, "sip") ||
	    ascii_caseeq(u->scheme, "sips");
}

/*
 * Whether uri_identity() makes of b what it made of a: both sip or sips,
 * the same user part (or none) and the same host, byte for byte.  The
 * user first: it differs in most requests, a REGISTER's To and From are
 * one.
 */
static bool
same_identity(const osip_uri_t *a, const osip_uri_t *b)
{
	if (b == NULL || no_user(a) != no_user(b) ||
	    (!no_user(a) && !str_eq(a->username, b->username)) ||
	    a->host == NULL || b->host == NULL || !str_eq(a->host, b->host))
		return false;
	return sip_scheme(a) && sip_scheme(b);
}

static const char *
take_from_to(struct sipm_parser *sp, const struct parsed *pm,
    struct sipm *m)
{
	if (pm->from == NULL || uri_identity(pm->from->url, m->from,
	    sizeof(m->from), &m->from_h, sp->tmp, sizeof(sp->tmp),
	    NULL) == -1)
		return "From";
	if (pm->from->url->host != NULL &&
	    ascii_caseeq(pm->from->url->host, "anonymous.invalid"))
		m->from_anonymous = true;
	/*
	 * The From's identity again (a sip URI's; a REGISTER's To): its
	 * copy and hash, not made again.
	 */
	if (pm->to != NULL && same_identity(pm->from->url, pm->to->url)) {
		memcpy(m->to, m->from, sizeof(m->to));
		m->to_h = m->from_h;
	} else if (pm->to == NULL || uri_identity(pm->to->url, m->to,
	    sizeof(m->to), &m->to_h, sp->tmp, sizeof(sp->tmp), NULL) == -1)
		return "To";
	m->to_tag = param_get(&pm->to->gen_params, "tag") != NULL;
	return NULL;
}

static const char *
take_via(const struct parsed *pm, struct sipm *m)
{
	osip_generic_param_t	*br;

	if (pm->via == NULL || pm->via->host == NULL ||
	    pm->via->host[0] == '\0')
		return "Via";
	host_to_addr(pm->via->host, &m->via_host);
	m->via_branch_h = 0;
	/* RFC 3261's branches only (the magic cookie): an older one names
	 * no transaction by itself. */
	if ((br = param_get(&pm->via->via_params, "branch")) != NULL &&
	    br->gvalue != NULL && strncmp(br->gvalue, "z9hG4bK", 7) == 0)
		m->via_branch_h = hash_bytes(br->gvalue, strlen(br->gvalue));
	return NULL;
}

/*
 * The Contacts osip2 has (the first SIPM_MAX_CONTACTS, kept in
 * m->contacts; the first one's host and hashes apart), and "*".
 */
static const char *
take_contacts(struct sipm_parser *sp, const struct parsed *pm,
    struct sipm *m)
{
	m->contact_expires = -1;
	/*
	 * Not read in this request (osip_parse_kept()): the values as
	 * written name it, nonzero when there is one (as a parsed Contact
	 * is); "*" alone is the scan's check (osip_fields()).
	 */
	if (!pm->contacts_read) {
		if (pm->contact_raw_h != 0)
			m->contact_uh = pm->contact_raw_h | 1;
		return NULL;
	}
	/* osip2 has the first SIPM_MAX_CONTACTS; the scan counted them all. */
	if (pm->ncontacts > m->ncontacts)
		m->ncontacts = pm->ncontacts;
	for (int k = 0; k < pm->ncontacts; k++) {
		osip_contact_t		*ct = pm->contacts[k];
		struct sipm_contact	*c;
		uint64_t		 idh;

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
		if (m->ncontacts_kept == SIPM_MAX_CONTACTS)
			continue;
		c = &m->contacts[m->ncontacts_kept];
		if (uri_identity(ct->url, NULL, 0, &idh, sp->tmp,
		    sizeof(sp->tmp), &c->uh) == -1)
			return "Contact";
		c->expires = contact_expires(ct);
		if (m->ncontacts_kept++ == 0) {
			m->contact_uh = c->uh;
			m->contact_idh = idh;
			m->contact_expires = c->expires;
			if (ct->url->host != NULL)
				host_to_addr(ct->url->host, &m->contact_host);
		}
	}
	return NULL;
}

/* A nonce as the proxy wrote it, quotes and all; 0 is none. */
static uint64_t
nonce_hash(const char *nonce)
{
	return hash_bytes(nonce, strlen(nonce)) | 1;
}

/* The first Authorization, else the first Proxy-Authorization. */
static void
take_credentials(struct sipm_parser *sp, const struct parsed *pm,
    struct sipm *m)
{
	const osip_authorization_t	*au = pm->auth != NULL ? pm->auth :
					    pm->pauth;
	const char			*u;

	if (au == NULL)
		return;
	m->has_auth = true;
	if ((u = unquote(au->username, sp->tmp, sizeof(sp->tmp))) != NULL &&
	    u[0] != '\0') {
		copy_trunc(m->impi, sizeof(m->impi), u);
		m->impi_h = hash_bytes(u, strlen(u)) | 1;
	}
	if (au->nonce != NULL)
		m->auth_nonce_h = nonce_hash(au->nonce);
	/* The whole nonce and response, however long. */
	if (au->nonce != NULL && au->response != NULL) {
		m->auth_h = hash_mix(hash_bytes(au->nonce, strlen(au->nonce)),
		    hash_bytes(au->response, strlen(au->response))) | 1;
		m->auth_has_response = true;
	}
}

/*
 * Every field the decision reads, from what osip2 parsed into `m', each
 * checked; NULL, or the first that is wrong (the fields before it are
 * filled in).
 */
static const char *
extract(struct sipm_parser *sp, const struct parsed *pm, struct sipm *m)
{
	const char	*why;

	if (pm->request)
		why = take_request(pm, m);
	else
		why = take_status(sp->buf, pm, m);
	if (why != NULL ||
	    (why = take_call_id(sp, pm, m)) != NULL ||
	    (why = take_cseq(pm, m)) != NULL ||
	    (why = take_from_to(sp, pm, m)) != NULL ||
	    (why = take_via(pm, m)) != NULL ||
	    (why = take_contacts(sp, pm, m)) != NULL)
		return why;
	m->expires = parse_delta(pm->expires);
	take_credentials(sp, pm, m);
	for (int k = 0; !pm->request && k < pm->nchal; k++)
		if (pm->chal[k]->nonce != NULL)
			m->chal_nonce_h[k] = nonce_hash(pm->chal[k]->nonce);
	return NULL;
}

/*
 * The message's length, Content-Length against the bytes given (a
 * datagram, or what the proxy's framer cut from a stream).  NULL, or why
 * it is malformed.
 */
static const char *
msg_length(const struct scan *sc, size_t len, bool stream, struct sipm *m)
{
	if (sc->nclen > 1 || sc->clen == -2)
		return "Content-Length";
	if (stream) {
		/*
		 * `len' is what the proxy's framer cut (sipm_frame()); the
		 * message's own headers must say the same, or the proxy acts
		 * on other bytes than were judged.
		 */
		if (sc->clen < 0)
			return "no Content-Length over TCP";
		m->msg_len = sc->body_off + (size_t)sc->clen;
		if (m->msg_len != len)
			return "framed otherwise than the proxy frames it";
		return NULL;
	}
	/* RFC 3261 18.3: a UDP body shorter than stated is an error. */
	if (sc->clen >= 0 && (size_t)sc->clen > len - sc->body_off)
		return "Content-Length";
	m->msg_len = len;
	return NULL;
}

/*
 * osip2's parse of what filter_headers() left in sp->buf
 * (osip_parse_kept()), its fields into `m' (extract()), and the checks
 * that need the scan as well; every osip2 object is freed here.  NULL, or
 * why it is malformed.
 */
static const char *
osip_fields(struct sipm_parser *sp, const struct scan *sc, struct sipm *m)
{
	struct parsed	*pm = &sp->pm;
	struct arena	*a = &sp->arena;
	const char	*why = "osip2 rejects it";

	memset(pm, 0, offsetof(struct parsed, contacts));
	a->used = 0;
	a->spills = 0;
	arena_cur = a;
	if (osip_parse_kept(sp->buf, sc->sline_len, sp->kept, sc->nkept,
	    pm) == 0) {
		m->ncontacts = sc->ncontacts;
		why = extract(sp, pm, m);
	}
	/*
	 * The replay check (SPEC 4 rule 2) reads one credential; the
	 * registrar picks whichever matches its realm.  A victim's captured
	 * credential behind a fresh one would pass unseen: a REGISTER
	 * carries one credential, as every phone sends it.
	 */
	if (why == NULL && m->request && m->method == SIPM_REGISTER &&
	    sc->ncred > 1)
		why = "more than one credential in a REGISTER";
	/* RFC 3261 10.2.2: "*" stands alone, wherever it is. */
	if (why == NULL && sc->contact_star && m->ncontacts > 1)
		why = "Contact";
	/* The arena goes at once; what spilled out of it, block by block. */
	if (a->spills > 0)
		parsed_release(pm);
	POISON(a->mem, a->used);
	arena_cur = NULL;
	return why;
}

enum sipm_kind
sipm_parse(struct sipm_parser *sp, const uint8_t *p, size_t len, bool stream,
    struct sipm *m)
{
	struct sline	 sl;
	struct scan	 sc;
	enum sipm_kind	 kind;
	long		 n;

	memset(m, 0, sizeof(*m));
	m->expires = -1;
	m->contact_expires = -1;
	if (len == 0)
		return SIPM_K_EMPTY;
	if (len <= 8) {
		size_t	 k = 0;

		while (k < len && (p[k] == '\r' || p[k] == '\n'))
			k++;
		if (k == len)
			return SIPM_K_KEEPALIVE;
	}
	if (is_stun(p, len))
		return SIPM_K_STUN;
	if ((kind = start_line(p, len, &sl, &m->why)) != SIPM_K_SIP)
		return kind;
	n = filter_headers(p, len, sl.next, sp->buf, sizeof(sp->buf),
	    start_line_copy(p, &sl, sp->buf), sp->kept, &sc);
	if (n < 0 || sc.bad != NULL)
		m->why = sc.bad != NULL ? sc.bad : "header syntax";
	else if ((m->why = msg_length(&sc, len, stream, m)) == NULL)
		m->why = osip_fields(sp, &sc, m);
	return m->why == NULL ? SIPM_K_SIP : SIPM_K_MALFORMED;
}

/*
 * TCP framing as the proxy frames it: Kamailio's tcp_read_headers(),
 * state for state, not sipguard's own header reading, since the proxy
 * acts on the messages its framer cuts.  It looks for the end of the
 * headers (LF LF or LF CR LF) and takes the first Content-Length it
 * recognises, in forms the header parser does not share: the name with
 * '_' for '-', a line starting with white space (a folded line to SIP),
 * the first line itself; `l' compact; digits then CR, SP, HTAB or LF.
 * sipm_parse() then calls a message whose own headers say otherwise
 * malformed, so the two readings can never disagree silently.  No
 * Content-Length at the end of the headers: Kamailio refuses the message
 * and closes the connection (tcp_accept_no_cl is off): -1 here too.
 */
enum kframe { KF_START, KF_SKIP, KF_LF, KF_LFCR, KF_WS, KF_NAME, KF_COLON,
	KF_VALUE, KF_DIGITS };

/* content_len_beg_case: where a Content-Length may begin. */
static enum kframe
kf_begin(uint8_t c, bool has, int *ni)
{
	if (has)
		return KF_SKIP;
	if (c == ' ' || c == '\t')
		return KF_WS;
	if (c == 'c' || c == 'C') {
		*ni = 1;
		return KF_NAME;
	}
	if (c == 'l' || c == 'L')
		return KF_COLON;
	return KF_SKIP;
}

long
sipm_frame(const uint8_t *p, size_t len)
{
	struct sipm_framer	 f;

	memset(&f, 0, sizeof(f));
	return sipm_frame_more(&f, p, len);
}

long
sipm_frame_more(struct sipm_framer *f, const uint8_t *p, size_t len)
{
	static const char name[] = "content-length";
	enum kframe	 st = (enum kframe)f->st;
	bool		 has = f->has;
	long		 clen = f->clen, v = f->v;
	int		 ni = f->ni;
	size_t		 k;
	const uint8_t	*nl;

	if (f->done) {
		k = f->hend;
		clen = f->clen;
		goto body;
	}
	for (k = f->k; k < len; k++) {
		uint8_t	 c = p[k];

		switch (st) {
		case KF_START:		/* H_SKIP_EMPTY */
			if (c == '\n' || c == '\r' || c == ' ' || c == '\t')
				break;
			st = kf_begin(c, false, &ni);
			break;
		case KF_SKIP:
			/*
			 * Most bytes are here: memchr() to the LF, not a
			 * byte loop (a trickled message is framed again on
			 * every segment).
			 */
			if ((nl = memchr(p + k, '\n', len - k)) == NULL) {
				k = len - 1;
				break;
			}
			k = (size_t)(nl - p);
			st = KF_LF;
			break;
		case KF_LF:
			if (c == '\r')
				st = KF_LFCR;
			else if (c == '\n')
				goto end;
			else if (c == '-')
				st = KF_SKIP;
			else
				st = kf_begin(c, has, &ni);
			break;
		case KF_LFCR:
			if (c == '\n')
				goto end;
			st = KF_SKIP;
			break;
		case KF_WS:		/* H_STARTWS */
			if (c == '\n')
				st = KF_LF;
			else
				st = kf_begin(c, has, &ni);
			break;
		case KF_NAME:		/* H_CONT_LEN1 .. 13 */
			if ((ni == 7 && (c == '-' || c == '_')) ||
			    (ni != 7 && lc(c) == name[ni])) {
				if (++ni == (int)sizeof(name) - 1)
					st = KF_COLON;
			} else
				st = c == '\n' ? KF_LF : KF_SKIP;
			break;
		case KF_COLON:		/* H_L_COLON */
			if (c == ':')
				st = KF_VALUE;
			else if (c == '\n')
				st = KF_LF;
			else if (c != ' ' && c != '\t')
				st = KF_SKIP;
			break;
		case KF_VALUE:		/* H_CONT_LEN_BODY */
			if (c >= '0' && c <= '9') {
				v = c - '0';
				st = KF_DIGITS;
			} else if (c == '\n')
				st = KF_LF;
			else if (c != ' ' && c != '\t')
				st = KF_SKIP;
			break;
		case KF_DIGITS:		/* H_CONT_LEN_BODY_PARSE */
			if (c >= '0' && c <= '9') {
				/* Beyond a datagram: no buffer holds it. */
				if ((v = v * 10 + (c - '0')) > SG_PKT_MAX)
					return -1;
			} else if (c == '\r' || c == ' ' || c == '\t' ||
			    c == '\n') {
				has = true;
				clen = v;
				st = c == '\n' ? KF_LF : KF_SKIP;
			} else
				st = KF_SKIP;
			break;
		}
	}
	/* What was read is not read again when more of it comes. */
	f->k = k;
	f->st = (uint8_t)st;
	f->has = has;
	f->clen = clen;
	f->v = v;
	f->ni = ni;
	return len >= SG_PKT_MAX ? -1 : 0;
end:
	if (!has)
		return -1;
	k++;			/* the body starts after this LF */
	f->done = true;
	f->hend = k;
	f->clen = clen;
body:
	if (k + (size_t)clen > len)
		return k + (size_t)clen > SG_PKT_MAX ? -1 : 0;
	return (long)(k + (size_t)clen);
}
