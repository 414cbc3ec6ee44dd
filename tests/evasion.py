#!/usr/bin/env python3
"""evasion: the attacker's and the phones' tricks for the live evasion test.

  evasion.py tcp-request SRC DST METHOD RURI_USER FROM_USER CALLID CUTS
      one request over a new TCP connection, sent in pieces cut at the
      byte offsets CUTS ("40,200" or "-" for whole), 0.2 s apart, with
      TCP_NODELAY so each piece is its own segment; prints the status
      line of every answer that comes within 2 s.
  evasion.py tcp-register SRC DST USER PASSWORD CUTS
      REGISTER over TCP, the 401 answered with credentials, every
      request cut at CUTS; exit 0 only on a 200.
  evasion.py tcp-call SRC DST USER PASSWORD CALLEE CUTS SDP_BYTES
      INVITE with an SDP of about SDP_BYTES over TCP (407 answered), ACK
      and BYE after the 200, every request cut at CUTS; exit 0 only if
      the INVITE and the BYE got their 200.
  evasion.py tcp-keep SRC DST USER COUNT GAP
      one TCP connection, COUNT OPTIONS to USER's own AOR GAP seconds
      apart; prints each status; exit 0 only if every one got a 200.
  evasion.py raw6 IFACE SRC_MAC DST_MAC SRC6 DST6 SPORT DPORT NHDRS FILE
      FILE (a SIP message) in one IPv6/UDP frame written on IFACE, behind
      NHDRS Destination Options headers, with a correct UDP checksum.
  evasion.py raw6frag IFACE SRC_MAC DST_MAC SRC6 DST6 SPORT DPORT CUT FILE
      the same datagram in two IPv6 fragments, cut CUT bytes (a multiple
      of 8) into the UDP datagram.

Only ever talks to addresses in the test's own namespaces; every loop is
bounded in count and time.
"""
import hashlib
import os
import random
import socket
import struct
import sys
import time

DOMAIN = "lab.example"
PORT = 5060


def md5(s):
    return hashlib.md5(s.encode()).hexdigest()


def host(ip):
    return "[%s]" % ip if ":" in ip else ip


def pieces(data, cuts):
    if cuts == "-":
        return [data]
    offs = [0] + [int(c) for c in cuts.split(",")] + [len(data)]
    return [data[a:b] for a, b in zip(offs, offs[1:]) if b > a]


class Conn:
    def __init__(self, src, dst):
        fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
        self.s = socket.socket(fam, socket.SOCK_STREAM)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.s.bind((src, 0))
        self.s.settimeout(3)
        self.s.connect((dst, PORT))
        self.lport = self.s.getsockname()[1]
        self.buf = b""

    def send(self, msg, cuts):
        for k, p in enumerate(pieces(msg, cuts)):
            if k:
                time.sleep(0.2)
            self.s.sendall(p)

    def recv(self, timeout=2.0):
        """One whole message, framed by Content-Length, or None."""
        end = time.time() + timeout
        while True:
            while self.buf.startswith(b"\r\n"):
                self.buf = self.buf[2:]
            h = self.buf.find(b"\r\n\r\n")
            if h >= 0:
                head = self.buf[:h].decode(errors="replace")
                clen = int(header(head, "content-length", "l") or 0)
                if len(self.buf) >= h + 4 + clen:
                    msg = self.buf[:h + 4 + clen]
                    self.buf = self.buf[h + 4 + clen:]
                    return msg.decode(errors="replace")
            left = end - time.time()
            if left <= 0:
                return None
            self.s.settimeout(left)
            try:
                d = self.s.recv(65536)
            except (socket.timeout, OSError):
                return None
            if not d:
                return None
            self.buf += d

    def final(self, timeout=4.0):
        """Skip provisional answers; the first final one, or None."""
        end = time.time() + timeout
        while time.time() < end:
            m = self.recv(end - time.time())
            if m is None:
                return None
            if m.startswith("SIP/2.0 1"):
                continue
            return m
        return None


def header(msg, *names):
    for line in msg.split("\r\n")[1:]:
        if ":" not in line:
            continue
        n, v = line.split(":", 1)
        if n.strip().lower() in names:
            return v.strip()
    return None


def status(msg):
    try:
        return int(msg.split(" ", 2)[1])
    except (AttributeError, IndexError, ValueError):
        return 0


