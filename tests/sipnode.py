#!/usr/bin/env python3
"""sipnode: a tiny SIP endpoint for the live tests, in one file.

  sipnode.py registrar IP PORT LOGFILE
      answers REGISTER with 200 OK (echoing Contact with expires=3600) and
      any other request with 200 OK; logs the first line and Call-ID of
      every request it gets, one per line, to LOGFILE.
  sipnode.py spoof SRC_IP DST_IP METHOD USER CALLID [COUNT] [VIA]
      the same through a raw socket, with a source address the
      namespace does not own (it never answers ARP for it).
  sipnode.py spoofflood NET DST_IP RATE SECONDS
      REGISTERs from random sources in NET (a /16 prefix like 10.99),
      random identities, Via = source: a spoofed-source flood, paced.
  sipnode.py send SRC_IP DST_IP METHOD USER CALLID [COUNT] [VIA]
      sends COUNT requests (default 1) from SRC_IP:5060 with From
      USER@lab.example and Via VIA (default SRC_IP); for REGISTER, waits
      up to 2 s for a 200 and exits 0 only if one came.  A REGISTER asks
      for $SIPNODE_EXPIRES seconds (default 3600; 0: de-register), which
      the registrar grants.

Only ever talks to addresses in the test's own namespaces.
"""
import os
import select
import socket
import sys
import time


def request(method, user, src, dst, callid, cseq, via):
    to = user if method == "REGISTER" else "bob"
    # SIPNODE_RURI: another Request-URI; SIPNODE_AUTH: an Authorization
    # header's value.
    ruri = os.environ.get("SIPNODE_RURI", "sip:%s@lab.example" % to)
    lines = [
        "%s %s SIP/2.0" % (method, ruri),
        "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-%s-%d" % (via, callid, cseq),
        "Max-Forwards: 70",
        "From: <sip:%s@lab.example>;tag=t%d" % (user, cseq),
        "To: <sip:%s@lab.example>" % to,
        "Call-ID: %s" % callid,
        "CSeq: %d %s" % (cseq, method),
        "Contact: <sip:%s@%s:5060>" % (user, via),
    ]
    if method == "REGISTER":
        lines.append("Expires: %s" % os.environ.get("SIPNODE_EXPIRES",
                                                   "3600"))
    if os.environ.get("SIPNODE_AUTH"):
        lines.append("Authorization: %s" % os.environ["SIPNODE_AUTH"])
    lines += ["Content-Length: 0", "", ""]
    return "\r\n".join(lines).encode()


def header(msg, name):
    for line in msg.split("\r\n"):
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
    return ""


def registrar(ip, port, logfile):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ip, int(port)))
    log = open(logfile, "a", buffering=1)
    deadline = time.time() + 600          # a test never runs longer
    # Non-blocking, waiting in select: a socket with a timeout would
    # wait in sendto too, on answers to forged sources.
    s.setblocking(False)
    while time.time() < deadline:
        if not select.select([s], [], [], 1)[0]:
            continue
        try:
            data, peer = s.recvfrom(65535)
        except BlockingIOError:
            continue
        msg = data.decode("latin-1")
        first = msg.split("\r\n", 1)[0]
        if not first or first.startswith("SIP/2.0"):
            continue
        log.write("%s %s\n" % (first.split(" ")[0], header(msg, "Call-ID")))
        method = first.split(" ")[0]
        reply = ["SIP/2.0 200 OK"]
        for h in ("Via", "From", "Call-ID", "CSeq"):
            reply.append("%s: %s" % (h, header(msg, h)))
        reply.append("To: %s;tag=reg" % header(msg, "To"))
        if method == "REGISTER":
            contact = header(msg, "Contact")
            # The request's Expires (0: a de-registration), else 3600.
            exp = header(msg, "Expires") or "3600"
            reply.append("Contact: %s;expires=%s" % (contact, exp))
        reply += ["Content-Length: 0", "", ""]
        try:
            s.sendto("\r\n".join(reply).encode(), peer)
        except OSError:
            pass    # a forged source: nobody to answer


def send(src, dst, method, user, callid, count=1, via=None):
    via = via or src
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 5060))
    first = int(os.environ.get("SIPNODE_CSEQ", "1"))    # the first CSeq
    for k in range(int(count)):
        s.sendto(request(method, user, src, dst, callid, first + k, via),
                 (dst, 5060))
    if method != "REGISTER":
        return 0
    s.settimeout(2)
    try:
        data, _ = s.recvfrom(65535)
        return 0 if data.startswith(b"SIP/2.0 200") else 1
    except socket.timeout:
        return 1


def spoof(src, dst, method, user, callid, count=1, via=None):
    import struct
    via = via or src
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    for k in range(int(count)):
        payload = request(method, user, src, dst, callid, k + 1, via)
        udp = struct.pack("!HHHH", 5060, 5060, 8 + len(payload), 0)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + len(payload),
                         0, 0, 64, 17, 0, socket.inet_aton(src),
                         socket.inet_aton(dst))
        s.sendto(ip + udp + payload, (dst, 0))
    return 0


def spoofflood(net, dst, rate, seconds):
    import random
    import struct
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    rate, seconds = float(rate), float(seconds)
    start = time.time()
    n = 0
    while time.time() - start < seconds:
        while n < (time.time() - start) * rate:
            src = "%s.%d.%d" % (net, random.randint(1, 254),
                                random.randint(1, 254))
            user = "u%d" % random.randint(1, 10 ** 6)
            payload = request("REGISTER", user, src, dst, "sf-%d" % n, 1, src)
            udp = struct.pack("!HHHH", 5060, 5060, 8 + len(payload), 0)
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0,
                             20 + 8 + len(payload), 0, 0, 64, 17, 0,
                             socket.inet_aton(src), socket.inet_aton(dst))
            s.sendto(ip + udp + payload, (dst, 0))
            n += 1
        time.sleep(0.001)
    print(n)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "registrar":
        registrar(*sys.argv[2:])
    elif len(sys.argv) >= 7 and sys.argv[1] == "send":
        sys.exit(send(*sys.argv[2:]))
    elif len(sys.argv) == 6 and sys.argv[1] == "spoofflood":
        sys.exit(spoofflood(*sys.argv[2:]))
    elif len(sys.argv) >= 7 and sys.argv[1] == "spoof":
        sys.exit(spoof(*sys.argv[2:]))
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)
