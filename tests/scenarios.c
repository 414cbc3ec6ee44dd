/*
 * scenarios.c: the project's own traffic, written in code.  A small world
 * (a proxy, three subscribers, an outsider) and, per scenario, what each
 * message must get: verdict, case label, alarm.  Addresses come from the
 * documentation ranges (RFC 5737, RFC 3849) so "public" and "private"
 * mean what they would in the field.
 */
#include <stdio.h>
#include <string.h>

#include "scenarios.h"

#define DOMAIN	"example.com"

struct ua {
	const char	*user;
	struct pg_ep	 ep;
	const char	*via;		/* SIP-IP; NULL: the source IP */
};

static const struct pg_ep PROXY = { { 2, 0, 0, 0, 0, 1 }, "192.0.2.1",
    5060 };
static const struct pg_ep PROXY6 = { { 2, 0, 0, 0, 0, 1 }, "2001:db8::1",
    5060 };

static const struct ua ALICE = { "alice", { { 2, 0, 0, 0, 0, 0x11 },
    "198.51.100.11", 5060 }, NULL };
static const struct ua BOB = { "bob", { { 2, 0, 0, 0, 0, 0x12 },
    "198.51.100.12", 5060 }, NULL };
static const struct ua MALLORY = { "mallory", { { 2, 0, 0, 0, 0, 0x13 },
    "198.51.100.13", 5060 }, NULL };
/* An outsider: never registered. */
static const struct pg_ep EVE = { { 2, 0, 0, 0, 0, 0x66 }, "203.0.113.66",
    5060 };

static const char *const SETS_BASE[] = {
	"proxy.addresses = [\"192.0.2.1\", \"2001:db8::1\"]",
	"startup.learn = 0",	/* the capture holds the registrations */
	NULL,
};

/* ---- helpers ---------------------------------------------------------------- */

static const char *
via_of(const struct ua *u)
{
	return u->via ? u->via : u->ep.ip;
}

static void
aor(char *buf, size_t len, const char *user)
{
	snprintf(buf, len, "sip:%s@" DOMAIN, user);
}

static void
hostport(char *buf, size_t len, const char *host, uint16_t port)
{
	if (strchr(host, ':') != NULL)
		snprintf(buf, len, "[%s]:%u", host, port);
	else
		snprintf(buf, len, "%s:%u", host, port);
}

/*
 * A full registration: REGISTER, 401, REGISTER with credentials, 200.
 * `label' is the case each REGISTER is expected to carry.
 */
static void
reg_to(struct scn *s, const struct ua *u, const struct pg_ep *proxy,
    int expires, const char *label)
{
	char		 cid[64], nonce[64], auth[256], contact[160], c200[200];
	char		 a[64], via[80], wa[128];
	struct pg_msg	 m, r;

	aor(a, sizeof(a), u->user);
	scn_token(s, cid, sizeof(cid));
	hostport(via, sizeof(via), via_of(u), u->ep.port);
	snprintf(contact, sizeof(contact), "<sip:%s@%s>", u->user, via);
	memset(&m, 0, sizeof(m));
	m.method = "REGISTER";
	m.ruri = "sip:" DOMAIN;
	m.via = via;
	m.from = a;
	m.to = a;
	m.call_id = cid;
	m.cseq = 1;
	m.contact = contact;
	m.expires = expires;
	scn_send(s, &u->ep, proxy, &m);
	scn_expect(s, "accept", label);

	scn_token(s, nonce, sizeof(nonce));
	snprintf(wa, sizeof(wa), "WWW-Authenticate: Digest realm=\""
	    DOMAIN "\", nonce=\"%s\"\r\n", nonce);
	memset(&r, 0, sizeof(r));
	r.status = 401;
	r.via = via;
	r.from = a;
	r.to = a;
	r.to_tag = "reg";
	r.call_id = cid;
	r.cseq = 1;
	r.cseq_method = "REGISTER";
	r.raw_headers = wa;
	r.expires = -1;
	scn_send(s, proxy, &u->ep, &r);
	scn_expect(s, "accept", "outbound");

	snprintf(auth, sizeof(auth), "Digest username=\"%s\", realm=\"" DOMAIN
	    "\", nonce=\"%s\", uri=\"sip:" DOMAIN "\", response=\"%032x\", "
	    "algorithm=MD5", u->user, nonce, (unsigned)s->seq * 2654435761u);
	m.cseq = 2;
	m.auth = auth;
	scn_send(s, &u->ep, proxy, &m);
	scn_expect(s, "accept", label);

	snprintf(c200, sizeof(c200), "%s;expires=%d", contact, expires);
	r.status = 200;
	r.cseq = 2;
	r.contact = c200;
	r.raw_headers = NULL;
	scn_send(s, proxy, &u->ep, &r);
	scn_expect(s, "accept", "outbound");
}

static void
reg(struct scn *s, const struct ua *u, int expires, const char *label)
{
	reg_to(s, u, &PROXY, expires, label);
}

/* The three subscribers of the decision-table rows. */
static void
world(struct scn *s)
{
	reg(s, &ALICE, 3600, "x");
	reg(s, &BOB, 3600, "x");
	reg(s, &MALLORY, 3600, "x");
}

/*
 * A request towards the proxy with every layer chosen by the caller:
 * source (m, i), SIP-IP (Via) and identity (From).
 */
static uint64_t
forge(struct scn *s, const struct pg_ep *src, const char *via_host,
    const char *from_user, const char *method, const char *call_id)
{
	char		 a[64], b[64], via[80], cid[64];
	struct pg_msg	 m;

	aor(a, sizeof(a), from_user);
	aor(b, sizeof(b), "bob");
	hostport(via, sizeof(via), via_host, src->port);
	memset(&m, 0, sizeof(m));
	m.method = method;
	m.via = via;
	m.from = a;
	m.to = b;
	m.call_id = call_id ? call_id : scn_token(s, cid, sizeof(cid));
	m.cseq = 1;
	m.expires = -1;
	return scn_send(s, src, &PROXY, &m);
}

/* A request from a subscriber, as its own device sends it. */
static void
ua_request(struct scn *s, const struct ua *u, const char *method,
    const char *to_user, const char *call_id, uint32_t cseq,
    const struct pg_ep *proxy)
{
	char		 a[64], b[64], via[80], contact[160];
	struct pg_msg	 m;

	aor(a, sizeof(a), u->user);
	aor(b, sizeof(b), to_user);
	hostport(via, sizeof(via), via_of(u), u->ep.port);
	snprintf(contact, sizeof(contact), "<sip:%s@%s>", u->user, via);
	memset(&m, 0, sizeof(m));
	m.method = method;
	m.via = via;
	m.from = a;
	m.to = b;
	m.call_id = call_id;
	m.cseq = cseq;
	m.contact = contact;
	m.expires = -1;
	scn_send(s, &u->ep, proxy, &m);
}

/* A response sent by user agent `u' (the callee) for `method'. */
static void
ua_response(struct scn *s, const struct ua *u, int status, const char *method,
    const char *from_user, const char *call_id, uint32_t cseq,
    const struct pg_ep *proxy)
{
	char		 a[64], b[64], via[80], contact[160], pvia[80];
	struct pg_msg	 m;

	aor(a, sizeof(a), from_user);
	aor(b, sizeof(b), u->user);
	hostport(via, sizeof(via), via_of(u), u->ep.port);
	hostport(pvia, sizeof(pvia), proxy->ip, proxy->port);
	snprintf(contact, sizeof(contact), "<sip:%s@%s>", u->user, via);
	memset(&m, 0, sizeof(m));
	m.status = status;
	m.via = pvia;
	m.from = a;
	m.to = b;
	m.to_tag = "callee";
	m.call_id = call_id;
	m.cseq = cseq;
	m.cseq_method = method;
	m.contact = contact;
	m.expires = -1;
	scn_send(s, &u->ep, proxy, &m);
}

/* The proxy relaying something to a user agent (outbound). */
static void
proxy_sends(struct scn *s, const struct pg_ep *proxy, const struct ua *to,
    const char *method, int status, const char *from_user,
    const char *to_user, const char *call_id, uint32_t cseq,
    const char *cseq_method)
{
	char		 a[64], b[64], pvia[80];
	struct pg_msg	 m;

	aor(a, sizeof(a), from_user);
	aor(b, sizeof(b), to_user);
	hostport(pvia, sizeof(pvia), proxy->ip, proxy->port);
	memset(&m, 0, sizeof(m));
	m.method = method;
	m.status = status;
	m.via = pvia;
	m.from = a;
	m.to = b;
	m.call_id = call_id;
	m.cseq = cseq;
	m.cseq_method = cseq_method;
	m.expires = -1;
	scn_send(s, proxy, &to->ep, &m);
	scn_expect(s, "accept", "outbound");
}

/* A whole call: INVITE ... 200, ACK, BYE, 200; every message expected. */
static void
call_via(struct scn *s, const struct ua *caller, const struct ua *callee,
    const struct pg_ep *proxy)
{
	char	 cid[64];

	scn_token(s, cid, sizeof(cid));
	ua_request(s, caller, "INVITE", callee->user, cid, 1, proxy);
	scn_expect(s, "accept", "vii");
	proxy_sends(s, proxy, caller, NULL, 100, caller->user, callee->user,
	    cid, 1, "INVITE");
	proxy_sends(s, proxy, callee, "INVITE", 0, caller->user,
	    callee->user, cid, 1, NULL);
	ua_response(s, callee, 180, "INVITE", caller->user, cid, 1, proxy);
	scn_expect(s, "accept", "vii");
	proxy_sends(s, proxy, caller, NULL, 180, caller->user, callee->user,
	    cid, 1, "INVITE");
	ua_response(s, callee, 200, "INVITE", caller->user, cid, 1, proxy);
	scn_expect(s, "accept", "vii");
	proxy_sends(s, proxy, caller, NULL, 200, caller->user, callee->user,
	    cid, 1, "INVITE");
	ua_request(s, caller, "ACK", callee->user, cid, 1, proxy);
	scn_expect(s, "accept", "vii");
	proxy_sends(s, proxy, callee, "ACK", 0, caller->user, callee->user,
	    cid, 1, NULL);
	scn_wait(s, 30);
	ua_request(s, caller, "BYE", callee->user, cid, 2, proxy);
	scn_expect(s, "accept", "vii");
	proxy_sends(s, proxy, callee, "BYE", 0, caller->user, callee->user,
	    cid, 2, NULL);
	ua_response(s, callee, 200, "BYE", caller->user, cid, 2, proxy);
	scn_expect(s, "accept", "vii");
	proxy_sends(s, proxy, caller, NULL, 200, caller->user, callee->user,
	    cid, 2, "BYE");
}

static void
call(struct scn *s, const struct ua *caller, const struct ua *callee)
{
	call_via(s, caller, callee, &PROXY);
}

/* ---- scenarios ------------------------------------------------------------- */

static void
legit_register_call(struct scn *s)
{
	reg(s, &ALICE, 3600, "x");
	reg(s, &BOB, 3600, "x");
	call(s, &ALICE, &BOB);
	call(s, &BOB, &ALICE);
	/* Re-registration at half the expiry: same binding, case vii. */
	scn_wait(s, 1800);
	reg(s, &ALICE, 3600, "vii");
	call(s, &ALICE, &BOB);
}

