/*
 * fuzz_import.c: libFuzzer harness for the import of the proxy's
 * registrations (import.h): the input is a dump file, imported into a
 * fresh engine with small tables (so they fill), then imported again.
 *
 * Checked: import_buf() returns 0 or -1, with a reason when -1; the
 * counts add up (every contact imported, known, expired, refused or
 * malformed); nothing is added on -1; the second import adds nothing
 * (every binding of the first is known); every binding it made is an
 * unpinned one of a live identity.
 *
 * Seeds: the dumps of tests/test_import.c, written by
 * LLVMFuzzerInitialize() into a seed directory named .../seeds/import that
 * does not exist yet (tests/fuzz/seedgen.c does not know this harness).
 * Build and run: `make fuzz' or `make fuzz-smoke' (the fuzz section at
 * the end of the Makefile).
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bind.h"
#include "fuzz.h"
#include "import.h"

#define NOW	(FZ_T0 + 1800 * NS_PER_SEC)

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const seeds[] = {
	"{\"jsonrpc\":\"2.0\",\"result\":{\"Domains\":[{\"Domain\":{"
	"\"Domain\":\"location\",\"Size\":1024,\"AoRs\":["
	"{\"Info\":{\"AoR\":\"Alice@Example.COM\",\"HashID\":1,\"Contacts\":["
	"{\"Contact\":{\"Address\":\"sip:alice@10.0.0.10:5060;transport=udp\","
	"\"Expires\":3600,\"Q\":-1,\"Call-ID\":\"c1\",\"CSeq\":2,"
	"\"User-Agent\":\"phone\",\"Received\":\"[not set]\","
	"\"Path\":\"[not set]\",\"State\":\"CS_NEW\",\"Flags\":0,"
	"\"CFlags\":0,\"Socket\":\"udp:192.0.2.1:5060\",\"Methods\":8191,"
	"\"Ruid\":\"r1\",\"Instance\":\"[not set]\",\"Reg-Id\":0}}]}},"
	"{\"Info\":{\"AoR\":\"bob\",\"HashID\":2,\"Contacts\":["
	"{\"Contact\":{\"Address\":\"sip:bob@192.168.1.20:5062\","
	"\"Expires\":120,\"Received\":\"sip:203.0.113.5:40000\","
	"\"Socket\":\"udp:192.0.2.1:5060\"}}]}}],"
	"\"Stats\":{\"Records\":2,\"Max-Slots\":1}}}]},\"id\":1}\n",
	"{\"Domains\":[{\"name\":\"location\",\"hash_size\":512,\"AORs\":["
	"{\"AOR\":\"carol@example.com\",\"Contacts\":["
	"{\"Contact\":\"sip:carol@10.0.0.30\",\"ContactID\":\"1\","
	"\"Expires\":600,\"Q\":\"\",\"Callid\":\"x\",\"Cseq\":1,"
	"\"User-agent\":\"phone\",\"State\":\"CS_NEW\",\"Flags\":0,"
	"\"Cflags\":\"\",\"Socket\":\"udp:192.0.2.1:5060\",\"Methods\":1},"
	"{\"Contact\":\"sip:carol@192.168.7.7:5060\",\"Expires\":\"300\","
	"\"Received\":\"sip:[2001:db8::7]:5060\"}]}]}]}\n",
	"{\"result\":{\"AoRs\":[{\"Info\":{\"AoR\":\"a@x.org\",\"Contacts\":["
	"{\"Contact\":{\"Expires\":60}},"
	"{\"Contact\":{\"Address\":\"sip:a@10.1.1.1\",\"Expires\":\"soon\"}},"
	"{\"Contact\":{\"Address\":\"sip:a@10.1.1.1\",\"Expires\":60,"
	"\"Received\":\"sip:not-an-ip:5060\"}},"
	"{\"Contact\":{\"Address\":\"sip:a@10.1.1.1\",\"Expires\":"
	"\"permanent\"}},7,"
	"{\"Contact\":{\"Address\":\"sip:a@10.1.1.2\",\"Expires\":60}}]}}]}}",
	"{\"jsonrpc\":\"2.0\",\"error\":{\"code\":500,\"message\":\"x\"}}",
	"{\n\tDomains: {\n\t\tDomain: {\n",
};

/* Write the seeds into a missing .../seeds/import directory. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	for (int k = 1; k < *argc; k++) {
		const char	*a = (*argv)[k];
		size_t		 n = strlen(a);
		struct stat	 st;
		char		 path[4096];

		if (a[0] == '-' || n < 13 || strcmp(a + n - 13,
		    "/seeds/import") != 0 || stat(a, &st) == 0)
			continue;
		snprintf(path, sizeof(path), "%.*s", (int)(n - 7), a);
		mkdir(path, 0700);
		if (mkdir(a, 0700) == -1)
			continue;
		for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
			snprintf(path, sizeof(path), "%s/seed%zu.json", a, s);
			fz_write(path, seeds[s], strlen(seeds[s]));
		}
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct engine		*e = fz_small_engine();
	struct bind_table	*bt = engine_bindings(e);
	struct import_result	 r, r2;
	struct bind_stats	 st;
	char			 err[512];
	char			*buf = (char *)fz_copy(data, size);
	int			 rc;

	err[0] = '\0';
	rc = import_buf(buf, size, size % 2 ? "example.com" : NULL, &bt, 1,
	    FZ_T0, NOW, NULL, NULL, &r, err, sizeof(err));
	if (rc != 0 && rc != -1)
		fz_fail("import_buf returned %d", rc);
	if (memchr(err, '\0', sizeof(err)) == NULL)
		fz_fail("import_buf: err not NUL-terminated");
	bind_stats(bt, &st);
	if (rc == -1) {
		if (err[0] == '\0')
			fz_fail("import_buf failed with no reason");
		if (st.live != 0)
			fz_fail("a failed import added %u bindings", st.live);
	} else {
		if (r.format == NULL)
			fz_fail("no format");
		if (r.imported + r.known + r.expired + r.refused +
		    r.malformed != r.contacts)
			fz_fail("counts: %u contacts, %u+%u+%u+%u+%u",
			    r.contacts, r.imported, r.known, r.expired,
			    r.refused, r.malformed);
		if (st.live != r.imported || st.pending != r.imported)
			fz_fail("%u imported, %u live, %u pending", r.imported,
			    st.live, st.pending);
		for (uint32_t s = 0; s < bind_capacity(bt); s++) {
			const struct binding *b = bind_at(bt, s);
			char		 d[SG_ID_MAX];

			if (b == NULL)
				continue;
			if (!b->pin || b->has_m || b->expires <= NOW ||
			    strlen(bind_d(bt, b, d)) >= SG_ID_MAX)
				fz_fail("a bad imported binding");
		}
		if (import_buf(buf, size, size % 2 ? "example.com" : NULL,
		    &bt, 1, FZ_T0, NOW, NULL, NULL, &r2, err, sizeof(err)) != 0)
			fz_fail("the same dump refused the second time: %s",
			    err);
		if (r2.imported != 0)
			fz_fail("the second import added %u", r2.imported);
	}
	free(buf);
	engine_destroy(e);
	return 0;
}
