/*
 * sipguardctl: talk to a running sipguard over its control socket.
 *   sipguardctl [-s socket] [-j] stats | bindings | blacklist [...] |
 *       reload | save | help
 * One request line out, the answer printed; exit 1 if it is an error.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sipguard.h"

#define TIMEOUT_MS	10000

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: sipguardctl [-j] [-s socket] command [args...]\n"
	    "  stats                         counters, tables, queue\n"
	    "  bindings                      the registered bindings\n"
	    "  bindings show IDENTITY|IP     one subscriber's bindings\n"
	    "  bindings import FILE [DOMAIN] the proxy's registrations (an\n"
	    "                                absolute path the daemon reads)\n"
	    "  blacklist [list]              the blacklist\n"
	    "  blacklist add MAC IP [PORT] [ttl SECONDS]\n"
	    "  blacklist del MAC IP [PORT]\n"
	    "  blacklist forget MAC|IP       every entry naming it\n"
	    "  reload                        re-read the configuration\n"
	    "  help                          the daemon's list of commands\n"
	    "  save                          write the state file now\n"
	    "  version, ping                 the daemon's version; is it up\n"
	    "  -j, --json                    answer in JSON\n"
	    "  -s socket                     default " SG_CTL_PATH "\n");
	exit(status);
}

int
main(int argc, char *argv[])
{
	const char		*path = SG_CTL_PATH;
	char			 req[1024], buf[65536];
	size_t			 o = 0;
	struct sockaddr_un	 sun;
	struct pollfd		 pfd;
	int			 fd, k, json = 0, error = -1;
	ssize_t			 n;

	for (k = 1; k < argc && argv[k][0] == '-'; k++) {
		if (strcmp(argv[k], "-j") == 0 || strcmp(argv[k], "--json") ==
		    0)
			json = 1;
		else if (strcmp(argv[k], "-s") == 0 && k + 1 < argc)
			path = argv[++k];
		else if (strcmp(argv[k], "-h") == 0 ||
		    strcmp(argv[k], "--help") == 0)
			usage(0);
		else
			usage(2);
	}
	if (k == argc)
		usage(2);
	/* -j is also taken after the command: `sipguardctl stats -j'. */
	for (int a = k; a < argc; a++)
		if (strcmp(argv[a], "-j") == 0 || strcmp(argv[a], "--json") == 0)
			json = 1;
	if (json)
		o += (size_t)snprintf(req, sizeof(req), "json ");
	for (; k < argc; k++) {
		int	 r;

		if (strcmp(argv[k], "-j") == 0 || strcmp(argv[k], "--json") == 0)
			continue;
		r = snprintf(req + o, sizeof(req) - o, "%s ", argv[k]);
		if (r < 0 || (size_t)r >= sizeof(req) - o) {
			fprintf(stderr, "sipguardctl: request too long\n");
			return 2;
		}
		o += (size_t)r;
	}
	if (o == 0 || o > sizeof(req))
		usage(2);
	req[o - 1] = '\n';		/* the last space */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "sipguardctl: %s: path too long\n", path);
		return 2;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "sipguardctl: %s: %s (is sipguard running?)\n",
		    path, strerror(errno));
		return 1;
	}
	if (write(fd, req, o) != (ssize_t)o) {
		fprintf(stderr, "sipguardctl: write: %s\n", strerror(errno));
		return 1;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		if (poll(&pfd, 1, TIMEOUT_MS) != 1) {
			fprintf(stderr, "sipguardctl: no answer\n");
			return 1;
		}
		if ((n = read(fd, buf, sizeof(buf))) <= 0)
			break;
		if (error == -1)
			error = strncmp(buf, "error:", 6) == 0 ||
			    strncmp(buf, "{\"error\"", 8) == 0;
		fwrite(buf, 1, (size_t)n, stdout);
	}
	close(fd);
	if (error == -1) {
		fprintf(stderr, "sipguardctl: empty answer\n");
		return 1;
	}
	return error ? 1 : 0;
}
