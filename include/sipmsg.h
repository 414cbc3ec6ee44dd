/*
 * sipmsg.h: second stage, the SIP fields the decision needs.  The payload
 * is classified (keep-alive, STUN, SIP, not SIP) by its start line, as
 * the proxy classifies it; for SIP, the start line and only the headers
 * the decision reads are copied into a scratch buffer, each handed to
 * libosip2's parser of that header (no whole osip_message_t; Contact
 * only in a REGISTER or a response, where it is read), within
 * bounds that keep any message's cost within a few times an INVITE's,
 * never a body.  Every field is copied out into fixed arrays and what
 * osip2 allocated (from the parser's arena) is dropped before
 * sipm_parse() returns: nothing allocated outlives the call.  One parser
 * per thread; a parser is about 360 KB.
 */
#ifndef SG_SIPMSG_H
#define SG_SIPMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sipguard.h"

enum sipm_kind {
	SIPM_K_SIP = 0,
	SIPM_K_EMPTY,		/* zero-length payload */
	SIPM_K_KEEPALIVE,	/* CRLF / CRLFCRLF (RFC 5626) */
	SIPM_K_STUN,		/* RFC 5389 message (keep-alive) */
	SIPM_K_NOT_SIP,		/* no SIP start line: not SIP to the proxy */
	SIPM_K_MALFORMED,	/* claims SIP; unparsable, or past the bounds */
};

/* What a 200 OK to REGISTER says of one Contact. */
struct sipm_contact {
	uint64_t	 uh;		/* keyed hash of user@host:port */
	int64_t		 expires;	/* -1: no expires parameter */
};

#define SIPM_MAX_CONTACTS	16
#define SIPM_CHALLENGES		4

struct sipm {
	bool		 request;
	enum sip_method	 method;	/* SIPM_NONE for a response */
	char		 method_str[SG_METHOD_MAX];
	int		 status;	/* responses: 100..699 */

	char		 call_id[SG_CALLID_MAX];
	uint64_t	 call_id_h;
	uint32_t	 cseq;
	enum sip_method	 cseq_method;

	struct sg_addr	 via_host;	/* top Via sent-by */
	uint64_t	 via_branch_h;	/* top Via's RFC 3261 branch (z9hG4bK)
					   hashed, 0: none */
	uint64_t	 req_uri_h;	/* the Request-URI as written */
	/*
	 * Contact is read in a REGISTER and a response only.  In any other
	 * request osip2 does not parse it: ncontacts counts its values,
	 * contact_uh names them as written (nonzero if any), the rest of
	 * these stay empty.
	 */
	struct sg_addr	 contact_host;	/* first Contact's host */
	bool		 contact_star;	/* Contact: * */
	int		 ncontacts;	/* Contact values in the message */
	uint64_t	 contact_uh;	/* first Contact: user@host:port */
	uint64_t	 contact_idh;	/* first Contact: user@host */
	int64_t		 contact_expires; /* first Contact's, -1 none */
	struct sipm_contact contacts[SIPM_MAX_CONTACTS];
	int		 ncontacts_kept;

	char		 from[SG_ID_MAX], to[SG_ID_MAX];
	uint64_t	 from_h, to_h;
	bool		 from_anonymous;	/* RFC 3323 anonymous.invalid */
	bool		 to_tag;	/* To has a tag: inside a dialog */
	int64_t		 expires;	/* Expires header, -1 none */

	bool		 has_auth;	/* (Proxy-)Authorization present */
	char		 impi[SG_ID_MAX];	/* digest username */
	uint64_t	 impi_h;
	uint64_t	 auth_h;	/* keyed hash of nonce + response */
	bool		 auth_has_response;
	uint64_t	 auth_nonce_h;	/* its nonce alone, 0 none */
	/*
	 * A response's first SIPM_CHALLENGES WWW- or Proxy-Authenticate
	 * headers: their nonces, 0 none (a proxy may offer one a digest
	 * algorithm, RFC 8760, and a phone answers the one it knows).
	 */
	uint64_t	 chal_nonce_h[SIPM_CHALLENGES];

	size_t		 msg_len;	/* header + body as framed */
	const char	*why;		/* SIPM_K_MALFORMED: what was wrong */
};

struct sipm_parser;

struct sipm_parser *sipm_parser_create(void);
void		 sipm_parser_destroy(struct sipm_parser *);
/*
 * Classify and parse one datagram payload (or one framed TCP message).
 * `stream' is true for TCP: Content-Length then frames the message and a
 * missing one means no body.
 */
enum sipm_kind	 sipm_parse(struct sipm_parser *, const uint8_t *, size_t,
		    bool stream, struct sipm *);
/*
 * For TCP: the length of the first whole message in the buffer, 0 if the
 * buffer holds only part of one, -1 if it cannot be framed (two or a bad
 * Content-Length; past 64 KB, or past the blank lines before a start line
 * or the header lines sipm_parse() would look at).  Content-Length is
 * found in any case, compact "l" too.
 */
long		 sipm_frame(const uint8_t *, size_t);
/*
 * The same, resumed: `f' (zeroed for a new message) remembers how far
 * the headers of the message at p were read, so that a message held
 * while its segments arrive is read once in all, not again from its
 * start on every segment (a trickle of short lines held 60 KB cost 82
 * INVITEs a segment).  p must hold the same bytes as before, and more.
 */
struct sipm_framer {
	size_t		 k;		/* bytes read */
	size_t		 hend;		/* done: where the body starts */
	long		 clen, v;
	int		 ni;
	uint8_t		 st;
	bool		 has, done;
};
long		 sipm_frame_more(struct sipm_framer *, const uint8_t *,
		    size_t);
enum sip_method	 sipm_method_from_str(const char *);

#endif
