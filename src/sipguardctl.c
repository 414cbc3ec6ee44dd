/*
 * sipguardctl: talk to a running sipguard over its control socket.
 *   sipguardctl [-s socket] [-j] command [args...]
 * One request line out, the answer printed.  `command --help' asks the
 * daemon for that command's help.  Exit status: 0 done, 1 the daemon
 * refused the request (its answer an error), 2 a usage error here, 3 the
 * daemon could not be reached (no socket, no answer).
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sipguard.h"

#define TIMEOUT_MS	10000

/* Exit statuses (sipguardctl(8)). */
#define EXIT_REFUSED	1
#define EXIT_USAGE	2
#define EXIT_UNREACHED	3

static const char usage_text[] =
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
	    "  whitelist [list]              the whitelist, every source\n"
	    "  whitelist add CIDR [MAC] [COMMENT]\n"
	    "                                never judged nor blocked (from\n"
	    "                                MAC only: pin it if you can)\n"
	    "  whitelist del CIDR            remove a runtime entry\n"
	    "  reload                        re-read the configuration\n"
	    "  save                          write the state file now\n"
	    "  version, ping                 the daemon's version; is it up\n"
	    "  help [COMMAND]                the daemon's list of commands,\n"
	    "                                or one's (also: COMMAND --help)\n"
	    "  -j, --json                    answer in JSON\n"
	    "  -s socket                     default " SG_CTL_PATH "\n"
	    "exit status: 0 done, 1 refused by the daemon, 2 usage, 3 the\n"
	    "daemon not reached\n";

static void __attribute__((noreturn))
usage(int status)
{
	fputs(usage_text, status ? stderr : stdout);
	exit(status);
}

/*
 * Help with no daemon to ask (it answers with its own words): the lines
 * of the client's list that name CMD, with their continuations, or the
 * whole list.  0 if there was something to show.
 */
static int
local_help(const char *cmd)
{
	const char	*l, *e, *w;
	size_t		 n = strlen(cmd), k;
	bool		 in = false, any = false;

	for (l = usage_text; *l != '\0'; l = e + 1) {
		e = strchr(l, '\n');
		if (strncmp(l, "   ", 3) != 0) {
			/* "  CMD ...", or "  CMD1, CMD2 ...": a command's
			 * line; anything else is neither. */
			in = false;
			for (w = l + 2; strncmp(l, "  ", 2) == 0 && *w != ' ';
			    w += k + 2) {
				k = strcspn(w, " ,\n");
				if (k == n && strncmp(w, cmd, n) == 0)
					in = true;
				if (w[k] != ',')
					break;
			}
		}
		if (in) {
			fwrite(l, 1, (size_t)(e - l + 1), stdout);
			any = true;
		}
	}
	return any ? 0 : -1;
}

int
main(int argc, char *argv[])
{
	const char		*path = SG_CTL_PATH;
	char			 req[1024], buf[65536], head[16];
	size_t			 hn = 0;
	size_t			 o = 0;
	struct sockaddr_un	 sun;
	struct pollfd		 pfd;
	int			 fd, k, first, json = 0, help = 0, error;
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
			usage(EXIT_USAGE);
	}
	if (k == argc)
		usage(EXIT_USAGE);
	first = k;
	/* -j is also taken after the command: `sipguardctl stats -j'; and
	 * `COMMAND --help' is `help COMMAND'. */
	for (int a = k; a < argc; a++) {
		if (strcmp(argv[a], "-j") == 0 || strcmp(argv[a], "--json") == 0)
			json = 1;
		/* -h right after the command, --help anywhere: a comment
		 * may hold a "-h". */
		if ((a == k + 1 && strcmp(argv[a], "-h") == 0) ||
		    (a > k && strcmp(argv[a], "--help") == 0))
			help = 1;
	}
	if (json)
		o += (size_t)snprintf(req, sizeof(req), "json ");
	if (help)
		o += (size_t)snprintf(req + o, sizeof(req) - o, "help %.64s ",
		    argv[k]);
	for (; k < argc && !help; k++) {
		int	 r;

		if (strcmp(argv[k], "-j") == 0 || strcmp(argv[k], "--json") == 0)
			continue;
		r = snprintf(req + o, sizeof(req) - o, "%s ", argv[k]);
		if (r < 0 || (size_t)r >= sizeof(req) - o) {
			fprintf(stderr, "sipguardctl: request too long\n");
			return EXIT_USAGE;
		}
		o += (size_t)r;
	}
	if (o == 0 || o > sizeof(req))
		usage(EXIT_USAGE);
	req[o - 1] = '\n';		/* the last space */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "sipguardctl: %s: path too long\n", path);
		return EXIT_USAGE;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		/* Help needs no daemon: the client's own list. */
		if (help || strcmp(argv[first], "help") == 0) {
			const char *c = help ? argv[first] : first + 1 < argc ?
					    argv[first + 1] : NULL;

			if (c == NULL || local_help(c) == 0) {
				if (c == NULL)
					fputs(usage_text, stdout);
				return 0;
			}
			fprintf(stderr, "sipguardctl: unknown command \"%s\"\n",
			    c);
			return EXIT_USAGE;
		}
		fprintf(stderr, "sipguardctl: %s: %s (is sipguard running?)\n",
		    path, strerror(errno));
		return EXIT_UNREACHED;
	}
	if (write(fd, req, o) != (ssize_t)o) {
		fprintf(stderr, "sipguardctl: write: %s\n", strerror(errno));
		return EXIT_UNREACHED;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		if (poll(&pfd, 1, TIMEOUT_MS) != 1) {
			fprintf(stderr, "sipguardctl: no answer\n");
			return EXIT_UNREACHED;
		}
		if ((n = read(fd, buf, sizeof(buf))) <= 0)
			break;
		/* The answer's first bytes say how it went, however few
		 * each read brings. */
		if (hn < sizeof(head) - 1) {
			size_t	 c = sizeof(head) - 1 - hn;

			if (c > (size_t)n)
				c = (size_t)n;

			memcpy(head + hn, buf, c);
			hn += c;
			head[hn] = '\0';
		}
		fwrite(buf, 1, (size_t)n, stdout);
	}
	close(fd);
	if (hn == 0) {
		fprintf(stderr, "sipguardctl: empty answer\n");
		return EXIT_UNREACHED;
	}
	if (strncmp(head, "error: busy", 11) == 0)
		return EXIT_UNREACHED;	/* not handled at all */
	error = strncmp(head, "error:", 6) == 0 ||
	    strncmp(head, "{\"error\"", 8) == 0;
	return error ? EXIT_REFUSED : 0;
}
