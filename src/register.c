/*
 * register.c: the REGISTER transaction (SPEC 3), between the request
 * module I let through and the proxy's final answer to it.
 */
#include <string.h>

#include "bind.h"
#include "hash.h"
#include "register.h"

/*
 * A pending REGISTER is keyed by Call-ID, CSeq *and* the address it came
 * from, where the proxy sends its answer (the Via's received address):
 * another host sending the same Call-ID and CSeq (both predictable for a
 * re-registration) gets an entry of its own and can neither replace the
 * victim's tuple nor be credited with the victim's 200.
 */
static uint64_t
key(uint64_t call_id_h, const struct sg_addr *ip)
{
	return hash_mix(call_id_h, hash_bytes(ip, sizeof(*ip)));
}

_Static_assert(sizeof(((struct pending *)0)->chal_nonce_h) ==
    sizeof(((struct sipm *)0)->chal_nonce_h), "a challenge's nonces");

/*
 * The pending table's quota key, never 0: a device's address, (m, i)
 * (the binding table's own key of a source, kept in memory only); for a
 * bound device behind NAT, with its binding's sent-by, which the proxy
 * registered (the message's own could be anything).  By (m, i) alone,
 * thirty bound phones behind one NAT re-registering at once shared
 * eight guarded entries, and 22 lost their re-registration under a flood
 * of forged REGISTERs (an attacker's review; test_attack
 * pending_nat_office).
 */
static uint64_t
source_key(const struct sg_tuple *t, const struct binding *known)
{
	struct sg_tuple	 p;
	uint64_t	 h;

	/*
	 * A sender no binding vouches for, at an IPv6 address, by its /64:
	 * one host holds a /64 (an attacker's review answered the proxy's
	 * challenges from 512 addresses of one /64 and filled the guarded
	 * quarter, eight entries an address).  bind_source_hash() reads
	 * the MAC and the address alone.
	 */
	if (known == NULL && t->i.family == SG_AF_INET6) {
		p.m = t->m;
		p.has_m = t->has_m;
		p.i = t->i;
		memset(p.i.a + 8, 0, 8);
		h = bind_source_hash(&p);
	} else
		h = bind_source_hash(t);
	if (known != NULL && known->nat)
		h = hash_mix(h, hash_bytes(&known->s, sizeof(known->s)));
	return h | 1;
}

bool
reg_request(struct pending_table *pt, const struct sg_tuple *t,
    const struct sipm *msg, const struct binding *known, uint64_t now)
{
	struct pending	*p;
	bool		 is_new, answered = false;
	/* One keyed hash for both lookups: they name the same sender. */
	uint64_t	 k = key(msg->call_id_h, &t->i);
	enum pending_guard guard = known != NULL ? PENDING_KNOWN :
			    PENDING_OPEN;

	if (msg->has_auth && msg->cseq > 0) {
		struct pending	*prev = pending_find(pt, k, msg->cseq - 1,
				    now);

		answered = prev != NULL && prev->challenged &&
		    sg_addr_eq(&prev->t.i, &t->i) &&
		    memcmp(&prev->t.m, &t->m, sizeof(t->m)) == 0;
		/*
		 * SPEC 1: a transaction a flood must not push out before the
		 * proxy's 200 (pending.c).  Its credentials carry the nonce
		 * of the challenge the proxy sent to this source: a sender
		 * at a forged address never saw it, so it cannot make
		 * guarded entries of its own; a host that does see its
		 * challenges is held to its source's quota.  A bound
		 * device's first leg (`known') is guarded apart: forging
		 * bound devices' tuples fills that kind, not this one.
		 */
		for (int c = 0; answered && c < SIPM_CHALLENGES; c++)
			if (prev->chal_nonce_h[c] != 0 &&
			    prev->chal_nonce_h[c] == msg->auth_nonce_h)
				guard = PENDING_ANSWERED;
	}
	p = pending_add_guarded(pt, k, msg->cseq, guard, source_key(t, known),
	    now, &is_new);
	if (is_new)
		p->method = SIPM_REGISTER;
	/*
	 * The same transaction from another device at the same address
	 * (a copy racing the phone's re-registration, its Call-ID and CSeq
	 * predictable): whose it is cannot be told, so the proxy's answer
	 * teaches nothing.  A retransmission from the same device is fine.
	 */
	if (!is_new && (p->t.has_m != t->has_m || (t->has_m &&
	    memcmp(&p->t.m, &t->m, sizeof(t->m)) != 0)))
		p->ambiguous = true;
	if (p->ambiguous)
		return answered;
	p->t = *t;
	p->contact_star = msg->contact_star;
	p->has_contact = msg->ncontacts_kept > 0;
	p->contact_uh = msg->contact_uh;
	p->contact_idh = msg->contact_idh;
	p->has_auth = msg->has_auth;
	p->auth_h = msg->auth_h;
	p->auth_has_response = msg->auth_has_response;
	p->req_expires = msg->contact_expires >= 0 ? msg->contact_expires :
	    msg->expires;
	return answered;
}

