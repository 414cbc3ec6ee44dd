/*
 * scenario.c: the harness behind test_engine, test_replay and the demo.
 */
#include <sys/wait.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alarm.h"
#include "scenario.h"

static void
on_result(void *arg, const struct sg_result *r)
{
	struct scn	*s = arg;

	if (s->seen.nres < SCN_MAX_PER_FRAME) {
		s->seen.res[s->seen.nres].v = r->verdict;
		s->seen.res[s->seen.nres].r = r->reason;
		s->seen.nres++;
	}
}

static void
on_alarm(void *arg, const struct alarm *a)
{
	struct scn	*s = arg;

	if (s->seen.nalarm < SCN_MAX_PER_FRAME) {
		s->seen.alarm[s->seen.nalarm].type = a->type;
		snprintf(s->seen.alarm[s->seen.nalarm].kase,
		    sizeof(s->seen.alarm[0].kase), "%s", a->kase ? a->kase :
		    "-");
		s->seen.alarm[s->seen.nalarm].act = a->action;
		s->seen.nalarm++;
	}
}

void
scn_failf(struct scn *s, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	s->nfail++;
	if (s->faillen >= sizeof(s->fail) - 2)
		return;
	n = snprintf(s->fail + s->faillen, sizeof(s->fail) - s->faillen,
	    "%s: ", s->name);
	if (n > 0)
		s->faillen += (size_t)n;
	va_start(ap, fmt);
	n = vsnprintf(s->fail + s->faillen, sizeof(s->fail) - s->faillen, fmt,
	    ap);
	va_end(ap);
	if (n > 0)
		s->faillen += (size_t)n;
	if (s->faillen >= sizeof(s->fail) - 2)
		s->faillen = sizeof(s->fail) - 2;
	s->fail[s->faillen++] = '\n';
	s->fail[s->faillen] = '\0';
}

int
scn_init(struct scn *s, const char *name, const char *const *sets,
    const char *pcap_path, bool in_process)
{
	struct conf_errors	 errs;
	int			 nsets = 0;

	memset(s, 0, sizeof(*s));
	s->name = name;
	s->now = 1764547200ULL * 1000000000ULL;	/* 2025-12-01 00:00 UTC */
	while (sets != NULL && sets[nsets] != NULL)
		nsets++;
	if (conf_load(NULL, sets, nsets, &s->conf, &errs) == -1) {
		scn_failf(s, "config: %s", errs.buf);
		return -1;
	}
	if (in_process) {
		if ((s->e = engine_create(&s->conf)) == NULL) {
			scn_failf(s, "engine_create failed");
			return -1;
		}
		engine_set_observer(s->e, on_result, s);
		engine_set_alarm_sink(s->e, on_alarm, s);
	}
	if (pcap_path != NULL && (s->pcap = pg_pcap_open(pcap_path)) ==
	    NULL) {
		scn_failf(s, "cannot write %s", pcap_path);
		return -1;
	}
	return 0;
}

void
scn_fini(struct scn *s)
{
	engine_destroy(s->e);
	pg_pcap_close(s->pcap);
	free(s->exp);
	free(s->aexp);
	s->e = NULL;
	s->pcap = NULL;
	s->exp = NULL;
	s->aexp = NULL;
}

void
scn_wait(struct scn *s, double seconds)
{
	s->now += (uint64_t)(seconds * 1e9);
	if (s->e != NULL)
		engine_tick(s->e, s->now);
}

void
scn_tag(struct scn *s, const char *tag)
{
	s->tag = tag;
}

const char *
scn_token(struct scn *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s-%llu", s->name,
	    (unsigned long long)++s->seq);
	return buf;
}

