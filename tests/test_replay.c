/*
 * test_replay.c: every scenario written to a pcap with pcap_dump and
 * replayed through the real command, `sipguard -r'; the JSON Lines it
 * prints must match the scenario's expectations frame by frame.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hash.h"
#include "scenarios.h"
#include "testlib.h"

static const char	*sipguard = "build/sipguard";
static char		 tmpdir[64];

static void
run(void **state)
{
	const struct scenario	*sc = *state;
	struct scn		 s;
	char			 path[256];

	snprintf(path, sizeof(path), "%s/%s.pcap", tmpdir, sc->name);
	if (scn_init(&s, sc->name, sc->sets, path, false) == 0) {
		s.what = sc->what;
		sc->run(&s);
		pg_pcap_close(s.pcap);
		s.pcap = NULL;
		scn_replay_check(&s, sipguard, path, sc->sets, NULL, 0, NULL);
	}
	if (s.nfail > 0)
		print_message("%s", s.fail);
	assert_true(s.nexp > 0);
	assert_int_equal(s.nfail, 0);
	scn_fini(&s);
	unlink(path);
}

/* Run sipguard with `args'; its exit status, stderr's first line. */
static int
run_status(const char *const *args, char *err, size_t errlen)
{
	char	 cmd[2048], path[300];
	size_t	 o;
	int	 rc;
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/stderr", tmpdir);
	o = (size_t)snprintf(cmd, sizeof(cmd), "%s", sipguard);
	for (int k = 0; args[k] != NULL; k++)
		o += (size_t)snprintf(cmd + o, sizeof(cmd) - o, " '%s'",
		    args[k]);
	snprintf(cmd + o, sizeof(cmd) - o, " >/dev/null 2>%s", path);
	rc = system(cmd);
	err[0] = '\0';
	if ((fp = fopen(path, "r")) != NULL) {
		if (fgets(err, (int)errlen, fp) == NULL)
			err[0] = '\0';
		fclose(fp);
	}
	unlink(path);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Errors are one line naming the file, and exit status 2. */
static void
test_errors(void **state)
{
	char		 err[1024], bad[300], wrong[300], cfg[300];
	FILE		*fp;
	struct pg_pcap	*w;
	const char	*missing[] = { "-r", "/nonexistent/x.pcap", NULL };
	const char	*notpcap[] = { "-r", bad, NULL };
	const char	*linktype[] = { "-r", wrong, NULL };
	const char	*badconf[] = { "-r", wrong, "-c", cfg, NULL };
	const char	*badset[] = { "-r", wrong, "--set", "mode=\"x\"", NULL };

	(void)state;
	assert_int_equal(run_status(missing, err, sizeof(err)), 2);
	assert_non_null(strstr(err, "/nonexistent/x.pcap"));

	snprintf(bad, sizeof(bad), "%s/garbage.pcap", tmpdir);
	fp = fopen(bad, "w");
	fputs("this is not a capture\n", fp);
	fclose(fp);
	assert_int_equal(run_status(notpcap, err, sizeof(err)), 2);
	assert_non_null(strstr(err, bad));

	/* 802.11 (DLT 105) is not a link type sipguard reads. */
	snprintf(wrong, sizeof(wrong), "%s/wifi.pcap", tmpdir);
	w = pg_pcap_open_link(wrong, 105);
	assert_non_null(w);
	pg_pcap_close(w);
	assert_int_equal(run_status(linktype, err, sizeof(err)), 2);
	assert_non_null(strstr(err, wrong));
	assert_non_null(strstr(err, "link type"));

	snprintf(cfg, sizeof(cfg), "%s/bad.conf", tmpdir);
	fp = fopen(cfg, "w");
	fputs("mode = \"prevent\";\ntables = { bindings = \"many\"; };\n",
	    fp);
	fclose(fp);
	assert_int_equal(run_status(badconf, err, sizeof(err)), 2);
	assert_non_null(strstr(err, cfg));
	assert_non_null(strstr(err, ":2: tables.bindings:"));
	assert_int_equal(run_status(badset, err, sizeof(err)), 2);
	assert_non_null(strstr(err, "mode"));
	unlink(bad);
	unlink(wrong);
	unlink(cfg);
}

/*
 * training.baseline_file: a file that does not exist yet means "train on
 * the capture" (as for the daemon); one that exists but is not a
 * baseline is an error naming it.
 */
static void
test_baseline_file(void **state)
{
	char		 err[1024], cap[300], bl[300], set[400];
	const char	*args[] = { "-r", cap, "--set", set, NULL };
	struct pg_pcap	*w;
	FILE		*fp;

	(void)state;
	snprintf(cap, sizeof(cap), "%s/empty.pcap", tmpdir);
	w = pg_pcap_open_link(cap, 1);
	assert_non_null(w);
	pg_pcap_close(w);
	snprintf(bl, sizeof(bl), "%s/no-such-baseline", tmpdir);
	snprintf(set, sizeof(set), "training.baseline_file=\"%s\"", bl);
	assert_int_equal(run_status(args, err, sizeof(err)), 0);
	assert_non_null(strstr(err, bl));
	assert_non_null(strstr(err, "does not exist yet"));

	fp = fopen(bl, "w");
	fputs("not a baseline\n", fp);
	fclose(fp);
	assert_int_equal(run_status(args, err, sizeof(err)), 2);
	assert_non_null(strstr(err, bl));
	unlink(bl);
	unlink(cap);
}

/*
 * Linux cooked capture: the MAC is in the SLL header.  A forged BYE from
 * another MAC with the victim's IP must still be told from the real one.
 */
static void
test_sll_capture(void **state)
{
	static const struct pg_ep alice = { { 2, 0, 0, 0, 0, 0x11 },
	    "198.51.100.11", 5060 };
	static const struct pg_ep eve = { { 2, 0, 0, 0, 0, 0x66 },
	    "198.51.100.11", 5060 };
	static const struct pg_ep proxy = { { 2, 0, 0, 0, 0, 1 },
	    "192.0.2.1", 5060 };
	struct scn	 s;
	char		 path[300], text[2048], via[] = "198.51.100.11:5060";
	uint8_t		 frame[4096], sll[4200];
	struct pg_pcap	*w;
	struct pg_msg	 m;
	struct {
		const struct pg_ep *src, *dst;
		const char	*method;
		int		 status;
		uint32_t	 cseq;
		const char	*verdict, *reason;
	} steps[] = {
		{ &alice, &proxy, "REGISTER", 0, 1, "accept", "x" },
		{ &proxy, &alice, NULL, 200, 1, "accept", "outbound" },
		{ &alice, &proxy, "OPTIONS", 0, 2, "accept", "vii" },
		{ &eve, &proxy, "BYE", 0, 3, "drop", "ix" },
	};
	const char *sets[] = { "proxy.addresses = [\"192.0.2.1\"]", NULL };

	(void)state;
	snprintf(path, sizeof(path), "%s/sll.pcap", tmpdir);
	assert_int_equal(scn_init(&s, "sll", sets, NULL, false), 0);
	w = pg_pcap_open_link(path, 113);	/* DLT_LINUX_SLL */
	assert_non_null(w);
	for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		size_t	 n, len;

		memset(&m, 0, sizeof(m));
		m.method = steps[k].method;
		m.status = steps[k].status;
		m.via = via;
		m.from = m.to = "sip:alice@example.com";
		m.to_tag = steps[k].method ? NULL : "t";
		m.call_id = "sll-1";
		m.cseq = steps[k].cseq;
		m.cseq_method = steps[k].method ? NULL : "REGISTER";
		m.contact = steps[k].method ? "<sip:alice@198.51.100.11:5060>" :
		    "<sip:alice@198.51.100.11:5060>;expires=600";
		m.expires = -1;
		n = pg_frame(frame, sizeof(frame), steps[k].src, steps[k].dst,
		    text, pg_sip(text, sizeof(text), &m), NULL);
		/* SLL: packet type, ARPHRD_ETHER, address length, address,
		 * protocol; then the frame without its Ethernet header. */
		memset(sll, 0, 16);
		sll[1] = steps[k].src == &proxy ? 4 : 0;
		sll[3] = 1;
		sll[5] = 6;
		memcpy(sll + 6, steps[k].src->mac, 6);
		memcpy(sll + 14, frame + 12, 2);
		len = n - 14;
		memcpy(sll + 16, frame + 14, len);
		s.frame++;
		pg_pcap_write(w, 1764547200000000000ULL + k * 1000000ULL, sll,
		    16 + len);
		scn_expect(&s, steps[k].verdict, steps[k].reason);
	}
	pg_pcap_close(w);
	scn_replay_check(&s, sipguard, path, sets, NULL, 0, NULL);
	if (s.nfail > 0)
		print_message("%s", s.fail);
	assert_int_equal(s.nfail, 0);
	scn_fini(&s);
	unlink(path);
}

int
main(void)
{
	int	 rc;

	if (getenv("SIPGUARD") != NULL)
		sipguard = getenv("SIPGUARD");
	if (mkdtemp(tl_template(tmpdir, sizeof(tmpdir), "/tmp/sgtest")) ==
	    NULL)
		return 1;
	hash_init();
	for (int k = 0; k < nscenarios; k++)
		treg_add("replay", scenarios[k].name, run, &scenarios[k]);
	TREG("io", errors);
	TREG("io", baseline_file);
	TREG("io", sll_capture);
	rc = treg_run("replay");
	rmdir(tmpdir);
	return rc;
}
