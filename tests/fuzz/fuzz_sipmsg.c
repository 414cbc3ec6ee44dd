/*
 * fuzz_sipmsg.c: libFuzzer harness for SIP field extraction (sipmsg.h)
 * on arbitrary payloads:
 *   - sipm_parse() of the whole input as a datagram (stream = false);
 *   - sipm_frame() over the input as a TCP byte stream, and
 *     sipm_parse(stream = true) of each message it frames, as the TCP
 *     path does with a connection's buffer;
 *   - sipm_parse(stream = true) of the whole input as well.
 * Each parse works on a copy of exactly its length (ASan sees a read
 * past the end).  Checked: sipm_frame() never frames more than it was
 * given; a result of kind SIP has every string field NUL-terminated in
 * its array and counts in range.  LeakSanitizer runs after inputs, so
 * an osip2 leak (sipguard hands osip2 the headers it reads, never a
 * body) shows as a finding.
 *
 * Build and run: `make fuzz' or `make fuzz-smoke' (the fuzz section at
 * the end of the Makefile); max_len 65535.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sipmsg.h"

#define MAX_MSGS	64

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static volatile size_t	 sink;

#define FIELD(s) do {							\
	if (memchr((s), '\0', sizeof(s)) == NULL)			\
		fz_fail("%s: not NUL-terminated", #s);			\
	sink += strlen(s);						\
} while (0)

static void
check(enum sipm_kind k, const struct sipm *m)
{
	if ((unsigned)k > SIPM_K_MALFORMED)
		fz_fail("kind %d", (int)k);
	if (k == SIPM_K_MALFORMED && m->why != NULL)
		sink += strlen(m->why);
	if (k != SIPM_K_SIP)
		return;
	FIELD(m->method_str);
	FIELD(m->call_id);
	FIELD(m->from);
	FIELD(m->to);
	FIELD(m->impi);
	if (m->ncontacts_kept < 0 || m->ncontacts_kept > SIPM_MAX_CONTACTS)
		fz_fail("ncontacts_kept %d", m->ncontacts_kept);
	if (!m->request && (m->status < 100 || m->status > 699))
		fz_fail("response with status %d", m->status);
}

static void
parse(struct sipm_parser *p, const uint8_t *data, size_t len, bool stream)
{
	struct sipm	 m;
	uint8_t		*copy = fz_copy(data, len);

	memset(&m, 0, sizeof(m));
	check(sipm_parse(p, copy, len, stream, &m), &m);
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sipm_parser	*p;
	size_t				 o = 0;

	if (p == NULL && (p = sipm_parser_create()) == NULL)
		fz_fail("sipm_parser_create failed");
	parse(p, data, size, false);
	parse(p, data, size, true);
	for (int n = 0; n < MAX_MSGS && o < size; n++) {
		uint8_t	*copy = fz_copy(data + o, size - o);
		long	 len;

		len = sipm_frame(copy, size - o);
		free(copy);
		if (len > (long)(size - o))
			fz_fail("sipm_frame: %ld bytes framed of %zu", len,
			    size - o);
		if (len <= 0)
			break;
		parse(p, data + o, (size_t)len, true);
		o += (size_t)len;
	}
	return 0;
}