uint64_t
scn_send_frame(struct scn *s, const void *frame, size_t len)
{
	/* Frames a few microseconds apart keep capture order strict. */
	s->now += 1000;
	s->frame++;
	memset(&s->seen, 0, sizeof(s->seen));
	if (s->pcap != NULL)
		pg_pcap_write(s->pcap, s->now, frame, len);
	if (s->e != NULL)
		s->verdict = engine_packet(s->e, LINK_ETHERNET, frame, len,
		    NULL, DIR_UNKNOWN, s->now);
	return s->frame;
}

uint64_t
scn_send_payload(struct scn *s, const struct pg_ep *src,
    const struct pg_ep *dst, const void *payload, size_t len,
    const struct pg_frame_opt *opt)
{
	static uint8_t	 frame[70000];
	size_t		 n;

	n = pg_frame(frame, sizeof(frame), src, dst, payload, len, opt);
	if (n == 0) {
		scn_failf(s, "frame %llu does not fit",
		    (unsigned long long)s->frame + 1);
		return 0;
	}
	return scn_send_frame(s, frame, n);
}

uint64_t
scn_send(struct scn *s, const struct pg_ep *src, const struct pg_ep *dst,
    const struct pg_msg *m)
{
	static char	 text[66000];
	size_t		 n = pg_sip(text, sizeof(text), m);

	if (n == 0) {
		scn_failf(s, "message %llu does not fit",
		    (unsigned long long)s->frame + 1);
		return 0;
	}
	return scn_send_payload(s, src, dst, text, n, NULL);
}

static void *
grow(void *p, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 64;
	p = realloc(p, *cap * elem);
	if (p == NULL)
		abort();
	return p;
}

void
scn_expect(struct scn *s, const char *verdict, const char *reason)
{
	struct scn_expect	*x;

	s->exp = grow(s->exp, &s->capexp, s->nexp, sizeof(*s->exp));
	x = &s->exp[s->nexp++];
	x->frame = s->frame;
	snprintf(x->verdict, sizeof(x->verdict), "%s", verdict);
	snprintf(x->reason, sizeof(x->reason), "%s", reason);
	x->tag = s->tag;
	if (s->e == NULL)
		return;
	if (s->seen.nres == 0) {
		scn_failf(s, "frame %llu: expected %s/%s, got no result",
		    (unsigned long long)s->frame, verdict, reason);
		return;
	}
	if (strcmp(verdict, s->seen.res[0].v == SG_ACCEPT ? "accept" :
	    "drop") != 0 || strcmp(reason, sg_reason_str(s->seen.res[0].r))
	    != 0)
		scn_failf(s, "frame %llu: expected %s/%s, got %s/%s",
		    (unsigned long long)s->frame, verdict, reason,
		    s->seen.res[0].v == SG_ACCEPT ? "accept" : "drop",
		    sg_reason_str(s->seen.res[0].r));
}

void
scn_expect_held(struct scn *s)
{
	struct scn_expect	*x;

	s->exp = grow(s->exp, &s->capexp, s->nexp, sizeof(*s->exp));
	x = &s->exp[s->nexp++];
	x->frame = s->frame;
	snprintf(x->verdict, sizeof(x->verdict), "held");
	x->reason[0] = '\0';
	x->tag = s->tag;
	if (s->e == NULL)
		return;
	if (s->verdict != SG_ACCEPT || s->seen.nres != 0)
		scn_failf(s, "frame %llu: expected held, got %s with %d "
		    "line(s)%s%s", (unsigned long long)s->frame,
		    s->verdict == SG_ACCEPT ? "accept" : "drop", s->seen.nres,
		    s->seen.nres ? ", the first " : "", s->seen.nres ?
		    sg_reason_str(s->seen.res[0].r) : "");
}