/* One decision-table row: a message with chosen (m, i, s, d). */
#define ROW(fn, src, via, user, verdict, label)				\
static void								\
fn(struct scn *s)							\
{									\
	world(s);							\
	scn_tag(s, s->what ? s->what : #fn);				\
	forge(s, src, via, user, "INVITE", NULL);			\
	scn_expect(s, verdict, label);					\
	if (strcmp(verdict, "drop") == 0)				\
		scn_expect_alarm(s, "spoof", label);			\
}

/* Alice's MAC on another IP, as a device that moved or lies. */
static const struct pg_ep ALICE_MAC_NEW_IP = { { 2, 0, 0, 0, 0, 0x11 },
    "198.51.100.77", 5060 };
/* Eve's MAC with alice's IP: IP spoofing / ARP poisoning. */
static const struct pg_ep EVE_WITH_ALICE_IP = { { 2, 0, 0, 0, 0, 0x66 },
    "198.51.100.11", 5060 };

ROW(row_vii, &ALICE.ep, "198.51.100.11", "alice", "accept", "vii")
ROW(row_b, &EVE, "203.0.113.66", "eve", "drop", "b")
ROW(row_i, &ALICE_MAC_NEW_IP, "198.51.100.77", "nobody", "drop", "i")
ROW(row_ii, &ALICE_MAC_NEW_IP, "198.51.100.77", "alice", "drop", "ii")
ROW(row_iv, &ALICE_MAC_NEW_IP, "198.51.100.11", "nobody", "drop", "iv")
ROW(row_v, &ALICE.ep, "203.0.113.99", "nobody", "drop", "v")
ROW(row_vi, &MALLORY.ep, "198.51.100.13", "alice", "drop", "vi")
ROW(row_viii, &EVE_WITH_ALICE_IP, "203.0.113.99", "nobody", "drop", "viii")
ROW(row_ix, &EVE_WITH_ALICE_IP, "198.51.100.11", "alice", "drop", "ix")
ROW(row_xi, &EVE, "198.51.100.11", "nobody", "drop", "xi")
ROW(row_masquerade, &EVE, "203.0.113.66", "alice", "drop", "masquerade")
ROW(row_reflection, &ALICE.ep, "203.0.113.50", "alice", "drop",
    "reflection")
ROW(row_spoof, &ALICE_MAC_NEW_IP, "198.51.100.11", "alice", "drop", "spoof")

/* A second message with the same forged K is stopped by the blacklist. */
static void
blacklist_repeat(struct scn *s)
{
	world(s);
	scn_tag(s, "forged INVITE, repeated");
	forge(s, &EVE, "203.0.113.66", "alice", "INVITE", NULL);
	scn_expect(s, "drop", "masquerade");
	scn_expect_alarm(s, "spoof", "masquerade");
	for (int k = 0; k < 3; k++) {
		forge(s, &EVE, "203.0.113.66", "alice", "INVITE", NULL);
		scn_expect(s, "drop", "blacklisted");
	}
	/* The entry expires after blacklist.ttl; module I still drops. */
	scn_wait(s, 601);
	forge(s, &EVE, "203.0.113.66", "alice", "INVITE", NULL);
	scn_expect(s, "drop", "masquerade");
}

/* ---- REGISTER rules ------------------------------------------------------- */

static void
reg_labels(struct scn *s)
{
	/* Re-registration from the same binding. */
	reg(s, &ALICE, 3600, "x");
	reg(s, &ALICE, 3600, "vii");
	/* ii: the same device with a new IP. */
	{
		struct ua moved = ALICE;

		moved.ep = ALICE_MAC_NEW_IP;
		reg(s, &moved, 3600, "ii");
		ua_request(s, &moved, "OPTIONS", "alice", "opt-moved", 1,
		    &PROXY);
		scn_expect(s, "accept", "vii");
	}
	/* iii: the same device, a new subscriber (a UICC swap). */
	{
		struct ua carol = ALICE;

		carol.user = "carol";
		reg(s, &carol, 3600, "iii");
	}
	/* ix: the subscriber on a new device. */
	{
		struct ua newdev = BOB;

		reg(s, &BOB, 3600, "x");
		newdev.ep.mac[5] = 0x22;
		newdev.ep.ip = "198.51.100.22";
		reg(s, &newdev, 3600, "ix");
		/* Both of bob's devices are bound. */
		ua_request(s, &newdev, "MESSAGE", "alice", "msg-1", 1, &PROXY);
		scn_expect(s, "accept", "vii");
		ua_request(s, &BOB, "MESSAGE", "alice", "msg-2", 1, &PROXY);
		scn_expect(s, "accept", "vii");
	}
}

static void
reg_x_intra(struct scn *s)
{
	char		 cid[64];
	struct pg_msg	 m;

	scn_tag(s, "REGISTER with a forged Via");
	memset(&m, 0, sizeof(m));
	m.method = "REGISTER";
	m.via = "203.0.113.200:5060";		/* public, not the source */
	m.from = m.to = "sip:eve@" DOMAIN;
	m.call_id = scn_token(s, cid, sizeof(cid));
	m.cseq = 1;
	m.contact = "<sip:eve@203.0.113.200>";
	m.expires = 3600;
	scn_send(s, &EVE, &PROXY, &m);
	scn_expect(s, "drop", "x");
	scn_expect_alarm(s, "spoof", "x");
}

/* nat = tolerant (default): a private Via behind a public source. */
static void
reg_nat_tolerant(struct scn *s)
{
	struct ua	 phone = { "dave", { { 2, 0, 0, 0, 0, 0x31 },
			    "198.51.100.31", 5062 }, "192.168.1.20" };

	reg(s, &phone, 3600, "x");
	ua_request(s, &phone, "INVITE", "alice", "nat-1", 1, &PROXY);
	scn_expect(s, "accept", "vii");
}

static const char *const SETS_STRICT[] = {
	"proxy.addresses = [\"192.0.2.1\"]",
	"startup.learn = 0",
	"nat = \"strict\"",
	NULL,
};

/* nat = strict (the paper): the same REGISTER fails the check. */
static void
reg_nat_strict(struct scn *s)
{
	char		 cid[64];
	struct pg_msg	 m;
	const struct pg_ep phone = { { 2, 0, 0, 0, 0, 0x31 }, "198.51.100.31",
			    5062 };

	memset(&m, 0, sizeof(m));
	m.method = "REGISTER";
	m.via = "192.168.1.20:5062";
	m.from = m.to = "sip:dave@" DOMAIN;
	m.call_id = scn_token(s, cid, sizeof(cid));
	m.cseq = 1;
	m.contact = "<sip:dave@192.168.1.20:5062>";
	m.expires = 3600;
	scn_send(s, &phone, &PROXY, &m);
	scn_expect(s, "drop", "x");
	scn_expect_alarm(s, "spoof", "x");
}

/* Rule 2: alice's captured Authorization replayed from eve's address. */
static void
reg_replay(struct scn *s)
{
	char		 cid[64];
	const char	*auth = "Digest username=\"alice\", realm=\"" DOMAIN
			    "\", nonce=\"c2lwZ3VhcmQ\", uri=\"sip:" DOMAIN
			    "\", response=\"6629fae49393a05397450978507c4ef1\"";
	struct pg_msg	 m;

	memset(&m, 0, sizeof(m));
	m.method = "REGISTER";
	m.via = "198.51.100.11:5060";
	m.from = m.to = "sip:alice@" DOMAIN;
	m.call_id = scn_token(s, cid, sizeof(cid));
	m.cseq = 7;
	m.contact = "<sip:alice@198.51.100.11:5060>";
	m.expires = 3600;
	m.auth = auth;
	scn_send(s, &ALICE.ep, &PROXY, &m);
	scn_expect(s, "accept", "x");
	/* The same REGISTER, retransmitted by alice: still fine. */
	scn_send(s, &ALICE.ep, &PROXY, &m);
	scn_expect(s, "accept", "x");

	scn_tag(s, "replayed Authorization");
	m.via = "203.0.113.66:5060";
	m.contact = "<sip:alice@203.0.113.66:5060>";
	m.call_id = scn_token(s, cid, sizeof(cid));
	scn_send(s, &EVE, &PROXY, &m);
	scn_expect(s, "drop", "replay");
	scn_expect_alarm(s, "spoof", "replay");
}

/* Rule 3: eve registers her identity from alice's IP (another device). */
static void
reg_ip_other_device(struct scn *s)
{
	char		 cid[64];
	struct pg_msg	 m;

	world(s);
	scn_tag(s, "registration hijack from a bound IP");
	memset(&m, 0, sizeof(m));
	m.method = "REGISTER";
	m.via = "198.51.100.11:5060";
	m.from = m.to = "sip:eve@" DOMAIN;
	m.call_id = scn_token(s, cid, sizeof(cid));
	m.cseq = 1;
	m.contact = "<sip:eve@198.51.100.11:5060>";
	m.expires = 3600;
	scn_send(s, &EVE_WITH_ALICE_IP, &PROXY, &m);
	scn_expect(s, "drop", "viii");
	scn_expect_alarm(s, "spoof", "viii");
	scn_tag(s, NULL);
	/* Alice herself is untouched. */
	ua_request(s, &ALICE, "OPTIONS", "alice", "opt-a", 1, &PROXY);
	scn_expect(s, "accept", "vii");
}

static const char *const SETS_IPD2[] = {
	"proxy.addresses = [\"192.0.2.1\"]",
	"startup.learn = 0",
	"identities_per_device = 2",
	NULL,
};

/* Rule 4: a device may hold identities_per_device identities. */
static void
reg_identities(struct scn *s)
{
	struct ua	 line = ALICE;

	line.user = "pbx-1";
	reg(s, &line, 3600, "x");
	line.user = "pbx-2";
	reg(s, &line, 3600, "iii");
	{
		char		 cid[64];
		struct pg_msg	 m;

		scn_tag(s, "identity beyond identities_per_device");
		memset(&m, 0, sizeof(m));
		m.method = "REGISTER";
		m.via = "198.51.100.11:5060";
		m.from = m.to = "sip:pbx-3@" DOMAIN;
		m.call_id = scn_token(s, cid, sizeof(cid));
		m.cseq = 1;
		m.contact = "<sip:pbx-3@198.51.100.11:5060>";
		m.expires = 3600;
		scn_send(s, &ALICE.ep, &PROXY, &m);
		scn_expect(s, "drop", "vi");
		scn_expect_alarm(s, "spoof", "vi");
	}
	scn_tag(s, NULL);
	/* The two bound lines keep working, and re-register. */
	line.user = "pbx-1";
	ua_request(s, &line, "INVITE", "bob", "pbx-call", 1, &PROXY);
	scn_expect(s, "accept", "vii");
	reg(s, &line, 3600, "vii");
}

/* A REGISTER from `u' (Call-ID `cid'), and, when `label' is NULL, the
 * proxy's 200 for it instead. */
static void
reg_leg(struct scn *s, const struct ua *u, const char *cid,
    const char *label)
{
	char		 a[64], via[80], contact[160], c200[200];
	struct pg_msg	 m;

	aor(a, sizeof(a), u->user);
	hostport(via, sizeof(via), via_of(u), u->ep.port);
	snprintf(contact, sizeof(contact), "<sip:%s@%s>", u->user, via);
	memset(&m, 0, sizeof(m));
	m.via = via;
	m.from = a;
	m.to = a;
	m.call_id = cid;
	m.cseq = 1;
	m.expires = -1;
	if (label != NULL) {
		m.method = "REGISTER";
		m.ruri = "sip:" DOMAIN;
		m.contact = contact;
		m.expires = 3600;
		scn_send(s, &u->ep, &PROXY, &m);
		scn_expect(s, "accept", label);
		return;
	}
	snprintf(c200, sizeof(c200), "%s;expires=3600", contact);
	m.status = 200;
	m.to_tag = "q";
	m.cseq_method = "REGISTER";
	m.contact = c200;
	scn_send(s, &PROXY, &u->ep, &m);
	scn_expect(s, "accept", "outbound");
}

/*
 * Binding quotas (identities_per_device 2, devices_per_identity 3 here):
 * three REGISTERs in flight together from one device bind two; one
 * subscriber registering from five addresses holds three bindings.
 */
static void
binding_quotas(struct scn *s)
{
	static const char *const users[] = { "q-1", "q-2", "q-3" };
	struct ua	 line = ALICE, roamer = { "roamer", { { 2, 0, 0, 0, 0,
			    0x77 }, NULL, 5060 }, NULL };
	char		 ips[5][32];

	for (int k = 0; k < 3; k++) {
		line.user = users[k];
		reg_leg(s, &line, users[k], "x");
	}
	for (int k = 0; k < 3; k++) {
		line.user = users[k];
		reg_leg(s, &line, users[k], NULL);
		if (k == 2) {
			scn_tag(s, "identity beyond identities_per_device, "
			    "in flight");
			scn_expect_alarm(s, "spoof", "vi");
		}
	}
	line.user = "q-3";
	ua_request(s, &line, "INVITE", "bob", "q-3-call", 1, &PROXY);
	scn_expect(s, "drop", "vi");
	scn_tag(s, NULL);
	line.user = "q-1";
	ua_request(s, &line, "INVITE", "bob", "q-1-call", 1, &PROXY);
	scn_expect(s, "accept", "vii");

	for (int k = 0; k < 5; k++) {
		char	 cid[32];

		snprintf(ips[k], sizeof(ips[k]), "198.51.100.%d", 101 + k);
		roamer.ep.ip = ips[k];
		snprintf(cid, sizeof(cid), "roam-%d", k);
		reg_leg(s, &roamer, cid, k == 0 ? "x" : "ii");
		reg_leg(s, &roamer, cid, NULL);
	}
	/* The two oldest made room; the three newest work. */
	roamer.ep.ip = ips[0];
	scn_tag(s, "a device the identity's newer ones replaced");
	ua_request(s, &roamer, "INVITE", "bob", "roam-call-0", 1, &PROXY);
	scn_expect(s, "drop", "ii");
	scn_tag(s, NULL);
	roamer.ep.ip = ips[4];
	ua_request(s, &roamer, "INVITE", "bob", "roam-call-4", 1, &PROXY);
	scn_expect(s, "accept", "vii");
	roamer.ep.ip = ips[2];
	ua_request(s, &roamer, "INVITE", "bob", "roam-call-2", 1, &PROXY);
	scn_expect(s, "accept", "vii");
}

static const char *const SETS_QUOTA[] = {
	"proxy.addresses = [\"192.0.2.1\", \"2001:db8::1\"]",
	"startup.learn = 0",
	"identities_per_device = 2",
	"devices_per_identity = 3",
	NULL,
};

/* ---- lifecycle ------------------------------------------------------------- */

static void
deregistration(struct scn *s)
{
	reg(s, &ALICE, 3600, "x");
	ua_request(s, &ALICE, "OPTIONS", "bob", "dereg-1", 1, &PROXY);
	scn_expect(s, "accept", "vii");
	reg(s, &ALICE, 0, "vii");
	scn_tag(s, "message after de-registration");
	ua_request(s, &ALICE, "OPTIONS", "bob", "dereg-2", 1, &PROXY);
	scn_expect(s, "drop", "b");
	scn_expect_alarm(s, "spoof", "b");
	scn_tag(s, NULL);
	/* And she can come back. */
	reg(s, &ALICE, 3600, "x");
	ua_request(s, &ALICE, "OPTIONS", "bob", "dereg-3", 1, &PROXY);
	scn_expect(s, "accept", "vii");
}

/*
 * A binding past its expiry is lapsed for bindings.grace (1800 s): its
 * own device, address and identity still pass (a proxy outage outlived
 * the registration; the phone registers again soon), anyone else's
 * message is judged as if it were gone; past the grace it is gone.
 */
static void
expiry(struct scn *s)
{
	reg(s, &ALICE, 120, "x");
	scn_wait(s, 100);
	ua_request(s, &ALICE, "OPTIONS", "bob", "exp-1", 1, &PROXY);
	scn_expect(s, "accept", "vii");
	scn_wait(s, 21);
	scn_tag(s, "message in the grace after expiry");
	ua_request(s, &ALICE, "OPTIONS", "bob", "exp-2", 1, &PROXY);
	scn_expect(s, "accept", "vii");
	scn_tag(s, "another device with her address and identity");
	forge(s, &EVE_WITH_ALICE_IP, "198.51.100.11", "alice", "OPTIONS",
	    NULL);
	scn_expect(s, "drop", "b");
	scn_expect_alarm(s, "spoof", "b");
	scn_wait(s, 1800);
	scn_tag(s, "message after expiry and grace");
	ua_request(s, &ALICE, "OPTIONS", "bob", "exp-4", 1, &PROXY);
	scn_expect(s, "drop", "b");
	scn_expect_alarm(s, "spoof", "b");
}

static const char *const SETS_SMALL[] = {
	"proxy.addresses = [\"192.0.2.1\"]",
	"startup.learn = 0",
	"tables.bindings = 16",
	NULL,
};

/*
 * A full binding table refuses the 17th device: the proxy's 200 still
 * passes (sipguard never breaks a registration), the refusal is a notice,
 * and that device's requests are unbound (case b) until a slot frees.
 */
static void
table_full(struct scn *s)
{
	struct ua	 u[17];
	char		 name[17][16], ip[17][20];

	for (int k = 0; k < 17; k++) {
		snprintf(name[k], sizeof(name[k]), "user%02d", k);
		snprintf(ip[k], sizeof(ip[k]), "198.51.100.%d", 100 + k);
		memset(&u[k], 0, sizeof(u[k]));
		u[k].user = name[k];
		u[k].ep.mac[0] = 2;
		u[k].ep.mac[5] = (uint8_t)(0x80 + k);
		u[k].ep.ip = ip[k];
		u[k].ep.port = 5060;
		if (k == 16)
			scn_tag(s, "registration beyond tables.bindings");
		reg(s, &u[k], 3600, "x");
	}
	scn_expect_alarm(s, "table-full", "bindings");
	ua_request(s, &u[16], "OPTIONS", "bob", "full-1", 1, &PROXY);
	scn_expect(s, "drop", "b");
	scn_tag(s, NULL);
	/* The sixteen bound devices are untouched. */
	ua_request(s, &u[0], "OPTIONS", "bob", "full-2", 1, &PROXY);
	scn_expect(s, "accept", "vii");
	/* One de-registers: the next registration finds room. */
	reg(s, &u[1], 0, "vii");
	reg(s, &u[16], 3600, "x");
	ua_request(s, &u[16], "OPTIONS", "bob", "full-3", 1, &PROXY);
	scn_expect(s, "accept", "vii");
}

static const char *const SETS_IDPOOL[] = {
	"proxy.addresses = [\"192.0.2.1\"]",
	"startup.learn = 0",
	"tables.bindings = 16",
	"tables.identity_bytes = 32",	/* 16 cells of 28 characters */
	NULL,
};

/*
 * The identity texts' pool full before the table: sixteen slots, but
 * room for five identities of 57 characters (three cells each).
 * The sixth is refused as by a full table (a notice, its requests
 * unbound: case b) while slots are free; a short identity still fits
 * the last cell; one de-registration gives its cells to the refused one.
 */
static void
identity_pool_full(struct scn *s)
{
	struct ua	 u[7];
	char		 name[7][80], ip[7][20];

	/* d: 43 + 2 + 12 = 57 characters, three cells; the IMPI (the
	 * username) is d's user part, no cell. */
	for (int k = 0; k < 7; k++) {
		memset(name[k], 'a' + k, 43);
		snprintf(name[k] + 43, sizeof(name[k]) - 43, "%02d", k);
		snprintf(ip[k], sizeof(ip[k]), "198.51.100.%d", 120 + k);
		memset(&u[k], 0, sizeof(u[k]));
		u[k].user = k == 6 ? "short" : name[k];
		u[k].ep.mac[0] = 2;
		u[k].ep.mac[5] = (uint8_t)(0xa0 + k);
		u[k].ep.ip = ip[k];
		u[k].ep.port = 5060;
	}
	for (int k = 0; k < 5; k++)
		reg(s, &u[k], 3600, "x");
	scn_tag(s, "registration beyond tables.identity_bytes");
	reg(s, &u[5], 3600, "x");
	scn_expect_alarm(s, "table-full", "identities");
	ua_request(s, &u[5], "OPTIONS", "bob", "pool-1", 1, &PROXY);
	scn_expect(s, "drop", "b");
	scn_tag(s, NULL);
	/* One cell left: a short identity fits. */
	reg(s, &u[6], 3600, "x");
	ua_request(s, &u[6], "OPTIONS", "bob", "pool-2", 1, &PROXY);
	scn_expect(s, "accept", "vii");
	/* The long ones are untouched; one leaves, the refused one fits. */
	ua_request(s, &u[0], "OPTIONS", "bob", "pool-3", 1, &PROXY);
	scn_expect(s, "accept", "vii");
	reg(s, &u[1], 0, "vii");
	reg(s, &u[5], 3600, "x");
	ua_request(s, &u[5], "OPTIONS", "bob", "pool-4", 1, &PROXY);
	scn_expect(s, "accept", "vii");
}

/* Two phones behind one home NAT: one MAC, one public IP, two devices. */
static void
nat_two_users(struct scn *s)
{
	struct ua	 u1 = { "frank", { { 2, 0, 0, 0, 0, 0x41 },
			    "198.51.100.41", 5060 }, "192.168.1.10" };
	struct ua	 u2 = { "grace", { { 2, 0, 0, 0, 0, 0x41 },
			    "198.51.100.41", 5062 }, "192.168.1.11" };

	reg(s, &u1, 3600, "x");
	reg(s, &u2, 3600, "x");
	call(s, &u1, &u2);
	call(s, &u2, &u1);
	/* frank's phone claiming to be grace: another device's identity. */
	scn_tag(s, "identity theft behind NAT");
	{
		struct ua	 fake = u1;

		fake.user = "grace";
		ua_request(s, &fake, "INVITE", "alice", "nat-theft", 1,
		    &PROXY);
		/*
		 * Two bindings share three elements: grace's (m, i, d) and
		 * frank's device (m, i, s); the device is the stronger
		 * evidence: an insider using another's identity.
		 */
		scn_expect(s, "drop", "vi");
		scn_expect_alarm(s, "spoof", "vi");
	}
	scn_tag(s, NULL);
	/* The forged message blacklisted K only: grace is untouched. */
	ua_request(s, &u2, "INVITE", "alice", "nat-ok", 1, &PROXY);
	scn_expect(s, "accept", "vii");
}

/* A dozen remote users behind one router: every frame has its MAC. */
static void
gateway_dozen(struct scn *s)
{
	static char	 names[12][16], ips[12][32];
	struct ua	 u[12];

	for (int k = 0; k < 12; k++) {
		snprintf(names[k], sizeof(names[k]), "remote%02d", k);
		snprintf(ips[k], sizeof(ips[k]), "203.0.113.%d", 100 + k);
		memset(&u[k], 0, sizeof(u[k]));
		u[k].user = names[k];
		u[k].ep.mac[0] = 2;
		u[k].ep.mac[5] = 0xfe;		/* the router */
		u[k].ep.ip = ips[k];
		u[k].ep.port = 5060;
		reg(s, &u[k], 3600, "x");
	}
	for (int k = 0; k < 12; k++)
		call(s, &u[k], &u[(k + 1) % 12]);
	/* A host on the proxy's segment forging a remote user's IP. */
	scn_tag(s, "LAN host forging a remote user's IP");
	{
		struct pg_ep	 liar = EVE;

		liar.ip = ips[3];
		forge(s, &liar, ips[3], names[3], "BYE", NULL);
		scn_expect(s, "drop", "ix");
		scn_expect_alarm(s, "spoof", "ix");
	}
	scn_tag(s, NULL);
	ua_request(s, &u[3], "OPTIONS", "alice", "gw-after", 1, &PROXY);
	scn_expect(s, "accept", "vii");
}

/* A forged BYE inside a live dialog: forged one dropped, real accepted. */
static void
forged_bye(struct scn *s)
{
	char	 cid[64];

	reg(s, &ALICE, 3600, "x");
	reg(s, &BOB, 3600, "x");
	scn_token(s, cid, sizeof(cid));
	ua_request(s, &ALICE, "INVITE", "bob", cid, 1, &PROXY);
	scn_expect(s, "accept", "vii");
	proxy_sends(s, &PROXY, &BOB, "INVITE", 0, "alice", "bob", cid, 1,
	    NULL);
	ua_response(s, &BOB, 200, "INVITE", "alice", cid, 1, &PROXY);
	scn_expect(s, "accept", "vii");
	ua_request(s, &ALICE, "ACK", "bob", cid, 1, &PROXY);
	scn_expect(s, "accept", "vii");

	scn_tag(s, "forged BYE");
	forge(s, &EVE_WITH_ALICE_IP, "198.51.100.11", "alice", "BYE", cid);
	scn_expect(s, "drop", "ix");
	scn_expect_alarm(s, "spoof", "ix");
	forge(s, &EVE, "203.0.113.66", "alice", "CANCEL", cid);
	scn_expect(s, "drop", "masquerade");
	scn_expect_alarm(s, "spoof", "masquerade");
	scn_tag(s, NULL);

	scn_wait(s, 60);
	ua_request(s, &ALICE, "BYE", "bob", cid, 2, &PROXY);
	scn_expect(s, "accept", "vii");
	ua_response(s, &BOB, 200, "BYE", "alice", cid, 2, &PROXY);
	scn_expect(s, "accept", "vii");
}

/*
 * A cold start (no state file; every replay): alice registered with the
 * proxy before sipguard knew.  In the start-up window her requests are
 * let through with a notice, and her authenticated INVITE, accepted by
 * the proxy with a 200, teaches her binding: from then on she is case
 * vii.  A forger with no binding is alarmed, not dropped, while the
 * window lasts; one that forges alice's identity once she is bound is
 * dropped as always; after the window a device with no binding is case
 * b again.
 */
static const char *const SETS_COLD[] = {
	"proxy.addresses = [\"192.0.2.1\"]",
	"startup.learn = 600",
	NULL,
};

/* The outsider as a user agent the proxy answers. */
static const struct ua EVE_UA = { "eve", { { 2, 0, 0, 0, 0, 0x66 },
    "203.0.113.66", 5060 }, NULL };

/* A request from `src' as `user' to bob, with credentials and a To tag. */
static void
cold_request(struct scn *s, const struct pg_ep *src, const char *user,
    const char *method, const char *cid, uint32_t cseq, const char *auth,
    const char *to_tag)
{
	char		 a[64], b[64], via[80], contact[160];
	struct pg_msg	 m;

	aor(a, sizeof(a), user);
	aor(b, sizeof(b), "bob");
	hostport(via, sizeof(via), src->ip, src->port);
	snprintf(contact, sizeof(contact), "<sip:%s@%s>", user, via);
	memset(&m, 0, sizeof(m));
	m.method = method;
	m.to_tag = to_tag;
	m.via = via;
	m.from = a;
	m.to = b;
	m.call_id = cid;
	m.cseq = cseq;
	m.contact = contact;
	m.expires = -1;
	m.proxy_auth = auth;
	scn_send(s, src, &PROXY, &m);
}

static void
cold_invite(struct scn *s, const char *cid, uint32_t cseq, const char *auth)
{
	cold_request(s, &ALICE.ep, "alice", "INVITE", cid, cseq, auth, NULL);
}

/* The forger, as carol, in the window (a notice), and the proxy's answer. */
static void
carol_answered(struct scn *s, const char *method, const char *cid,
    uint32_t cseq, const char *auth, const char *to_tag, int status)
{
	cold_request(s, &EVE, "carol", method, cid, cseq, auth, to_tag);
	scn_expect(s, "accept", "b");
	scn_expect_alarm(s, "spoof", "b");
	proxy_sends(s, &PROXY, &EVE_UA, NULL, status, "carol", "bob", cid,
	    cseq, method);
}

static void
cold_start(struct scn *s)
{
	static const char auth[] = "Digest username=\"alice\", realm=\""
	    DOMAIN "\", nonce=\"cold1\", uri=\"sip:bob@" DOMAIN "\", "
	    "response=\"0123456789abcdef0123456789abcdef\"";
	static const char junk[] = "Digest username=\"carol\", realm=\""
	    DOMAIN "\", nonce=\"junk\", uri=\"sip:bob@" DOMAIN "\", "
	    "response=\"00000000000000000000000000000000\"";
	char	 cid[64];

	scn_tag(s, "a phone registered before the start");
	scn_token(s, cid, sizeof(cid));
	cold_invite(s, cid, 1, NULL);
	scn_expect(s, "accept", "b");
	scn_expect_alarm(s, "spoof", "b");
	proxy_sends(s, &PROXY, &ALICE, NULL, 407, "alice", "bob", cid, 1,
	    "INVITE");
	cold_invite(s, cid, 2, auth);
	scn_expect(s, "accept", "b");
	scn_expect_alarm(s, "spoof", "b");
	proxy_sends(s, &PROXY, &ALICE, NULL, 200, "alice", "bob", cid, 2,
	    "INVITE");
	/* Learned from the 200: her own device, case vii, no alarm. */
	ua_request(s, &ALICE, "ACK", "bob", cid, 2, &PROXY);
	scn_expect(s, "accept", "vii");
	scn_tag(s, NULL);

	scn_tag(s, "forgers during the window");
	forge(s, &EVE, "203.0.113.66", "eve", "INVITE", NULL);
	scn_expect(s, "accept", "b");
	scn_expect_alarm(s, "spoof", "b");
	forge(s, &EVE, "203.0.113.66", "alice", "BYE", cid);
	scn_expect(s, "drop", "masquerade");
	scn_expect_alarm(s, "spoof", "masquerade");
	/*
	 * Credentials a proxy never checks: junk ones on a BYE inside a
	 * dialog (the callee answers 200), or another user's name on an
	 * initial request.  Neither answer teaches carol's binding.
	 */
	carol_answered(s, "BYE", "cold-dlg", 2, junk, "t1", 200);
	carol_answered(s, "INVITE", "cold-other", 2, auth, NULL, 200);
	/*
	 * Her own name and junk credentials on a request the proxy answers
	 * without checking any (OPTIONS: 200 before authentication), alone
	 * or after an INVITE of the same Call-ID was challenged: a 2xx
	 * teaches only after a challenge of the same method.
	 */
	carol_answered(s, "OPTIONS", "cold-opt", 1, junk, NULL, 200);
	carol_answered(s, "INVITE", "cold-mix", 1, NULL, NULL, 407);
	carol_answered(s, "OPTIONS", "cold-mix", 2, junk, NULL, 200);
	/* An OPTIONS to a user is challenged, one to the proxy answered
	 * unchecked (Kamailio's default configuration): only an INVITE
	 * teaches. */
	carol_answered(s, "OPTIONS", "cold-opt2", 1, NULL, NULL, 407);
	carol_answered(s, "OPTIONS", "cold-opt2", 2, junk, NULL, 200);
	cold_request(s, &EVE, "carol", "INVITE", "cold-after", 1, NULL, NULL);
	scn_expect(s, "accept", "b");
	scn_expect_alarm(s, "spoof", "b");
	scn_tag(s, NULL);

	scn_tag(s, "after the window");
	scn_wait(s, 600);
	forge(s, &EVE, "203.0.113.67", "eve", "INVITE", NULL);
	scn_expect(s, "drop", "b");
	scn_expect_alarm(s, "spoof", "b");
	ua_request(s, &ALICE, "BYE", "bob", cid, 3, &PROXY);
	scn_expect(s, "accept", "vii");
	scn_tag(s, NULL);
}

/* Forged traffic with a victim's IP must not get the victim blocked. */
static void
victim_ip(struct scn *s)
{
	world(s);
	scn_tag(s, "messages forged with alice's IP");
	forge(s, &EVE_WITH_ALICE_IP, "198.51.100.11", "alice", "INVITE",
	    NULL);
	scn_expect(s, "drop", "ix");
	scn_expect_alarm(s, "spoof", "ix");
	/* The same K again: the blacklist stops it before module I. */
	for (int k = 0; k < 10; k++) {
		forge(s, &EVE_WITH_ALICE_IP, "198.51.100.11", "alice",
		    k % 2 ? "INVITE" : "MESSAGE", NULL);
		scn_expect(s, "drop", "blacklisted");
	}
	/* Other identities, and alice's IP with a made-up Via. */
	forge(s, &EVE_WITH_ALICE_IP, "198.51.100.11", "bob", "INVITE", NULL);
	scn_expect(s, "drop", "spoof");
	scn_expect_alarm(s, "spoof", "spoof");
	forge(s, &EVE_WITH_ALICE_IP, "203.0.113.9", "nobody", "INVITE",
	    NULL);
	scn_expect(s, "drop", "viii");
	scn_expect_alarm(s, "spoof", "viii");
	scn_tag(s, NULL);
	call(s, &ALICE, &BOB);
	reg(s, &ALICE, 3600, "vii");
}

static void
keepalive(struct scn *s)
{
	static const uint8_t stun[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12,
	    0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

	reg(s, &ALICE, 3600, "x");
	scn_send_payload(s, &ALICE.ep, &PROXY, "\r\n\r\n", 4, NULL);
	scn_expect(s, "accept", "keepalive");
	scn_send_payload(s, &ALICE.ep, &PROXY, "\r\n", 2, NULL);
	scn_expect(s, "accept", "keepalive");
	scn_send_payload(s, &ALICE.ep, &PROXY, stun, sizeof(stun), NULL);
	scn_expect(s, "accept", "keepalive");
	/* From an unknown source too: a keep-alive carries no identity. */
	scn_send_payload(s, &EVE, &PROXY, "\r\n\r\n", 4, NULL);
	scn_expect(s, "accept", "keepalive");
	/* The proxy's pong. */
	scn_send_payload(s, &PROXY, &ALICE.ep, "\r\n", 2, NULL);
	scn_expect(s, "accept", "outbound");
}

static void
malformed(struct scn *s)
{
	static const char *const bad[] = {
		/* no Call-ID */
		"INVITE sip:bob@example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 203.0.113.66;branch=z9hG4bK1\r\n"
		"From: <sip:eve@example.com>;tag=1\r\n"
		"To: <sip:bob@example.com>\r\nCSeq: 1 INVITE\r\n"
		"Content-Length: 0\r\n\r\n",
		/* CSeq method does not match */
		"BYE sip:bob@example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 203.0.113.66;branch=z9hG4bK2\r\n"
		"From: <sip:eve@example.com>;tag=1\r\n"
		"To: <sip:bob@example.com>\r\nCall-ID: m2\r\n"
		"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
		/* negative Content-Length */
		"MESSAGE sip:bob@example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 203.0.113.66;branch=z9hG4bK3\r\n"
		"From: <sip:eve@example.com>;tag=1\r\n"
		"To: <sip:bob@example.com>\r\nCall-ID: m3\r\n"
		"CSeq: 1 MESSAGE\r\nContent-Length: -5\r\n\r\nhello",
		/* Content-Length beyond the datagram */
		"MESSAGE sip:bob@example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 203.0.113.66;branch=z9hG4bK4\r\n"
		"From: <sip:eve@example.com>;tag=1\r\n"
		"To: <sip:bob@example.com>\r\nCall-ID: m4\r\n"
		"CSeq: 1 MESSAGE\r\nContent-Length: 500\r\n\r\nhello",
		/* a status code out of range */
		"SIP/2.0 4294967301 Huge\r\n"
		"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK5\r\n"
		"From: <sip:eve@example.com>;tag=1\r\n"
		"To: <sip:bob@example.com>;tag=2\r\nCall-ID: m5\r\n"
		"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
		/* SIP/7.0 */
		"OPTIONS sip:bob@example.com SIP/7.0\r\n"
		"Via: SIP/2.0/UDP 203.0.113.66;branch=z9hG4bK6\r\n"
		"From: <sip:eve@example.com>;tag=1\r\n"
		"To: <sip:bob@example.com>\r\nCall-ID: m6\r\n"
		"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
		/* a header line without a colon */
		"OPTIONS sip:bob@example.com SIP/2.0\r\n"
		"Via SIP/2.0/UDP 203.0.113.66\r\n\r\n",
		/* no Via */
		"OPTIONS sip:bob@example.com SIP/2.0\r\n"
		"From: <sip:eve@example.com>;tag=1\r\n"
		"To: <sip:bob@example.com>\r\nCall-ID: m8\r\n"
		"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
	};

	scn_tag(s, "malformed messages");
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		scn_send_payload(s, &EVE, &PROXY, bad[k], strlen(bad[k]),
		    NULL);
		scn_expect(s, "drop", "malformed");
		scn_expect_alarm(s, "malformed", NULL);
	}
	/* A "hello" keep-alive some phones send is not SIP: accepted. */
	scn_tag(s, NULL);
	reg(s, &ALICE, 3600, "x");
	ua_request(s, &ALICE, "OPTIONS", "bob", "after-bad", 1, &PROXY);
	scn_expect(s, "accept", "vii");
}

/* A multipart body never reaches osip2: no leak, no CPU burn. */
static void
multipart_body(struct scn *s)
{
	static char	 body[60000], raw[256];
	size_t		 o = 0;
	char		 a[64], b[64], via[80];
	struct pg_msg	 m;

	reg(s, &ALICE, 3600, "x");
	o += (size_t)snprintf(body + o, sizeof(body) - o, "--b1\r\n"
	    "Content-Type: text/plain");
	while (o < sizeof(body) - 200)
		o += (size_t)snprintf(body + o, sizeof(body) - o, ";x");
	snprintf(body + o, sizeof(body) - o, "\r\nContent-Type: text/plain"
	    "\r\n\r\nhi\r\n--b1--\r\n");
	aor(a, sizeof(a), "alice");
	aor(b, sizeof(b), "bob");
	hostport(via, sizeof(via), ALICE.ep.ip, 5060);
	memset(&m, 0, sizeof(m));
	m.method = "MESSAGE";
	m.via = via;
	m.from = a;
	m.to = b;
	m.call_id = "multipart-1";
	m.cseq = 1;
	m.expires = -1;
	m.body = body;
	snprintf(raw, sizeof(raw), "multipart/mixed;boundary=b1");
	m.content_type = raw;
	scn_send(s, &ALICE.ep, &PROXY, &m);
	scn_expect(s, "accept", "vii");
}

static void
ipv6(struct scn *s)
{
	struct ua	 a6 = { "alice6", { { 2, 0, 0, 0, 0, 0x61 },
			    "2001:db8:1::11", 5060 }, NULL };
	struct ua	 b6 = { "bob6", { { 2, 0, 0, 0, 0, 0x62 },
			    "2001:db8:1::12", 5060 }, NULL };

	reg_to(s, &a6, &PROXY6, 3600, "x");
	reg_to(s, &b6, &PROXY6, 3600, "x");
	call_via(s, &a6, &b6, &PROXY6);
	scn_tag(s, "forged BYE over IPv6");
	{
		struct pg_ep	 liar = { { 2, 0, 0, 0, 0, 0x66 },
				    "2001:db8:1::11", 5060 };
		char		 a[64], b[64];
		struct pg_msg	 m;

		aor(a, sizeof(a), "alice6");
		aor(b, sizeof(b), "bob6");
		memset(&m, 0, sizeof(m));
		m.method = "BYE";
		m.via = "[2001:db8:1::11]:5060";
		m.from = a;
		m.to = b;
		m.call_id = "v6-forged";
		m.cseq = 9;
		m.expires = -1;
		scn_send(s, &liar, &PROXY6, &m);
		scn_expect(s, "drop", "ix");
		scn_expect_alarm(s, "spoof", "ix");
	}
}

/* 802.1Q tags in front of IP change nothing. */
static void
vlan(struct scn *s)
{
	static char	 text[2048];
	struct pg_frame_opt opt = { .vlan = 42 };
	struct pg_msg	 m;
	char		 cid[64];

	reg(s, &ALICE, 3600, "x");
	memset(&m, 0, sizeof(m));
	m.method = "OPTIONS";
	m.via = "198.51.100.11:5060";
	m.from = "sip:alice@" DOMAIN;
	m.to = "sip:bob@" DOMAIN;
	m.call_id = scn_token(s, cid, sizeof(cid));
	m.cseq = 1;
	m.expires = -1;
	scn_send_payload(s, &ALICE.ep, &PROXY, text, pg_sip(text,
	    sizeof(text), &m), &opt);
	scn_expect(s, "accept", "vii");
	m.from = "sip:mallory@" DOMAIN;
	scn_send_payload(s, &ALICE.ep, &PROXY, text, pg_sip(text,
	    sizeof(text), &m), &opt);
	scn_expect(s, "drop", "vi");
}

/*
 * A Contact is read in a REGISTER and a response only (sipmsg.c): a
 * bound phone's INVITE whose Contact osip2 alone would refuse (no host)
 * is judged like any other, while the same Contact in a REGISTER or in
 * a response to the proxy is malformed.
 */
static void
contact_unread(struct scn *s)
{
	char		 a[64], b[64], via[80], cid[64];
	struct pg_msg	 m;

	reg(s, &ALICE, 3600, "x");
	aor(a, sizeof(a), ALICE.user);
	aor(b, sizeof(b), BOB.user);
	hostport(via, sizeof(via), via_of(&ALICE), ALICE.ep.port);
	memset(&m, 0, sizeof(m));
	m.method = "INVITE";
	m.via = via;
	m.from = a;
	m.to = b;
	m.call_id = scn_token(s, cid, sizeof(cid));
	m.cseq = 1;
	m.contact = "<sip:alice@>";
	m.expires = -1;
	scn_tag(s, "INVITE, a Contact osip2 refuses: not read");
	scn_send(s, &ALICE.ep, &PROXY, &m);
	scn_expect(s, "accept", "vii");
	m.method = NULL;
	m.status = 200;
	m.cseq_method = "INVITE";
	m.to_tag = "t1";
	scn_tag(s, "its 200 with that Contact: read, malformed");
	scn_send(s, &ALICE.ep, &PROXY, &m);
	scn_expect(s, "drop", "malformed");
	m.method = "REGISTER";
	m.status = 0;
	m.cseq_method = NULL;
	m.to_tag = NULL;
	m.to = a;
	m.call_id = scn_token(s, cid, sizeof(cid));
	scn_tag(s, "a REGISTER with that Contact: read, malformed");
	scn_send(s, &ALICE.ep, &PROXY, &m);
	scn_expect(s, "drop", "malformed");
}

/* An INVITE too big for one frame, in three IPv4 fragments. */
static void
fragments(struct scn *s)
{
	static char	 text[4000], body[3000];
	static uint8_t	 dgram[5000];
	char		 a[64], b[64];
	struct pg_msg	 m;
	size_t		 n, off = 0, chunk = 1480;
	uint16_t	 id = 77;

	reg(s, &ALICE, 3600, "x");
	memset(body, 'a', sizeof(body) - 1);
	for (size_t k = 0; k + 1 < sizeof(body); k += 60)
		body[k] = '\n';
	aor(a, sizeof(a), "alice");
	aor(b, sizeof(b), "bob");
	memset(&m, 0, sizeof(m));
	m.method = "INVITE";
	m.via = "198.51.100.11:5060";
	m.from = a;
	m.to = b;
	m.call_id = "frag-1";
	m.cseq = 1;
	m.expires = -1;
	m.body = body;
	n = pg_udp_datagram(dgram, sizeof(dgram), &ALICE.ep, &PROXY, text,
	    pg_sip(text, sizeof(text), &m));
	for (int pass = 0; pass < 2; pass++) {
		const struct pg_ep *src = pass ? &EVE_WITH_ALICE_IP : &ALICE.ep;

		off = 0;
		while (off < n) {
			size_t len = n - off > chunk ? chunk : n - off;
			struct pg_frame_opt opt = { .raw_l4 = true,
			    .ip_id = id, .frag_off = (uint16_t)off,
			    .frag_more = off + len < n };

			scn_send_payload(s, src, &PROXY, dgram + off, len,
			    &opt);
			off += len;
		}
		/* The last fragment completes the datagram and is judged. */
		if (pass == 0)
			scn_expect(s, "accept", "vii");
		else {
			scn_expect(s, "drop", "ix");
			scn_expect_alarm(s, "spoof", "ix");
		}
		id++;
	}
}

/* SIP over TCP where every segment holds whole messages. */
static void
tcp(struct scn *s)
{
	static char	 text[4096];
	struct pg_frame_opt opt = { .tcp = true };
	struct pg_msg	 m;
	size_t		 n;

	reg(s, &ALICE, 3600, "x");
	memset(&m, 0, sizeof(m));
	m.method = "MESSAGE";
	m.via = "198.51.100.11:5060";
	m.from = "sip:alice@" DOMAIN;
	m.to = "sip:bob@" DOMAIN;
	m.call_id = "tcp-1";
	m.cseq = 1;
	m.expires = -1;
	m.body = "hello";
	m.content_type = "text/plain";
	n = pg_sip(text, sizeof(text), &m);
	opt.seq = 1000;
	scn_send_payload(s, &ALICE.ep, &PROXY, text, n, &opt);
	scn_expect(s, "accept", "vii");
	/* Two messages in one segment, on Eve's own connection from
	 * Alice's address: both judged, the forged one drops. */
	m.call_id = "tcp-2";
	n += pg_sip(text + n, sizeof(text) - n, &m);
	{
		struct pg_ep	 eve = EVE_WITH_ALICE_IP;

		eve.port = 5070;
		scn_send_payload(s, &eve, &PROXY, text, n, &opt);
	}
	scn_expect(s, "drop", "ix");
	scn_expect_alarm(s, "spoof", "ix");
}

/* ---- evasion (SPEC 1: nothing the proxy acts on goes unjudged) -------- */

/* A request as text: `from_user' to bob, Via on `src'. */
static size_t
request_text(char *buf, size_t len, const struct pg_ep *src,
    const char *from_user, const char *method, const char *call_id)
{
	char		 a[64], b[64], via[80];
	struct pg_msg	 m;

	aor(a, sizeof(a), from_user);
	aor(b, sizeof(b), "bob");
	hostport(via, sizeof(via), src->ip, 5060);
	memset(&m, 0, sizeof(m));
	m.method = method;
	m.via = via;
	m.from = a;
	m.to = b;
	m.call_id = call_id;
	m.cseq = 7;
	m.expires = -1;
	m.body = method[0] == 'I' ? "v=0\r\no=- 1 1 IN IP4 198.51.100.11\r\n"
	    "s=-\r\nc=IN IP4 198.51.100.11\r\nt=0 0\r\nm=audio 4000 RTP/AVP "
	    "0\r\n" : NULL;
	return pg_sip(buf, len, &m);
}

/* One TCP segment of the connection from `src' (its port) to the proxy. */
static void
segment(struct scn *s, const struct pg_ep *src, uint16_t port, uint32_t seq,
    const char *p, size_t len)
{
	struct pg_frame_opt	 opt = { .tcp = true, .seq = seq };
	struct pg_ep		 ep = *src;

	ep.port = port;
	scn_send_payload(s, &ep, &PROXY, p, len, &opt);
}

/* A segment from the proxy to `dst' (its port). */
static void
proxy_segment(struct scn *s, const struct pg_ep *dst, uint16_t port,
    uint8_t flags, uint32_t seq, uint32_t ack)
{
	struct pg_frame_opt	 opt = { .tcp = true, .tcp_flags = flags,
				    .seq = seq, .ack = ack };
	struct pg_ep		 ep = *dst;

	ep.port = port;
	scn_send_payload(s, &PROXY, &ep, "", 0, &opt);
}

/* The three-way handshake: the client's data starts at 1, the proxy's
 * at 5001. */
static void
syn(struct scn *s, const struct pg_ep *src, uint16_t port)
{
	struct pg_frame_opt	 opt = { .tcp = true, .tcp_flags = 0x02 };
	struct pg_ep		 ep = *src;

	ep.port = port;
	scn_send_payload(s, &ep, &PROXY, "", 0, &opt);
	proxy_segment(s, src, port, 0x12, 5000, 1);
	opt.tcp_flags = 0x10;
	opt.seq = 1;
	opt.ack = 5001;
	scn_send_payload(s, &ep, &PROXY, "", 0, &opt);
}

/*
 * A forged BYE (Alice's IP, Eve's MAC) cut at every byte over two TCP
 * segments: the first is held, the second completes it and is dropped;
 * and Alice's own INVITE cut the same ways is judged once and accepted.
 */
static void
tcp_split(struct scn *s)
{
	static char	 bye[2048], inv[2048];
	size_t		 nb, ni;

	reg(s, &ALICE, 3600, "x");
	nb = request_text(bye, sizeof(bye), &ALICE.ep, "alice", "BYE",
	    "split-bye");
	ni = request_text(inv, sizeof(inv), &ALICE.ep, "alice", "INVITE",
	    "split-invite");
	scn_tag(s, "forged BYE split across TCP segments");
	for (size_t cut = 1; cut < nb; cut++) {
		uint16_t	 port = (uint16_t)(20000 + cut);

		syn(s, &EVE_WITH_ALICE_IP, port);
		segment(s, &EVE_WITH_ALICE_IP, port, 1, bye, cut);
		scn_expect_held(s);
		/* Judged whole; after the first, Eve's K is listed. */
		segment(s, &EVE_WITH_ALICE_IP, port, 1 + (uint32_t)cut,
		    bye + cut, nb - cut);
		scn_expect(s, "drop", cut == 1 ? "ix" : "blacklisted");
		/* Resent: the connection is poisoned. */
		segment(s, &EVE_WITH_ALICE_IP, port, 1 + (uint32_t)cut,
		    bye + cut, nb - cut);
		scn_expect(s, "drop", "tcp-poisoned");
		/* The proxy gives up on the stalled connection. */
		proxy_segment(s, &EVE_WITH_ALICE_IP, port, 0x04, 5001, 0);
	}
	/* Slow connections, each holding part of a message: one device
	 * holds a sixteenth of the buffers (16 of 256); Alice, at the same
	 * address from her own MAC, is not touched. */
	scn_tag(s, "slow connections beyond the quota of one device");
	for (uint16_t port = 30000; port < 30020; port++) {
		syn(s, &EVE_WITH_ALICE_IP, port);
		segment(s, &EVE_WITH_ALICE_IP, port, 1, bye, 20);
		if (port < 30016) {
			scn_expect_held(s);
		} else {
			scn_expect(s, "drop", "tcp-table-full");
			scn_expect_alarm(s, "malformed", "tcp-table-full");
		}
	}
	/* Established connections are never recycled: beyond
	 * tcp.streams_per_source (100 here) a device gets no new one. */
	for (uint16_t port = 31000; port < 31100; port++)
		syn(s, &EVE_WITH_ALICE_IP, port);
	{
		struct pg_frame_opt opt = { .tcp = true, .tcp_flags = 0x02 };
		struct pg_ep	 ep = EVE_WITH_ALICE_IP;

		ep.port = 31200;
		scn_send_payload(s, &ep, &PROXY, "", 0, &opt);
		scn_expect(s, "drop", "tcp-table-full");
		scn_expect_alarm(s, "malformed", "tcp-table-full");
	}
	scn_tag(s, NULL);
	syn(s, &ALICE.ep, 30200);
	segment(s, &ALICE.ep, 30200, 1, inv, ni);
	scn_expect(s, "accept", "vii");
	scn_tag(s, NULL);
	for (size_t cut = 1; cut < ni; cut += 7) {
		uint16_t	 port = (uint16_t)(40000 + cut);

		syn(s, &ALICE.ep, port);
		segment(s, &ALICE.ep, port, 1, inv, cut);
		scn_expect_held(s);
		segment(s, &ALICE.ep, port, 1 + (uint32_t)cut, inv + cut,
		    ni - cut);
		scn_expect(s, "accept", "vii");
	}
	/* Three segments. */
	syn(s, &ALICE.ep, 50000);
	segment(s, &ALICE.ep, 50000, 1, inv, 10);
	scn_expect_held(s);
	segment(s, &ALICE.ep, 50000, 11, inv + 10, 100);
	scn_expect_held(s);
	segment(s, &ALICE.ep, 50000, 111, inv + 110, ni - 110);
	scn_expect(s, "accept", "vii");
}

/*
 * Overlaps, retransmissions and holes: the bytes the proxy will see are
 * the bytes that were judged, or the segment is dropped.
 */
static void
tcp_overlap(struct scn *s)
{
	static char	 bye[2048], inv[2048], other[2048];
	size_t		 nb, ni;

	reg(s, &ALICE, 3600, "x");
	nb = request_text(bye, sizeof(bye), &ALICE.ep, "alice", "BYE",
	    "overlap-bye");
	ni = request_text(inv, sizeof(inv), &ALICE.ep, "alice", "INVITE",
	    "overlap-invite");
	memcpy(other, inv, ni);
	other[20] ^= 0x20;

	/* An identical retransmission of held bytes is harmless. */
	syn(s, &ALICE.ep, 41000);
	segment(s, &ALICE.ep, 41000, 1, inv, 100);
	scn_expect_held(s);
	segment(s, &ALICE.ep, 41000, 1, inv, 100);
	scn_expect_held(s);
	/* One that overlaps the held bytes and goes on is trimmed. */
	segment(s, &ALICE.ep, 41000, 51, inv + 50, ni - 50);
	scn_expect(s, "accept", "vii");

	scn_tag(s, "overlapping TCP segment with other bytes");
	syn(s, &ALICE.ep, 41001);
	segment(s, &ALICE.ep, 41001, 1, inv, 100);
	scn_expect_held(s);
	/* Another MAC on the connection changes nothing ... */
	segment(s, &EVE_WITH_ALICE_IP, 41001, 1, other, 100);
	scn_expect(s, "drop", "tcp-invalid");
	scn_expect_alarm(s, "malformed", "tcp-invalid");
	/* ... and one forging the MAC too is caught by its bytes. */
	segment(s, &ALICE.ep, 41001, 1, other, 100);
	scn_expect(s, "drop", "tcp-conflict");
	scn_expect_alarm(s, "malformed", "tcp-conflict");
	segment(s, &ALICE.ep, 41001, 101, inv + 100, ni - 100);
	scn_expect(s, "drop", "tcp-poisoned");

	/* Out of order: dropped until the hole is filled, then judged. */
	scn_tag(s, "TCP segments out of order");
	syn(s, &EVE_WITH_ALICE_IP, 41002);
	segment(s, &EVE_WITH_ALICE_IP, 41002, 1, bye, 40);
	scn_expect_held(s);
	segment(s, &EVE_WITH_ALICE_IP, 41002, 81, bye + 80, nb - 80);
	scn_expect(s, "drop", "tcp-out-of-order");
	segment(s, &EVE_WITH_ALICE_IP, 41002, 41, bye + 40, 40);
	scn_expect_held(s);
	segment(s, &EVE_WITH_ALICE_IP, 41002, 81, bye + 80, nb - 80);
	scn_expect(s, "drop", "ix");

	/* A reset the proxy's stack would refuse (wrong checksum, or not
	 * at the sequence number its last ACK stated) does not end the
	 * poisoned connection here either. */
	scn_tag(s, "reset with a wrong checksum");
	{
		struct pg_frame_opt opt = { .tcp = true, .seq = 101,
		    .tcp_flags = 0x04, .bad_csum = true };
		struct pg_ep	 ep = ALICE.ep;

		ep.port = 41001;
		scn_send_payload(s, &ep, &PROXY, "", 0, &opt);
		scn_expect(s, "drop", "bad-checksum");
		segment(s, &ALICE.ep, 41001, 101, inv + 100, ni - 100);
		scn_expect(s, "drop", "tcp-poisoned");
		opt.bad_csum = false;
		scn_send_payload(s, &ep, &PROXY, "", 0, &opt);
		scn_expect_held(s);
	}

	/* The rest of a message on a connection never seen: no way to
	 * judge it, so it is dropped. */
	scn_tag(s, "continuation of an unseen TCP message");
	segment(s, &EVE_WITH_ALICE_IP, 41003, 5000, bye + 30, nb - 30);
	scn_expect(s, "drop", "tcp-unsynced");
	/* Old bytes neither held nor acknowledged cannot be verified. */
	scn_tag(s, NULL);
	syn(s, &ALICE.ep, 41004);
	segment(s, &ALICE.ep, 41004, 1, inv, ni);
	scn_expect(s, "accept", "vii");
	scn_tag(s, "retransmission of judged, unacknowledged bytes");
	segment(s, &ALICE.ep, 41004, 1, other, ni);
	scn_expect(s, "drop", "tcp-unverifiable");
}

/* A forged BYE behind a long IPv6 extension header chain. */
static void
v6_exthdr(struct scn *s)
{
	static char	 bye[2048];
	static const struct ua ALICE6 = { "alice", { { 2, 0, 0, 0, 0, 0x11 },
	    "2001:db8::11", 5060 }, NULL };
	static const struct pg_ep EVE6 = { { 2, 0, 0, 0, 0, 0x66 },
	    "2001:db8::11", 5060 };
	static const int chains[] = { 1, 2, 9, 10, 11, 20, 40 };
	size_t		 n;

	reg_to(s, &ALICE6, &PROXY6, 3600, "x");
	n = request_text(bye, sizeof(bye), &ALICE6.ep, "alice", "BYE",
	    "v6-bye");
	scn_tag(s, "forged BYE behind IPv6 extension headers");
	for (size_t k = 0; k < nitems(chains); k++) {
		struct pg_frame_opt opt = { .v6_dstopts = chains[k] };

		/* Read and judged; after the first, Eve's K is listed. */
		scn_send_payload(s, &EVE6, &PROXY6, bye, n, &opt);
		scn_expect(s, "drop", k == 0 ? "ix" : "blacklisted");
	}
	/* Past what sipguard walks: undecodable, dropped all the same. */
	{
		struct pg_frame_opt opt = { .v6_dstopts = 200 };

		scn_send_payload(s, &EVE6, &PROXY6, bye, n, &opt);
		scn_expect(s, "drop", "undecodable");
		scn_expect_alarm(s, "malformed", "undecodable");
	}
}

/* Fragments resent, duplicated, and decoys between the halves. */
static void
frag_evasion(struct scn *s)
{
	static char	 text[4000];
	static uint8_t	 dgram[5000];
	size_t		 n, half;
	struct pg_msg	 m;
	char		 a[64], b[64], body[2500];

	reg(s, &ALICE, 3600, "x");
	memset(body, 'x', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	aor(a, sizeof(a), "alice");
	aor(b, sizeof(b), "bob");
	memset(&m, 0, sizeof(m));
	m.method = "BYE";
	m.via = "198.51.100.11:5060";
	m.from = a;
	m.to = b;
	m.call_id = "frag-bye";
	m.cseq = 2;
	m.expires = -1;
	m.body = body;
	m.content_type = "text/plain";
	n = pg_udp_datagram(dgram, sizeof(dgram), &EVE_WITH_ALICE_IP, &PROXY,
	    text, pg_sip(text, sizeof(text), &m));
	half = 1480;

	scn_tag(s, "forged fragmented BYE, resent");
	{
		struct pg_frame_opt f1 = { .raw_l4 = true, .ip_id = 901,
		    .frag_off = 0, .frag_more = true };
		struct pg_frame_opt f2 = { .raw_l4 = true, .ip_id = 901,
		    .frag_off = (uint16_t)half };

		scn_send_payload(s, &EVE_WITH_ALICE_IP, &PROXY, dgram, half,
		    &f1);
		scn_expect_held(s);
		/* An identical duplicate of the first: held too. */
		scn_send_payload(s, &EVE_WITH_ALICE_IP, &PROXY, dgram, half,
		    &f1);
		scn_expect_held(s);
		/* 64 decoy datagrams between the halves: one sender (MAC
		 * and address: Eve's own, not the BYE's forged one) holds
		 * at most 4 of the 8 contexts here (tables.fragments = 8),
		 * so the rest are dropped, and the BYE's state survives. */
		for (uint16_t id = 1000; id < 1064; id++) {
			struct pg_frame_opt d = { .raw_l4 = true, .ip_id = id,
			    .frag_more = true };

			scn_send_payload(s, &EVE, &PROXY, dgram, half, &d);
			if (id >= 1004)
				scn_expect(s, "drop", "fragment-dropped");
		}
		scn_send_payload(s, &EVE_WITH_ALICE_IP, &PROXY, dgram + half,
		    n - half, &f2);
		scn_expect(s, "drop", "ix");
		/* The last fragment resent, and the first: same verdict. */
		scn_send_payload(s, &EVE_WITH_ALICE_IP, &PROXY, dgram + half,
		    n - half, &f2);
		scn_expect(s, "drop", "fragment-dropped");
		scn_send_payload(s, &EVE_WITH_ALICE_IP, &PROXY, dgram, half,
		    &f1);
		scn_expect(s, "drop", "fragment-dropped");
	}
}

/*
 * A registration hijack through a forged answer: Eve asks to register
 * Alice's identity from her own device, then forges the proxy's 200 OK
 * from her MAC.  Dropped as a forgery, nothing learned: her INVITEs as
 * Alice stay dropped.
 */
static void
forged_answer_to(struct scn *s, const struct ua *victim,
    const struct pg_ep *eve, const struct pg_ep *proxy, const char *label)
{
	char		 a[64], via[80], contact[160];
	struct pg_msg	 m, r;
	struct pg_ep	 fake = *proxy;

	memcpy(fake.mac, eve->mac, 6);
	reg_to(s, victim, proxy, 3600, label);
	aor(a, sizeof(a), victim->user);
	hostport(via, sizeof(via), eve->ip, eve->port);
	snprintf(contact, sizeof(contact), "<sip:%s@%s>", victim->user, via);
	memset(&m, 0, sizeof(m));
	m.method = "REGISTER";
	m.ruri = "sip:" DOMAIN;
	m.via = via;
	m.from = a;
	m.to = a;
	m.call_id = "hijack";
	m.cseq = 1;
	m.contact = contact;
	m.expires = 3600;
	scn_send(s, eve, proxy, &m);
	scn_expect(s, "accept", "ix");

	scn_tag(s, "forged 200 OK from the proxy's address");
	memset(&r, 0, sizeof(r));
	r.status = 200;
	r.via = via;
	r.from = a;
	r.to = a;
	r.to_tag = "x";
	r.call_id = "hijack";
	r.cseq = 1;
	r.cseq_method = "REGISTER";
	r.contact = contact;
	r.expires = -1;
	scn_send(s, &fake, eve, &r);
	scn_expect(s, "drop", "forged-proxy");
	scn_expect_alarm(s, "spoof", "forged-proxy");
	scn_tag(s, "INVITE as the victim after the forged answer");
	memset(&m, 0, sizeof(m));
	m.method = "INVITE";
	m.via = via;
	m.from = a;
	aor(contact, sizeof(contact), "bob");
	m.to = contact;
	m.call_id = "hijack-call";
	m.cseq = 1;
	m.expires = -1;
	scn_send(s, eve, proxy, &m);
	scn_expect(s, "drop", "masquerade");
}

static void
forged_answer(struct scn *s)
{
	static const struct ua ALICE6 = { "alice", { { 2, 0, 0, 0, 0, 0x11 },
	    "2001:db8::11", 5060 }, NULL };
	static const struct pg_ep EVE6 = { { 2, 0, 0, 0, 0, 0x66 },
	    "2001:db8::66", 5060 };

	forged_answer_to(s, &ALICE, &EVE, &PROXY, "x");
	/* The same phone on IPv6: "the IP changed". */
	forged_answer_to(s, &ALICE6, &EVE6, &PROXY6, "ii");
}

static const char *const SETS_TCP100[] = {
	"proxy.addresses = [\"192.0.2.1\", \"2001:db8::1\"]",
	"startup.learn = 0",
	"tcp.streams_per_source = 100",
	NULL,
};

/*
 * Slow messages from spoofed sources (no handshake: the proxy holds
 * nothing of them) take every reassembly buffer; a phone's connection,
 * established, still gets one for its message that spans segments.
 */
static void
tcp_slowloris(struct scn *s)
{
	static char	 inv[2048];
	size_t		 ni;
	struct pg_frame_opt synack = { .tcp = true, .tcp_flags = 0x12,
			    .seq = 5000, .ack = 1 };
	struct pg_frame_opt ack = { .tcp = true, .tcp_flags = 0x10,
			    .seq = 1, .ack = 5001 };
	struct pg_ep	 phone = ALICE.ep, proxy = PROXY;

	reg(s, &ALICE, 3600, "x");
	ni = request_text(inv, sizeof(inv), &ALICE.ep, "alice", "INVITE",
	    "slow-invite");
	scn_tag(s, "slow messages from spoofed sources");
	for (int k = 0; k < 40; k++) {
		struct pg_ep	 fake = EVE;
		char		 ip[32];

		snprintf(ip, sizeof(ip), "203.0.113.%d", 100 + k);
		fake.ip = ip;
		segment(s, &fake, 6000, 1, inv, 60);
		scn_expect_held(s);
	}
	/* Alice's connection: handshake, then her INVITE in two parts. */
	scn_tag(s, NULL);
	phone.port = 45000;
	proxy.port = 5060;
	syn(s, &ALICE.ep, 45000);
	scn_send_payload(s, &proxy, &phone, "", 0, &synack);
	scn_send_payload(s, &phone, &PROXY, "", 0, &ack);
	segment(s, &ALICE.ep, 45000, 1, inv, 60);
	scn_expect_held(s);
	segment(s, &ALICE.ep, 45000, 61, inv + 60, ni - 60);
	scn_expect(s, "accept", "vii");
}

static const char *const SETS_BUF8[] = {
	"proxy.addresses = [\"192.0.2.1\", \"2001:db8::1\"]",
	"startup.learn = 0",
	"tables.stream_buffers = 8",
	NULL,
};

static const char *const SETS_FRAG8[] = {
	"proxy.addresses = [\"192.0.2.1\", \"2001:db8::1\"]",
	"startup.learn = 0",
	"tables.fragments = 8",
	NULL,
};

static const char *const SETS_DETECT[] = {
	"proxy.addresses = [\"192.0.2.1\"]",
	"startup.learn = 0",
	"mode = \"detect\"",
	NULL,
};

/* mode = detect: every alarm, no drop. */
static void
detect_mode(struct scn *s)
{
	world(s);
	scn_tag(s, "forged BYE (detect mode)");
	forge(s, &EVE_WITH_ALICE_IP, "198.51.100.11", "alice", "BYE", NULL);
	scn_expect(s, "accept", "ix");
	scn_expect_alarm(s, "spoof", "ix");
	forge(s, &EVE_WITH_ALICE_IP, "198.51.100.11", "alice", "BYE", NULL);
	scn_expect(s, "accept", "ix");
	scn_expect_alarm(s, "spoof", "ix");
}

static const char *const SETS_WHITELIST[] = {
	"proxy.addresses = [\"192.0.2.1\"]",
	"startup.learn = 0",
	"whitelist = [\"203.0.113.0/28\"]",
	NULL,
};

/* A trunk never registers: whitelisted, never judged, never blocked. */
static void
whitelist(struct scn *s)
{
	const struct pg_ep trunk = { { 2, 0, 0, 0, 0, 0x77 }, "203.0.113.5",
			    5060 };

	for (int k = 0; k < 3; k++) {
		forge(s, &trunk, "203.0.113.5", "pstn-gw", "INVITE", NULL);
		scn_expect(s, "accept", "whitelisted");
	}
	forge(s, &EVE, "203.0.113.66", "pstn-gw", "INVITE", NULL);
	scn_expect(s, "drop", "b");
}

static const char *const SETS_WHITELIST_PINNED[] = {
	"proxy.addresses = [\"192.0.2.1\"]",
	"startup.learn = 0",
	"whitelist = [\"203.0.113.0/28\", \"203.0.113.5 02:00:00:00:00:77\"]",
	NULL,
};

/*
 * A peer pinned to its MAC: from that MAC whitelisted; its address
 * forged from another MAC is judged like anyone's (case b), even inside
 * the wider unpinned /28 (the longest prefix decides); the rest of the
 * /28 stays open from any MAC.
 */
static void
whitelist_pinned(struct scn *s)
{
	const struct pg_ep peer = { { 2, 0, 0, 0, 0, 0x77 }, "203.0.113.5",
			    5060 };
	const struct pg_ep forger = { { 2, 0, 0, 0, 0, 0x66 }, "203.0.113.5",
			    5060 };
	const struct pg_ep other = { { 2, 0, 0, 0, 0, 0x66 }, "203.0.113.6",
			    5060 };

	forge(s, &peer, "203.0.113.5", "pstn-gw", "INVITE", NULL);
	scn_expect(s, "accept", "whitelisted");
	forge(s, &forger, "203.0.113.5", "pstn-gw", "INVITE", NULL);
	scn_expect(s, "drop", "b");
	forge(s, &other, "203.0.113.6", "pstn-gw", "INVITE", NULL);
	scn_expect(s, "accept", "whitelisted");
}

/* ---- issue 11: brute force per target identity ------------------------ */

/* Guessing source k: one of 500 hosts, each its own MAC and address. */
static void
guesser(struct pg_ep *ep, char *ip, size_t len, int k)
{
	memset(ep, 0, sizeof(*ep));
	ep->mac[0] = 0x02;
	ep->mac[3] = 0x0b;
	ep->mac[4] = (uint8_t)(k >> 8);
	ep->mac[5] = (uint8_t)k;
	snprintf(ip, len, "198.19.%d.%d", k / 200, k % 200 + 1);
	ep->ip = ip;
	ep->port = 5060;
}

/*
 * A REGISTER for `user' from `src' (SIP-IP its address), with a digest
 * response (a guess, or a stale password) when `auth', and, unless
 * `answered' is false, the proxy's 401 to it.
 */
static void
cred_register(struct scn *s, const struct pg_ep *src, const char *user,
    const char *cid, uint32_t cseq, bool auth, const char *label)
{
	char		 a[64], via[80], contact[160], hdr[320];
	struct pg_msg	 m;

	aor(a, sizeof(a), user);
	hostport(via, sizeof(via), src->ip, src->port);
	snprintf(contact, sizeof(contact), "<sip:%s@%s>", user, via);
	snprintf(hdr, sizeof(hdr), "Digest username=\"%s\", realm=\""
	    DOMAIN "\", nonce=\"n%s\", uri=\"sip:" DOMAIN "\", "
	    "response=\"%032x\", algorithm=MD5", user, cid,
	    (unsigned)(s->seq * 2654435761u));
	memset(&m, 0, sizeof(m));
	m.method = "REGISTER";
	m.ruri = "sip:" DOMAIN;
	m.via = via;
	m.from = a;
	m.to = a;
	m.call_id = cid;
	m.cseq = cseq;
	m.contact = contact;
	m.expires = 3600;
	m.auth = auth ? hdr : NULL;
	scn_send(s, src, &PROXY, &m);
	scn_expect(s, label[0] == '!' ? "drop" : "accept",
	    label[0] == '!' ? label + 1 : label);
}

static void
proxy_401(struct scn *s, const struct pg_ep *to, const char *user,
    const char *cid, uint32_t cseq)
{
	char		 a[64], via[80], wa[128];
	struct pg_msg	 r;

	aor(a, sizeof(a), user);
	hostport(via, sizeof(via), to->ip, to->port);
	snprintf(wa, sizeof(wa), "WWW-Authenticate: Digest realm=\"" DOMAIN
	    "\", nonce=\"n%s-%u\"\r\n", cid, cseq);
	memset(&r, 0, sizeof(r));
	r.status = 401;
	r.via = via;
	r.from = a;
	r.to = a;
	r.to_tag = "reg";
	r.call_id = cid;
	r.cseq = cseq;
	r.cseq_method = "REGISTER";
	r.raw_headers = wa;
	r.expires = -1;
	scn_send(s, &PROXY, to, &r);
	scn_expect(s, "accept", "outbound");
}

/*
 * 500 sources, one guess each at alice's password (a REGISTER with a
 * digest response, answered 401).  No source fails twice, so no source
 * is alarmed; the 20th failure for alice raises bruteforce case
 * identity, and from then on credentials for alice from sources not
 * bound to her are dropped.  Alice's own phone refreshes as ever; bob is
 * untouched.
 */
static void
target_guess(struct scn *s)
{
	char		 ip[32], cid[64];
	struct pg_ep	 src;
	int		 k;

	world(s);
	scn_wait(s, 5);
	scn_tag(s, "distributed password guess");
	for (k = 0; k < 500; k++) {
		guesser(&src, ip, sizeof(ip), k);
		scn_token(s, cid, sizeof(cid));
		if (k < 20) {
			cred_register(s, &src, "alice", cid, 1, true, "ix");
			scn_expect_no_alarm(s, "bruteforce");
			proxy_401(s, &src, "alice", cid, 1);
			if (k < 19)
				scn_expect_no_alarm(s, "bruteforce");
			else
				scn_expect_alarm(s, "bruteforce", "identity");
		} else {
			/* Guarded: dropped before the proxy sees it. */
			cred_register(s, &src, "alice", cid, 1, true,
			    "!flood");
			scn_expect_no_alarm(s, "bruteforce");
		}
		scn_wait(s, 0.05);
	}
	scn_tag(s, NULL);
	/* Alice's own phone: challenged, answers, bound: passes. */
	reg(s, &ALICE, 3600, "vii");
	ua_request(s, &ALICE, "OPTIONS", "bob", "tg-opt", 1, &PROXY);
	scn_expect(s, "accept", "vii");
	reg(s, &BOB, 3600, "vii");
	/* A first REGISTER (no credentials) still reaches the proxy. */
	guesser(&src, ip, sizeof(ip), 600);
	cred_register(s, &src, "alice", "tg-first", 1, false, "ix");
	/* The guard ends (300 s): credentials from a new device pass. */
	scn_wait(s, 301);
	cred_register(s, &src, "alice", "tg-first", 2, true, "ix");
}

/*
 * Two of alice's devices with a stale password retry every minute for
 * half an hour (challenge, credentials, 401): two failures a minute for
 * the identity, one per device: never an alarm.  Her current phone and
 * bob go on as usual.
 */
static void
target_stale_password(struct scn *s)
{
	static const struct pg_ep desk = { { 2, 0, 0, 0, 0, 0x21 },
	    "198.51.100.21", 5060 };
	static const struct pg_ep soft = { { 2, 0, 0, 0, 0, 0x22 },
	    "198.51.100.22", 5060 };
	const struct pg_ep	*dev[2] = { &desk, &soft };
	char			 cid[64];

	world(s);
	for (int min = 0; min < 30; min++) {
		for (int d = 0; d < 2; d++) {
			scn_token(s, cid, sizeof(cid));
			cred_register(s, dev[d], "alice", cid, 1, false, "ix");
			proxy_401(s, dev[d], "alice", cid, 1);
			scn_expect_no_alarm(s, "bruteforce");
			cred_register(s, dev[d], "alice", cid, 2, true, "ix");
			proxy_401(s, dev[d], "alice", cid, 2);
			scn_expect_no_alarm(s, "bruteforce");
			scn_wait(s, 20);
		}
		if (min % 10 == 0)
			reg(s, &ALICE, 3600, "vii");
		ua_request(s, &BOB, "MESSAGE", "alice", cid, 1, &PROXY);
		scn_expect(s, "accept", "vii");
		scn_wait(s, 20);
	}
}

const struct scenario scenarios[] = {
	{ "legit_register_call", "legitimate registrations and calls",
	    legit_register_call, SETS_BASE, 1 },
	{ "row_vii", "case vii", row_vii, SETS_BASE, 0 },
	{ "row_b", "INVITE from an unregistered host", row_b, SETS_BASE, 1 },
	{ "row_i", "INVITE: known MAC, new IP, unknown identity", row_i,
	    SETS_BASE, 1 },
	{ "row_ii", "INVITE: IP changed without re-registration", row_ii,
	    SETS_BASE, 1 },
	{ "row_iv", "INVITE: known MAC and Via, spoofed IP", row_iv,
	    SETS_BASE, 1 },
	{ "row_v", "INVITE replayed from a subscriber's device", row_v,
	    SETS_BASE, 1 },
	{ "row_vi", "insider using another subscriber's identity", row_vi,
	    SETS_BASE, 1 },
	{ "row_viii", "INVITE with a spoofed source IP", row_viii, SETS_BASE,
	    1 },
	{ "row_ix", "ARP poisoning: victim's IPs, other MAC", row_ix,
	    SETS_BASE, 1 },
	{ "row_xi", "outsider forging a subscriber's Via", row_xi, SETS_BASE,
	    1 },
	{ "row_masquerade", "masquerade: identity without its device",
	    row_masquerade, SETS_BASE, 1 },
	{ "row_reflection", "INVITE reflection: forged Via", row_reflection,
	    SETS_BASE, 1 },
	{ "row_spoof", "INVITE: other forged mixes", row_spoof, SETS_BASE,
	    1 },
	{ "blacklist_repeat", "repeated forged messages", blacklist_repeat,
	    SETS_BASE, 0 },
	{ "reg_labels", "mobility: moved, UICC swap, new device",
	    reg_labels, SETS_BASE, 0 },
	{ "reg_x_intra", "REGISTER failing the intra-packet check",
	    reg_x_intra, SETS_BASE, 1 },
	{ "reg_nat_tolerant", "REGISTER from behind NAT (tolerant)",
	    reg_nat_tolerant, SETS_BASE, 0 },
	{ "reg_nat_strict", "REGISTER from behind NAT (strict)",
	    reg_nat_strict, SETS_STRICT, 0 },
	{ "reg_replay", "replayed Authorization from another address",
	    reg_replay, SETS_BASE, 1 },
	{ "reg_ip_other_device", "registration hijack from a bound IP",
	    reg_ip_other_device, SETS_BASE, 1 },
	{ "reg_identities", "too many identities on one device",
	    reg_identities, SETS_IPD2, 1 },
	{ "binding_quotas", "binding quotas: in flight, many addresses",
	    binding_quotas, SETS_QUOTA, 0 },
	{ "deregistration", "de-registration", deregistration, SETS_BASE,
	    0 },
	{ "expiry", "binding expiry", expiry, SETS_BASE, 0 },
	{ "nat_two_users", "two users behind one NAT", nat_two_users,
	    SETS_BASE, 1 },
	{ "gateway_dozen", "a dozen users behind one gateway MAC",
	    gateway_dozen, SETS_BASE, 1 },
	{ "forged_bye", "forged BYE/CANCEL in a live dialog", forged_bye,
	    SETS_BASE, 1 },
	{ "victim_ip", "forged messages carrying a victim's IP", victim_ip,
	    SETS_BASE, 1 },
	{ "keepalive", "keep-alives", keepalive, SETS_BASE, 0 },
	{ "malformed", "malformed messages", malformed, SETS_BASE, 1 },
	{ "contact_unread", "an INVITE's Contact is not read",
	    contact_unread, SETS_BASE, 0 },
	{ "multipart_body", "60 KB multipart body", multipart_body,
	    SETS_BASE, 0 },
	{ "ipv6", "IPv6 registration, call, forged BYE", ipv6, SETS_BASE, 1 },
	{ "vlan", "802.1Q tagged frames", vlan, SETS_BASE, 0 },
	{ "fragments", "a fragmented INVITE", fragments, SETS_BASE, 0 },
	{ "tcp", "SIP over TCP", tcp, SETS_BASE, 0 },
	{ "tcp_split", "a forged BYE split across TCP segments",
	    tcp_split, SETS_TCP100, 1 },
	{ "tcp_overlap", "TCP overlaps, retransmissions, holes",
	    tcp_overlap, SETS_BASE, 1 },
	{ "tcp_slowloris", "slow TCP messages from spoofed sources",
	    tcp_slowloris, SETS_BUF8, 0 },
	{ "v6_exthdr", "a forged BYE behind IPv6 extension headers",
	    v6_exthdr, SETS_BASE, 1 },
	{ "frag_evasion", "fragments resent, duplicated, with decoys",
	    frag_evasion, SETS_FRAG8, 1 },
	{ "forged_answer", "a forged 200 OK from the proxy's address",
	    forged_answer, SETS_BASE, 1 },
	{ "table_full", "a full binding table", table_full, SETS_SMALL, 0 },
	{ "identity_pool_full", "a full pool of identity texts",
	    identity_pool_full, SETS_IDPOOL, 0 },
	{ "cold_start", "a cold start: phones registered before sipguard",
	    cold_start, SETS_COLD, 1 },
	{ "detect_mode", "mode = detect", detect_mode, SETS_DETECT, 0 },
	{ "whitelist", "whitelisted trunk", whitelist, SETS_WHITELIST, 0 },
	{ "whitelist_pinned", "whitelisted peer pinned to its MAC",
	    whitelist_pinned, SETS_WHITELIST_PINNED, 0 },
	{ "target_guess", "a password guess from 500 sources, one each",
	    target_guess, SETS_BASE, 1 },
	{ "target_stale_password", "stale passwords retrying every minute",
	    target_stale_password, SETS_BASE, 0 },
};

const int nscenarios = (int)(sizeof(scenarios) / sizeof(scenarios[0]));
