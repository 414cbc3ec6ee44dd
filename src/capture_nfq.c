/*
 * capture_nfq.c: the live packet source, after libnetfilter_queue's
 * examples/nf-queue.c: libmnl and the nfq_nlmsg_* helpers.  Packets are
 * read in batches with recvmmsg(), judged by the caller, and their
 * verdicts sent back together in one sendmsg(): a run of equal verdicts
 * as one NFQNL_MSG_VERDICT_BATCH (see put_verdict() for why that is
 * safe).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include "capture_nfq.h"
#include "clock.h"

#define BATCH_MAX	1024
/* The loopback device is the first one of every network namespace. */
#define LOOPBACK_IFINDEX	1
/*
 * A whole datagram plus the netlink and queue attribute overhead; a
 * multiple of the page size, so every buffer of a batch starts aligned
 * (netlink attributes are 4-aligned only relative to their buffer).
 */
#define PKT_BUF		(0x10000 + 4096)

struct cap_nfq {
	struct mnl_socket	*nl;
	uint32_t		 portid;
	uint16_t		 qnum;
	int			 batch;
	uint8_t			*rbuf;		/* batch x PKT_BUF */
	struct mmsghdr		*msgs;
	struct iovec		*iov;
	char			*vbuf;		/* the verdicts' batch */
	size_t			 vlen;
	/* The run of equal verdicts not yet written to vbuf. */
	uint32_t		 run_id;	/* its last packet's id */
	uint32_t		 run_len;
	int			 run_verdict;
	bool			 fold;		/* runs as batch verdicts */
	cap_judge		 judge;
	void			*arg;
	uint64_t		 now;
	struct cap_nfq_stats	 st;
	_Atomic bool		 wanted;	/* waiting for the lock */
};

static int
send_cfg(struct cap_nfq *q, struct nlmsghdr *nlh, char *err, size_t errlen,
    const char *what)
{
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0) {
		snprintf(err, errlen, "queue %u: %s: %s", q->qnum, what,
		    strerror(errno));
		return -1;
	}
	return 0;
}

struct cap_nfq *
cap_nfq_open(const struct sg_conf *c, uint16_t qnum, char *err, size_t errlen)
{
	struct cap_nfq	*q;
	char		 buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr	*nlh;
	uint32_t	 flags;
	int		 one = 1, rcvbuf;

	if ((q = calloc(1, sizeof(*q))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	q->qnum = qnum;
	q->fold = true;
	q->batch = c->queue_batch < BATCH_MAX ? c->queue_batch : BATCH_MAX;
	q->rbuf = malloc((size_t)q->batch * PKT_BUF);
	q->msgs = calloc((size_t)q->batch, sizeof(*q->msgs));
	q->iov = calloc((size_t)q->batch, sizeof(*q->iov));
	q->vbuf = malloc((size_t)q->batch * 64 + 64);
	if (q->rbuf == NULL || q->msgs == NULL || q->iov == NULL ||
	    q->vbuf == NULL) {
		snprintf(err, errlen, "out of memory");
		cap_nfq_close(q);
		return NULL;
	}
	for (int k = 0; k < q->batch; k++) {
		q->iov[k].iov_base = q->rbuf + (size_t)k * PKT_BUF;
		q->iov[k].iov_len = PKT_BUF;
		q->msgs[k].msg_hdr.msg_iov = &q->iov[k];
		q->msgs[k].msg_hdr.msg_iovlen = 1;
	}
	if ((q->nl = mnl_socket_open(NETLINK_NETFILTER)) == NULL ||
	    mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, errlen, "queue %u: netlink: %s", qnum,
		    strerror(errno));
		cap_nfq_close(q);
		return NULL;
	}
	q->portid = mnl_socket_get_portid(q->nl);

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, qnum);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	if (send_cfg(q, nlh, err, errlen, "bind") == -1) {
		cap_nfq_close(q);
		return NULL;
	}
	/* Copy whole packets: a SIP datagram may be up to 64 KB. */
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, qnum);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
	flags = NFQA_CFG_F_GSO | (c->queue_fail_open ? NFQA_CFG_F_FAIL_OPEN :
	    0);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO |
	    NFQA_CFG_F_FAIL_OPEN));
	nfq_nlmsg_cfg_put_qmaxlen(nlh, (uint32_t)c->queue_maxlen);
	if (send_cfg(q, nlh, err, errlen, "configure") == -1) {
		cap_nfq_close(q);
		return NULL;
	}
	/*
	 * A receive buffer for the whole queue: the limit cannot be raised
	 * from inside a namespace, SO_RCVBUFFORCE (CAP_NET_ADMIN) can.
	 */
	rcvbuf = c->queue_maxlen * 2048;
	if (rcvbuf < (1 << 20))
		rcvbuf = 1 << 20;
	if (setsockopt(mnl_socket_get_fd(q->nl), SOL_SOCKET, SO_RCVBUFFORCE,
	    &rcvbuf, sizeof(rcvbuf)) == -1)
		setsockopt(mnl_socket_get_fd(q->nl), SOL_SOCKET, SO_RCVBUF,
		    &rcvbuf, sizeof(rcvbuf));
	/* Ask the kernel to report overruns (ENOBUFS): we count them. */
	setsockopt(mnl_socket_get_fd(q->nl), SOL_NETLINK, NETLINK_NO_ENOBUFS,
	    &(int){ 0 }, sizeof(int));
	(void)one;
	return q;
}