void
scn_expect_alarm(struct scn *s, const char *type, const char *kase)
{
	struct scn_alarm_expect	*x;
	bool			 found = false;

	s->aexp = grow(s->aexp, &s->capaexp, s->naexp, sizeof(*s->aexp));
	x = &s->aexp[s->naexp++];
	x->frame = s->frame;
	snprintf(x->type, sizeof(x->type), "%s", type);
	snprintf(x->kase, sizeof(x->kase), "%s", kase ? kase : "");
	x->none = false;
	if (s->e == NULL)
		return;
	for (int k = 0; k < s->seen.nalarm; k++)
		if (strcmp(alarm_type_str(s->seen.alarm[k].type), type) == 0 &&
		    (kase == NULL || strcmp(s->seen.alarm[k].kase, kase) == 0))
			found = true;
	if (!found)
		scn_failf(s, "frame %llu: expected alarm %s/%s, %d other(s)",
		    (unsigned long long)s->frame, type, kase ? kase : "*",
		    s->seen.nalarm);
}

void
scn_expect_no_alarm(struct scn *s, const char *type)
{
	struct scn_alarm_expect	*x;

	s->aexp = grow(s->aexp, &s->capaexp, s->naexp, sizeof(*s->aexp));
	x = &s->aexp[s->naexp++];
	memset(x, 0, sizeof(*x));
	x->frame = s->frame;
	x->none = true;
	snprintf(x->type, sizeof(x->type), "%s", type);
	if (s->e == NULL)
		return;
	for (int k = 0; k < s->seen.nalarm; k++)
		if (strcmp(alarm_type_str(s->seen.alarm[k].type), type) == 0)
			scn_failf(s, "frame %llu: unexpected alarm %s/%s",
			    (unsigned long long)s->frame, type,
			    s->seen.alarm[k].kase);
}

/* ---- reading sipguard -r output ------------------------------------------- */

