/*
 * register.h: the REGISTER transaction (SPEC 3).  A REGISTER module I
 * let through (and that will reach the proxy) is remembered in the
 * pending table; the proxy's final answer to it says what is learned.
 * This stage reads the transaction; the engine carries out what the
 * answer means for the other stages (bindings, replay memory, module
 * II, alarms).
 */
#ifndef SG_REGISTER_H
#define SG_REGISTER_H

#include <stdbool.h>
#include <stdint.h>

#include "pending.h"
#include "sipguard.h"
#include "sipmsg.h"

enum reg_event {
	REG_NONE,		/* not a final answer to a REGISTER */
	REG_UNMATCHED,		/* no such REGISTER pending */
	REG_CHALLENGE,		/* 401/407: the transaction goes on */
	REG_REFUSED,		/* another 3xx-6xx: it ends */
	REG_AMBIGUOUS,		/* sent by two devices: nothing learned */
	REG_GRANTED,		/* 2xx */
};

/* What a 2xx does to the bindings. */
enum reg_bind {
	REG_BIND_NOTHING,	/* no Contact */
	REG_BIND_LEARN,		/* bind for `expires' seconds */
	REG_BIND_REMOVE,	/* Expires 0: this binding goes */
	REG_BIND_REMOVE_ALL,	/* Contact "*": every binding of d */
};

struct reg_answer {
	struct sg_tuple	 t;		/* E of the REGISTER */
	/* SPEC 5: a failed attempt (403, 404, or 401/407 to credentials) */
	bool		 failure;
	/* The proxy accepted these credentials (nonce, response). */
	bool		 confirm;
	uint64_t	 auth_h;
	enum reg_bind	 bind;
	uint64_t	 contact_idh;
	int64_t		 expires;	/* seconds granted (REG_BIND_LEARN) */
};

/*
 * Remember a REGISTER that will reach the proxy.  Returns true when it
 * carries credentials on the next CSeq of a transaction the proxy
 * challenged, from the same device: the source answered the challenge,
 * so its address is its own.  When its credentials also carry that
 * challenge's nonce, its entry is guarded (pending.h): a flood of
 * REGISTERs from forged sources cannot push it out before the 200.
 * `known': the binding of the sender's whole tuple (a re-registration),
 * which guards its entry apart from those, under its device's own quota.
 */
struct binding;
bool		 reg_request(struct pending_table *, const struct sg_tuple *,
		    const struct sipm *, const struct binding *known,
		    uint64_t now);
/*
 * The start-up learning window (startup.learn): an authenticated request
 * from a device with no binding, let through with a notice; a 2xx from
 * the proxy to it teaches a binding as a REGISTER's would.
 */
void		 reg_request_window(struct pending_table *,
		    const struct sg_tuple *, const struct sipm *, uint64_t now);
/*
 * An answer from the proxy, sent to `to': the transaction it ends (or
 * continues), and in *a what it means.  `default_expires' (seconds)
 * applies when neither the answer nor the request says; `window': the
 * start-up window is open, answers to other requests are read too.
 */
enum reg_event	 reg_answer(struct pending_table *, const struct sipm *,
		    const struct sg_addr *to, int64_t default_expires,
		    bool window, uint64_t now, struct reg_answer *a);

#endif