def digest(chal, method, uri, user, pw):
    f = {}
    for part in chal[len("Digest"):].split(","):
        if "=" in part:
            k, v = part.strip().split("=", 1)
            f[k.strip()] = v.strip().strip('"')
    ha1 = md5("%s:%s:%s" % (user, f["realm"], pw))
    ha2 = md5("%s:%s" % (method, uri))
    a = 'Digest username="%s", realm="%s", nonce="%s", uri="%s"' % (
        user, f["realm"], f["nonce"], uri)
    if "qop" in f:
        cn = "%08x" % random.getrandbits(32)
        r = md5("%s:%s:00000001:%s:auth:%s" % (ha1, f["nonce"], cn, ha2))
        a += ', qop=auth, nc=00000001, cnonce="%s"' % cn
    else:
        r = md5("%s:%s:%s" % (ha1, f["nonce"], ha2))
    return a + ', response="%s", algorithm=MD5' % r


def request(c, src, method, ruri, from_user, to_user, callid, cseq,
            extra=(), body="", branch=None, to=None):
    c.branch = branch or "z9hG4bK-%s-%d-%d" % (callid, cseq,
                                               random.getrandbits(24))
    lines = [
        "%s %s SIP/2.0" % (method, ruri),
        "Via: SIP/2.0/TCP %s:%d;branch=%s;rport" % (host(src), c.lport,
                                                   c.branch),
        "Max-Forwards: 70",
        "From: <sip:%s@%s>;tag=f-%s" % (from_user, DOMAIN, callid),
        "To: %s" % (to or "<sip:%s@%s>" % (to_user, DOMAIN)),
        "Call-ID: %s" % callid,
        "CSeq: %d %s" % (cseq, method),
        "Contact: <sip:%s@%s:%d;transport=tcp>" % (from_user, host(src),
                                                    c.lport),
    ] + list(extra)
    if body:
        lines.append("Content-Type: application/sdp")
    lines += ["Content-Length: %d" % len(body.encode()), "", ""]
    return ("\r\n".join(lines) + body).encode()


def cmd_tcp_request(src, dst, method, ruri_user, from_user, callid, cuts):
    c = Conn(src, dst)
    c.send(request(c, src, method, "sip:%s@%s" % (ruri_user, DOMAIN),
                   from_user, ruri_user, callid, 1), cuts)
    end = time.time() + 2
    while time.time() < end:
        m = c.recv(end - time.time())
        if m is None:
            break
        print(m.split("\r\n", 1)[0])
    return 0


def with_auth(c, src, cuts, method, ruri, user, pw, to_user, callid, cseq,
              extra=(), body=""):
    c.send(request(c, src, method, ruri, user, to_user, callid, cseq,
                   extra, body), cuts)
    m = c.final()
    if m is not None and status(m) in (401, 407):
        hn = "www-authenticate" if status(m) == 401 else "proxy-authenticate"
        an = "Authorization" if status(m) == 401 else "Proxy-Authorization"
        if method == "INVITE":
            # RFC 3261 17.1.1.3: the ACK of a failure answer belongs to
            # the INVITE's transaction (same branch, the answer's To).
            c.send(request(c, src, "ACK", ruri, user, to_user, callid, cseq,
                           branch=c.branch, to=header(m, "to", "t")), "-")
        cseq += 1
        a = digest(header(m, hn), method, ruri, user, pw)
        c.send(request(c, src, method, ruri, user, to_user, callid, cseq,
                       list(extra) + ["%s: %s" % (an, a)], body), cuts)
        m = c.final()
    return m, cseq


def cmd_tcp_register(src, dst, user, pw, cuts):
    c = Conn(src, dst)
    m, _ = with_auth(c, src, cuts, "REGISTER", "sip:" + DOMAIN, user, pw,
                     user, "reg-%s-%d" % (user, os.getpid()), 1,
                     ["Expires: 600"])
    print(m.split("\r\n", 1)[0] if m else "no answer")
    return 0 if status(m) == 200 else 1


