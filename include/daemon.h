/*
 * daemon.h: the live service (SPEC 1, 6, 7): NFQUEUE workers, the
 * kernel blacklist, syslog alarms, reload, state, the control socket
 * (whose commands are control.h's), systemd notification.  Returns the
 * process exit status.
 */
#ifndef SG_DAEMON_H
#define SG_DAEMON_H

#include <stdbool.h>

#include "conf.h"

int	daemon_sctp_endpoints(const char *path, unsigned *port);
int	daemon_run(const char *conffile, const char *const *sets, int nsets,
	    const struct sg_conf *, bool foreground, int verbose);

#endif