void
cap_nfq_close(struct cap_nfq *q)
{
	if (q == NULL)
		return;
	if (q->nl != NULL) {
		char		 buf[MNL_SOCKET_BUFFER_SIZE];
		struct nlmsghdr	*nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG,
				    q->qnum);

		nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_UNBIND);
		mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len);
		mnl_socket_close(q->nl);
	}
	free(q->rbuf);
	free(q->msgs);
	free(q->iov);
	free(q->vbuf);
	free(q);
}

uint16_t
cap_nfq_num(const struct cap_nfq *q)
{
	return q->qnum;
}

bool
cap_nfq_lock_wanted(struct cap_nfq *q)
{
	return atomic_load_explicit(&q->wanted, memory_order_relaxed);
}

void
cap_nfq_stats(const struct cap_nfq *q, struct cap_nfq_stats *st)
{
	*st = q->st;
}

void
cap_nfq_set_fold(struct cap_nfq *q, bool on)
{
	q->fold = on;
}

/* The pending run to vbuf: one packet's verdict, or a batch verdict. */
static void
flush_run(struct cap_nfq *q)
{
	struct nlmsghdr	*nlh;

	if (q->run_len == 0)
		return;
	nlh = nfq_nlmsg_put(q->vbuf + q->vlen, q->run_len > 1 ?
	    NFQNL_MSG_VERDICT_BATCH : NFQNL_MSG_VERDICT, q->qnum);
	nfq_nlmsg_verdict_put(nlh, (int)q->run_id, q->run_verdict);
	q->vlen += NLMSG_ALIGN(nlh->nlmsg_len);
	q->st.verdict_msgs++;
	q->run_len = 0;
}

/*
 * Verdicts in the order the packets were read.  A run of equal verdicts
 * goes as one NFQNL_MSG_VERDICT_BATCH naming the run's last id: the
 * kernel (nfnetlink_queue.c, nfqnl_recv_verdict_batch) applies it to
 * every entry still queued with an id at or before that one.  That is
 * exactly this run, because:
 * - __nfqnl_enqueue_packet() numbers a packet, unicasts it to this
 *   socket and only if that succeeded appends its entry to the queue's
 *   list, all under the queue's lock: the list and this socket's receive
 *   queue hold the same packets in the same (id) order.  A packet whose
 *   unicast failed (the socket full, ENOBUFS; fail-open passing it; a
 *   full queue) has no entry, so a gap in the ids is nothing to sweep.
 *   --queue-bypass acts only when no socket is bound (nothing queued).
 * - So every queued entry with an id before the run's last was read
 *   before it, from this socket (one portid per queue): it belongs to
 *   the run, or to an earlier verdict message, which the kernel has
 *   applied first (netlink_rcv_skb() takes the messages of one sendmsg
 *   in order; earlier sendmsgs before).
 * That fails if a verdict was lost: a message read but not understood
 *   (no id: its entry stays queued) or a sendmsg that failed (none of
 *   its verdicts applied).  The next batch would sweep those entries,
 *   judged or not, under another packet's verdict: after such an error
 *   folding stops for good (stats: errors) and every packet gets its own
 *   verdict.  The kernel refuses a well-formed verdict from the bound
 *   socket only for an entry no longer queued (ENOENT: nothing left to
 *   sweep); its error comes back on this socket and stops folding too.
 * No verdict here carries a mark or a payload (those cannot be folded).
 * What it saves: the kernel parses, locks and walks once per run, and
 * the sendmsg copies one message, not one a packet.
 */
static void
put_verdict(struct cap_nfq *q, uint32_t id, int verdict)
{
	if (q->run_len > 0 && (!q->fold || verdict != q->run_verdict))
		flush_run(q);
	q->run_id = id;
	q->run_verdict = verdict;
	q->run_len++;
	if (!q->fold)
		flush_run(q);
}

/* An error that may have left a verdict unsent: see put_verdict(). */
static void
lost_verdict(struct cap_nfq *q)
{
	q->st.errors++;
	q->fold = false;
}

/*
 * SPEC 1: OUTPUT (and POSTROUTING) is the proxy host speaking; INPUT is
 * the network, or a local process over loopback; FORWARD and PREROUTING
 * are a gateway's, where the proxy's address and MAC decide.
 */
static enum engine_dir
hook_dir(uint8_t hook, const struct nlattr *indev)
{
	switch (hook) {
	case NF_INET_LOCAL_OUT:
	case NF_INET_POST_ROUTING:
		return DIR_OUT;
	case NF_INET_LOCAL_IN:
		if (indev != NULL && ntohl(mnl_attr_get_u32(indev)) ==
		    LOOPBACK_IFINDEX)
			return DIR_LOCAL;
		return DIR_IN;
	default:
		return DIR_UNKNOWN;
	}
}