def cmd_tcp_call(src, dst, user, pw, callee, cuts, sdp_bytes):
    c = Conn(src, dst)
    ip = src
    sdp = ("v=0\r\no=- 1 1 IN IP%s %s\r\ns=-\r\nc=IN IP%s %s\r\nt=0 0\r\n"
           "m=audio 16200 RTP/AVP 0 8 101\r\n" % (
               "6" if ":" in ip else "4", ip, "6" if ":" in ip else "4", ip))
    n = 0
    while len(sdp) < int(sdp_bytes):
        sdp += "a=x-pad%d:%s\r\n" % (n, "p" * 60)
        n += 1
    callid = "call-%s-%d" % (user, os.getpid())
    ruri = "sip:%s@%s" % (callee, DOMAIN)
    m, cseq = with_auth(c, src, cuts, "INVITE", ruri, user, pw, callee,
                        callid, 1, body=sdp)
    print("INVITE:", m.split("\r\n", 1)[0] if m else "no answer")
    if status(m) != 200:
        return 1
    rr = [v for line in m.split("\r\n")
          if line.lower().startswith("record-route:")
          for v in [line.split(":", 1)[1].strip()]]
    contact = header(m, "contact", "m").strip("<>").split(">")[0]
    to = header(m, "to", "t")
    route = ["Route: %s" % ", ".join(rr)] if rr else []

    def indialog(method, cs):
        return request(c, src, method, contact, user, callee, callid, cs,
                       route, to=to)

    c.send(indialog("ACK", cseq), cuts)
    time.sleep(0.5)
    c.send(indialog("BYE", cseq + 1), cuts)
    m = c.final()
    print("BYE:", m.split("\r\n", 1)[0] if m else "no answer")
    return 0 if status(m) == 200 else 1


def cmd_tcp_keep(src, dst, user, count, gap):
    c = Conn(src, dst)
    ok = True
    for k in range(int(count)):
        if k:
            time.sleep(float(gap))
        c.send(request(c, src, "OPTIONS", "sip:%s" % DOMAIN, user, user,
                       "keep-%s-%d" % (user, os.getpid()), k + 1), "-")
        m = c.final(3)
        print(k + 1, m.split("\r\n", 1)[0] if m else "no answer", flush=True)
        ok = ok and status(m) == 200
    return 0 if ok else 1


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def cmd_raw6(iface, smac, dmac, src6, dst6, sport, dport, nhdrs, path):
    payload = open(path, "rb").read()
    sa = socket.inet_pton(socket.AF_INET6, src6)
    da = socket.inet_pton(socket.AF_INET6, dst6)
    ulen = 8 + len(payload)
    pseudo = sa + da + struct.pack("!IxxxB", ulen, 17)
    udp = struct.pack("!HHHH", int(sport), int(dport), ulen, 0) + payload
    c = csum(pseudo + udp) or 0xffff
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    ext = b""
    nh = 17
    for _ in range(int(nhdrs)):
        ext = struct.pack("!BBBB4x", nh, 0, 1, 4) + ext   # PadN, 6 bytes
        nh = 60
    ip = struct.pack("!IHBB", 6 << 28, len(ext) + len(udp), nh, 64) + sa + da
    mac = lambda m: bytes(int(x, 16) for x in m.split(":"))
    frame = mac(dmac) + mac(smac) + b"\x86\xdd" + ip + ext + udp
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    s.send(frame)
    return 0


def cmd_raw6frag(iface, smac, dmac, src6, dst6, sport, dport, cut, path):
    """FILE in one IPv6/UDP datagram, sent as two fragments cut at CUT
    (a multiple of 8) bytes of the UDP datagram."""
    payload = open(path, "rb").read()
    sa = socket.inet_pton(socket.AF_INET6, src6)
    da = socket.inet_pton(socket.AF_INET6, dst6)
    ulen = 8 + len(payload)
    pseudo = sa + da + struct.pack("!IxxxB", ulen, 17)
    udp = struct.pack("!HHHH", int(sport), int(dport), ulen, 0) + payload
    c = csum(pseudo + udp) or 0xffff
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    cut = int(cut)
    ident = random.getrandbits(32)
    mac = lambda m: bytes(int(x, 16) for x in m.split(":"))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    for off, chunk, more in ((0, udp[:cut], 1), (cut, udp[cut:], 0)):
        fh = struct.pack("!BBHI", 17, 0, off | more, ident)
        ip = struct.pack("!IHBB", 6 << 28, len(fh) + len(chunk), 44,
                         64) + sa + da
        s.send(mac(dmac) + mac(smac) + b"\x86\xdd" + ip + fh + chunk)
    return 0


def main(argv):
    cmds = {
        "tcp-request": (cmd_tcp_request, 7),
        "tcp-register": (cmd_tcp_register, 5),
        "tcp-call": (cmd_tcp_call, 7),
        "tcp-keep": (cmd_tcp_keep, 5),
        "raw6": (cmd_raw6, 9),
        "raw6frag": (cmd_raw6frag, 9),
    }
    if len(argv) < 2 or argv[1] not in cmds or \
            len(argv) - 2 != cmds[argv[1]][1]:
        sys.stderr.write(__doc__)
        return 2
    return cmds[argv[1]][0](*argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