void
reg_request_window(struct pending_table *pt, const struct sg_tuple *t,
    const struct sipm *msg, uint64_t now)
{
	struct pending	*p;
	bool		 is_new;

	p = pending_add(pt, key(msg->call_id_h, &t->i), msg->cseq, now,
	    &is_new);
	if (is_new)
		p->method = (uint8_t)msg->method;
	else if (p->method != msg->method || p->t.has_m != t->has_m ||
	    (t->has_m && memcmp(&p->t.m, &t->m, sizeof(t->m)) != 0))
		p->ambiguous = true;
	if (p->ambiguous)
		return;
	p->t = *t;
	p->has_auth = true;
	p->has_contact = false;
	p->contact_star = false;
	p->auth_has_response = false;
	p->req_expires = -1;
}

/*
 * The start-up window's challenges.  A 2xx to a request that carried
 * credentials shows that the proxy checked them only if it checks them
 * for that request at all: a proxy answers OPTIONS 200 before any check
 * (Kamailio's default configuration does), and would to junk credentials.
 * So a 2xx to an INVITE (the one method the window learns from:
 * engine.c's window_credentials()) teaches only after the proxy
 * challenged (401/407) an INVITE on the same Call-ID sent to the same
 * address: then it asks credentials there, and the 2xx followed a check.
 * A challenge is an entry of the pending table keyed apart from the
 * transactions (CHALLENGE_KEY), the method in its CSeq's place.
 */
#define CHALLENGE_KEY	0x63686c6e67317774ULL

static void
window_challenge(struct pending_table *pt, const struct sipm *msg,
    const struct sg_addr *to, uint64_t now)
{
	struct pending	*p;
	bool		 is_new;

	p = pending_add(pt, key(msg->call_id_h ^ CHALLENGE_KEY, to),
	    msg->cseq_method, now, &is_new);
	p->method = (uint8_t)msg->cseq_method;
	p->challenged = true;
}

static bool
window_challenged(struct pending_table *pt, const struct sipm *msg,
    const struct sg_addr *to, uint8_t method, uint64_t now)
{
	const struct pending *c = pending_find(pt,
			    key(msg->call_id_h ^ CHALLENGE_KEY, to), method,
			    now);

	return c != NULL && c->challenged && c->method == method;
}

/* The expiry the proxy granted this Contact, else the request's. */
static int64_t
granted_expiry(const struct pending *p, const struct sipm *msg)
{
	for (int k = 0; k < msg->ncontacts_kept; k++)
		if (msg->contacts[k].uh == p->contact_uh &&
		    msg->contacts[k].expires >= 0)
			return msg->contacts[k].expires;
	if (msg->expires >= 0)
		return msg->expires;
	return p->req_expires;
}

static void
granted(const struct pending *p, const struct sipm *msg,
    int64_t default_expires, struct reg_answer *a)
{
	a->confirm = p->auth_has_response;
	a->auth_h = p->auth_h;
	a->contact_idh = p->contact_idh;
	if (p->contact_star) {
		a->bind = REG_BIND_REMOVE_ALL;
		return;
	}
	if (!p->has_contact)
		return;
	if ((a->expires = granted_expiry(p, msg)) < 0)
		a->expires = default_expires;
	a->bind = a->expires == 0 ? REG_BIND_REMOVE : REG_BIND_LEARN;
}

enum reg_event
reg_answer(struct pending_table *pt, const struct sipm *msg,
    const struct sg_addr *to, int64_t default_expires, bool window,
    uint64_t now, struct reg_answer *a)
{
	struct pending	*p;
	enum reg_event	 ev;

	memset(a, 0, sizeof(*a));
	if (msg->request || msg->status < 200 || (msg->cseq_method !=
	    SIPM_REGISTER && !window))
		return REG_NONE;
	if (msg->cseq_method == SIPM_INVITE && (msg->status == 401 ||
	    msg->status == 407))
		window_challenge(pt, msg, to, now);
	if ((p = pending_find(pt, key(msg->call_id_h, to), msg->cseq, now)) ==
	    NULL || p->method != msg->cseq_method)
		return msg->cseq_method == SIPM_REGISTER ? REG_UNMATCHED :
		    REG_NONE;
	a->t = p->t;
	if (p->method != SIPM_REGISTER) {
		/* The start-up window: a 2xx to an authenticated request
		 * vouches for its sender as a REGISTER's would. */
		if (msg->status == 401 || msg->status == 407)
			return REG_CHALLENGE;
		ev = msg->status >= 300 ? REG_REFUSED : p->ambiguous ?
		    REG_AMBIGUOUS : !window_challenged(pt, msg, to,
		    p->method, now) ? REG_NONE : REG_GRANTED;
		if (ev == REG_GRANTED) {
			a->bind = REG_BIND_LEARN;
			a->expires = default_expires;
		}
		pending_del(pt, p);
		return ev;
	}
	/*
	 * SPEC 5: a failure is a 403 or 404, or a 401/407 to a request
	 * that carried credentials (the first challenge is not one).
	 */
	a->failure = msg->status == 403 || msg->status == 404 ||
	    ((msg->status == 401 || msg->status == 407) && p->has_auth);
	if (msg->status == 401 || msg->status == 407) {
		p->challenged = true;	/* stays pending */
		memcpy(p->chal_nonce_h, msg->chal_nonce_h,
		    sizeof(p->chal_nonce_h));
		if (a->failure)
			pending_demote(pt, p);
		return REG_CHALLENGE;
	}
	if (msg->status >= 300)
		ev = REG_REFUSED;
	else if (p->ambiguous)
		ev = REG_AMBIGUOUS;
	else {
		granted(p, msg, default_expires, a);
		ev = REG_GRANTED;
	}
	pending_del(pt, p);
	return ev;
}