int
jsonl_get(const char *line, const char *key, char *out, size_t len)
{
	char		 pat[64];
	const char	*p, *q;
	size_t		 n = 0;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	out[0] = '\0';
	if ((p = strstr(line, pat)) == NULL)
		return -1;
	p += strlen(pat);
	if (*p == '"') {
		p++;
		for (q = p; *q != '\0' && *q != '"'; q++)
			if (*q == '\\' && q[1] != '\0')
				q++;
	} else {
		for (q = p; *q != '\0' && *q != ',' && *q != '}'; q++)
			;
	}
	n = (size_t)(q - p);
	if (n >= len)
		n = len - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

static struct scn_tally *
tally_for(struct scn_tally *t, int ntally, int *nused, const char *tag)
{
	for (int k = 0; k < *nused; k++)
		if (strcmp(t[k].tag, tag) == 0)
			return &t[k];
	if (*nused == ntally)
		return NULL;
	memset(&t[*nused], 0, sizeof(t[0]));
	snprintf(t[*nused].tag, sizeof(t[0].tag), "%s", tag);
	return &t[(*nused)++];
}

int
scn_check_jsonl(struct scn *s, FILE *fp, struct scn_tally *tally,
    int ntally, int *nused)
{
	char		 line[4096], f[32], v[16], r[32], a[32], c[32];
	size_t		 xi = 0, ai;
	bool		*amatched = calloc(s->naexp + 1, sizeof(bool));

	while (fgets(line, sizeof(line), fp) != NULL) {
		uint64_t	 frame;

		if (jsonl_get(line, "frame", f, sizeof(f)) == -1) {
			scn_failf(s, "line without frame: %s", line);
			continue;
		}
		frame = strtoull(f, NULL, 10);
		if (jsonl_get(line, "alarm", a, sizeof(a)) == 0) {
			jsonl_get(line, "case", c, sizeof(c));
			for (ai = 0; ai < s->naexp; ai++)
				if (s->aexp[ai].none && s->aexp[ai].frame ==
				    frame && strcmp(s->aexp[ai].type, a) == 0)
					scn_failf(s, "frame %llu: unexpected "
					    "alarm %s/%s", (unsigned long long)
					    frame, a, c);
			for (ai = 0; ai < s->naexp; ai++)
				if (!amatched[ai] && !s->aexp[ai].none &&
				    s->aexp[ai].frame == frame &&
				    strcmp(s->aexp[ai].type, a) == 0 &&
				    (s->aexp[ai].kase[0] == '\0' ||
				    strcmp(s->aexp[ai].kase, c) == 0)) {
					amatched[ai] = true;
					break;
				}
			continue;
		}
		jsonl_get(line, "verdict", v, sizeof(v));
		jsonl_get(line, "reason", r, sizeof(r));
		/* Expectations are in frame order; skip unexpected frames. */
		while (xi < s->nexp && s->exp[xi].frame < frame) {
			if (strcmp(s->exp[xi].verdict, "held") != 0)
				scn_failf(s, "frame %llu: expected %s/%s, no "
				    "line", (unsigned long long)
				    s->exp[xi].frame, s->exp[xi].verdict,
				    s->exp[xi].reason);
			xi++;
		}
		if (xi < s->nexp && s->exp[xi].frame == frame &&
		    strcmp(s->exp[xi].verdict, "held") == 0) {
			scn_failf(s, "frame %llu: expected held, got %s/%s",
			    (unsigned long long)frame, v, r);
			xi++;
		} else if (xi < s->nexp && s->exp[xi].frame == frame) {
			const struct scn_expect *x = &s->exp[xi++];

			if (strcmp(x->verdict, v) != 0 ||
			    strcmp(x->reason, r) != 0)
				scn_failf(s, "frame %llu: expected %s/%s, got "
				    "%s/%s", (unsigned long long)frame,
				    x->verdict, x->reason, v, r);
			if (tally != NULL) {
				struct scn_tally *t = tally_for(tally, ntally,
				    nused, x->tag ? x->tag : "legitimate");

				if (t != NULL) {
					t->sent++;
					if (strcmp(v, "drop") == 0) {
						t->dropped++;
						if (strstr(t->cases, r) == NULL &&
						    strlen(t->cases) + strlen(r)
						    + 2 < sizeof(t->cases)) {
							if (t->cases[0])
								strcat(t->cases,
								    ",");
							strcat(t->cases, r);
						}
					}
				}
			}
		}
	}
	for (; xi < s->nexp; xi++)
		if (strcmp(s->exp[xi].verdict, "held") != 0)
			scn_failf(s, "frame %llu: expected %s/%s, no line",
			    (unsigned long long)s->exp[xi].frame,
			    s->exp[xi].verdict, s->exp[xi].reason);
	for (ai = 0; ai < s->naexp; ai++)
		if (!amatched[ai] && !s->aexp[ai].none)
			scn_failf(s, "frame %llu: expected alarm %s/%s, none",
			    (unsigned long long)s->aexp[ai].frame,
			    s->aexp[ai].type, s->aexp[ai].kase);
	free(amatched);
	return s->nfail;
}

int
scn_replay_check(struct scn *s, const char *sipguard, const char *pcap,
    const char *const *sets, struct scn_tally *tally, int ntally, int *nused)
{
	const char	*argv[2 * 32 + 8];
	int		 argc = 0, fds[2], status;
	pid_t		 pid;
	FILE		*fp;

	argv[argc++] = sipguard;
	argv[argc++] = "-r";
	argv[argc++] = pcap;
	for (int k = 0; sets != NULL && sets[k] != NULL && k < 32; k++) {
		argv[argc++] = "--set";
		argv[argc++] = sets[k];
	}
	argv[argc] = NULL;
	if (pipe(fds) == -1)
		return -1;
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		int	 devnull = open("/dev/null", O_WRONLY);

		dup2(fds[1], 1);
		if (devnull != -1)
			dup2(devnull, 2);
		close(fds[0]);
		execv(sipguard, (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	if ((fp = fdopen(fds[0], "r")) == NULL)
		return -1;
	scn_check_jsonl(s, fp, tally, ntally, nused);
	fclose(fp);
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		scn_failf(s, "%s -r %s: exit status %d", sipguard, pcap,
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return s->nfail;
}