static int
on_packet(const struct nlmsghdr *nlh, void *arg)
{
	struct cap_nfq			*q = arg;
	struct nlattr			*attr[NFQA_MAX + 1] = { 0 };
	const struct nfqnl_msg_packet_hdr *ph;
	struct sg_mac			 mac;
	bool				 has_mac = false;
	enum engine_dir			 dir;
	unsigned			 csum = 0;
	uint32_t			 id;
	enum sg_verdict			 v = SG_ACCEPT;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || attr[NFQA_PACKET_HDR] == NULL) {
		/* Its entry (if any) waits for a verdict no one sends. */
		flush_run(q);
		lost_verdict(q);
		return MNL_CB_OK;
	}
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	id = ntohl(ph->packet_id);
	dir = hook_dir(ph->hook, attr[NFQA_IFINDEX_INDEV]);
	if (dir == DIR_OUT)
		q->st.hook_out++;
	if (attr[NFQA_HWADDR] != NULL) {
		const struct nfqnl_msg_packet_hw *hw =
		    mnl_attr_get_payload(attr[NFQA_HWADDR]);

		if (ntohs(hw->hw_addrlen) == 6) {
			memcpy(mac.b, hw->hw_addr, 6);
			has_mac = true;
		}
	}
	if (attr[NFQA_SKB_INFO] != NULL) {
		uint32_t	 info = ntohl(mnl_attr_get_u32(
				    attr[NFQA_SKB_INFO]));

		if (info & NFQA_SKB_CSUMNOTREADY)
			csum = ENGINE_CSUM_PARTIAL;
		else if (info & NFQA_SKB_CSUM_NOTVERIFIED)
			csum = ENGINE_CSUM_UNVERIFIED;
	}
	q->st.packets++;
	if (attr[NFQA_PAYLOAD] != NULL)
		v = q->judge(q->arg, mnl_attr_get_payload(attr[NFQA_PAYLOAD]),
		    mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]),
		    has_mac ? &mac : NULL, dir, csum, q->now);
	else
		q->st.no_payload++;
	if (v == SG_DROP)
		q->st.dropped++;
	else
		q->st.accepted++;
	put_verdict(q, id, v == SG_DROP ? NF_DROP : NF_ACCEPT);
	return MNL_CB_OK;
}

int
cap_nfq_run(struct cap_nfq *q, int wait_ms, pthread_mutex_t *lock,
    cap_judge judge, void *arg)
{
	struct pollfd	 pfd;
	uint64_t	 t0;
	int		 fd = mnl_socket_get_fd(q->nl), n, handled = 0;

	pfd.fd = fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, wait_ms) <= 0)
		return 0;
	n = recvmmsg(fd, q->msgs, (unsigned)q->batch, MSG_DONTWAIT, NULL);
	if (n < 0) {
		if (errno == ENOBUFS) {
			/* The kernel dropped (or, fail-open, passed) some. */
			q->st.enobufs++;
			return 0;
		}
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		q->st.errors++;
		return -1;
	}
	q->judge = judge;
	q->arg = arg;
	q->vlen = 0;
	t0 = clock_mono();
	/* One clock read per batch: every packet in it gets this time. */
	q->now = clock_now();
	/*
	 * The main loop takes this lock for what it reads or changes in the
	 * engine (a save, stats, the cluster): how long the batch waited
	 * for it is kept, apart from the judging (a clock read only when it
	 * was taken).
	 */
	if (lock != NULL && pthread_mutex_trylock(lock) != 0) {
		uint64_t	 w;

		atomic_store_explicit(&q->wanted, true, memory_order_relaxed);
		pthread_mutex_lock(lock);
		atomic_store_explicit(&q->wanted, false, memory_order_relaxed);
		if ((w = clock_mono() - t0) > q->st.lock_wait_max_ns)
			q->st.lock_wait_max_ns = w;
	}
	for (int k = 0; k < n; k++) {
		int	 ret;

		/* A truncated read may have cut a packet's message off. */
		if (q->msgs[k].msg_hdr.msg_flags & MSG_TRUNC) {
			flush_run(q);
			lost_verdict(q);
		}
		ret = mnl_cb_run(q->iov[k].iov_base, q->msgs[k].msg_len, 0,
		    q->portid, on_packet, q);
		/* An error the kernel returned names a verdict it refused
		 * (the socket carries nothing else that can fail). */
		if (ret < 0) {
			flush_run(q);
			lost_verdict(q);
		}
		handled++;
	}
	flush_run(q);
	if (lock != NULL)
		pthread_mutex_unlock(lock);
	q->st.batches++;
	if (q->vlen > 0 && mnl_socket_sendto(q->nl, q->vbuf, q->vlen) < 0)
		lost_verdict(q);
	/* A worker stall (a lock held elsewhere, a slow judge) shows here:
	 * the packets of the batch waited that long for their verdicts. */
	t0 = clock_mono() - t0;
	if (t0 > q->st.batch_max_ns)
		q->st.batch_max_ns = t0;
	return handled;
}
