/*
 * spoof.c: module I.  The accept decision for anything but a REGISTER is
 * one exact lookup (K_i = K_c, case vii); everything else is labelled
 * from the best partial match and dropped.  A REGISTER is accepted
 * unless one of the four rules of SPEC 4 holds; trust itself comes only
 * later, from the proxy's 200 OK.
 */
#include <stdlib.h>
#include <string.h>

#include "htab.h"
#include "spoof.h"

struct nonce_row {
	struct sg_mac	 m;
	bool		 has_m;
	struct sg_addr	 i;
};

struct spoof {
	const struct sg_conf *conf;
	struct ftab	 ft;
	struct nonce_row *row;
};

struct spoof *
spoof_create(const struct sg_conf *conf)
{
	struct spoof	*sp;
	uint32_t	 cap = (uint32_t)conf->tab_nonces;

	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		return NULL;
	sp->conf = conf;
	sp->row = sg_table_alloc(cap, sizeof(*sp->row));
	if (sp->row == NULL || ftab_init(&sp->ft, cap) == -1) {
		spoof_destroy(sp);
		return NULL;
	}
	return sp;
}

void
spoof_destroy(struct spoof *sp)
{
	if (sp == NULL)
		return;
	ftab_fini(&sp->ft);
	free(sp->row);
	free(sp);
}

void
spoof_set_conf(struct spoof *sp, const struct sg_conf *conf)
{
	sp->conf = conf;
}

/* SPEC 4 table: flags are m i s d = 8 4 2 1. */
enum sg_reason
spoof_case(unsigned f)
{
	switch (f) {
	case 0xf:
		return SG_R_CASE_VII;
	case 0x0:
		return SG_R_CASE_B;
	case 0x8:
		return SG_R_CASE_I;
	case 0x9:
		return SG_R_CASE_II;
	case 0xa:
		return SG_R_CASE_IV;
	case 0xc:
		return SG_R_CASE_V;
	case 0xe:
		return SG_R_CASE_VI;
	case 0x4:
		return SG_R_CASE_VIII;
	case 0x7:
		return SG_R_CASE_IX;
	case 0x2:
		return SG_R_CASE_XI;
	case 0x1:
		return SG_R_MASQUERADE;
	case 0xd:
		return SG_R_REFLECTION;
	default:
		return SG_R_SPOOF;
	}
}

bool
spoof_intra_ok(const struct sg_conf *conf, const struct sg_tuple *t)
{
	if (conf->nat == NAT_OFF)
		return true;
	if (sg_addr_eq(&t->s, &t->i))
		return true;
	/* tolerant: a private, CGNAT or ULA Via behind a public source. */
	return conf->nat == NAT_TOLERANT && t->nat;
}

void
spoof_check(struct spoof *sp, struct bind_table *bt, const struct sg_tuple *t,
    const struct sipm *msg, uint64_t now, struct spoof_result *r)
{
	const struct binding	*b;
	bool			 response = !msg->request;

	(void)sp;
	memset(r, 0, sizeof(*r));
	/* The common legitimate case: one Bloom probe, one slot. */
	if ((b = bind_find(bt, t, now)) != NULL) {
		r->ec.b = b;
		r->ec.flags = BM_M | BM_I | BM_D;
		if (t->s.family == SG_AF_NONE || sg_addr_eq(&b->s, &t->s))
			r->ec.flags |= BM_S;
		if (t->impih != 0 && b->impih != 0 && t->impih != b->impih)
			r->ec.flags &= ~BM_D;
		if (r->ec.flags == 0xf) {
			r->verdict = SG_ACCEPT;
			r->reason = SG_R_CASE_VII;
			return;
		}
	}
	/*
	 * RFC 3323 privacy: a caller that withholds its identity sends
	 * From: anonymous@anonymous.invalid.  Its device is the evidence.
	 */
	if (msg->from_anonymous && !response &&
	    (b = bind_find_device(bt, t, now)) != NULL) {
		r->ec.b = b;
		r->ec.flags = 0xf;
		r->verdict = SG_ACCEPT;
		r->reason = SG_R_CASE_VII;
		return;
	}
	bind_match(bt, t, response, now, &r->ec);
	r->reason = spoof_case(r->ec.flags);
	r->verdict = r->reason == SG_R_CASE_VII ? SG_ACCEPT : SG_DROP;
}

/*
 * A REGISTER accepted: which mobility case of the paper it is.  "The same
 * device" is the device of SPEC 4 ((m, i), or (m, i, s) behind NAT), not
 * a shared MAC: twelve users behind one router are not one UE.
 */
static enum sg_reason
register_case(unsigned f, int on_device, bool has_d)
{
	if (has_d)
		return SG_R_CASE_VII;		/* re-registration */
	if ((f & BM_D) && (f & BM_M))
		return SG_R_CASE_II;		/* same UE, new address */
	if (f & BM_D)
		return SG_R_CASE_IX;		/* subscriber on a new UE */
	if (on_device > 0)
		return SG_R_CASE_III;		/* same UE, new subscriber */
	return SG_R_CASE_X;			/* first registration */
}

/* Rule 2: has this (nonce, response) come from another address? */
static bool
replayed(struct spoof *sp, const struct sg_tuple *t, const struct sipm *msg,
    uint64_t now)
{
	uint32_t		 s;
	struct nonce_row	*n;
	bool			 evicted;

	if (!msg->auth_has_response)
		return false;
	s = ftab_find(&sp->ft, msg->auth_h, now);
	if (s != HNIL) {
		n = &sp->row[s];
		return !(sg_addr_eq(&n->i, &t->i) && n->has_m == t->has_m &&
		    (!t->has_m || memcmp(&n->m, &t->m, sizeof(n->m)) == 0));
	}
	s = ftab_insert(&sp->ft, msg->auth_h, now + sp->conf->replay_window,
	    &evicted);
	n = &sp->row[s];
	n->m = t->m;
	n->has_m = t->has_m;
	n->i = t->i;
	return false;
}

void
spoof_register(struct spoof *sp, struct bind_table *bt,
    const struct sg_tuple *t, const struct sipm *msg, uint64_t now,
    struct spoof_result *r)
{
	bool	 has_d;
	int	 n;

	memset(r, 0, sizeof(*r));
	bind_match(bt, t, false, now, &r->ec);
	r->verdict = SG_DROP;

	/* 1. intra-packet check (paper case x) */
	if (!spoof_intra_ok(sp->conf, t)) {
		r->reason = SG_R_CASE_X;
		return;
	}
	/* 2. a replayed authentication string (paper 4.2.1.1) */
	if (replayed(sp, t, msg, now)) {
		r->reason = SG_R_REPLAY;
		return;
	}
	/* 3. the source IP of another device's live binding (viii) */
	if (bind_ip_other_device(bt, t, now) != NULL) {
		r->reason = SG_R_CASE_VIII;
		return;
	}
	/* 4. one identity too many on this device (vi) */
	n = bind_device_identities(bt, t, now, &has_d);
	if (!has_d && n >= sp->conf->identities_per_device) {
		r->reason = SG_R_CASE_VI;
		return;
	}
	r->verdict = SG_ACCEPT;
	r->reason = register_case(r->ec.flags, n, has_d);
}

void
spoof_stats(const struct spoof *sp, struct spoof_stats *st)
{
	st->nonces = ftab_count(&sp->ft);
	st->capacity = sp->ft.cap;
	st->evicted = sp->ft.evicted;
}
