#!/usr/bin/env python3
"""variants: one SIP request written the many ways a parser must accept,
and payloads that are not SIP, for the differential test against
Kamailio (tests/e2e_differential.sh).

  variants.py list
      the names, one per line (sip-* are SIP, junk-* are not)
  variants.py send NAME SRC DST FROM_USER MARK
      sends variant NAME over UDP from SRC:5070 to DST:5060; the request
      URI's user is MARK, so the proxy's log says which one it acted on

Only ever talks to addresses in the test's own namespaces.
"""
import socket
import sys

DOMAIN = "lab.example"


def base(src, user, mark):
    """(request line, [(name, value)]): an OPTIONS from user to mark."""
    rl = ("OPTIONS", "sip:%s@%s" % (mark, DOMAIN), "SIP/2.0")
    hs = [
        ("Via", "SIP/2.0/UDP %s:5070;branch=z9hG4bK-%s" % (src, mark)),
        ("Max-Forwards", "70"),
        ("From", "<sip:%s@%s>;tag=v-%s" % (user, DOMAIN, mark)),
        ("To", "<sip:%s@%s>" % (mark, DOMAIN)),
        ("Call-ID", "var-%s" % mark),
        ("CSeq", "1 OPTIONS"),
        ("Contact", "<sip:%s@%s:5070>" % (user, src)),
        ("Content-Length", "0"),
    ]
    return rl, hs


def render(rl, hs, sep=" ", eol="\r\n", colon=": ", lead=""):
    out = lead + sep.join(rl) + eol
    for n, v in hs:
        out += n + colon + v + eol
    return out + eol


COMPACT = {"Via": "v", "From": "f", "To": "t", "Call-ID": "i",
           "Contact": "m", "Content-Length": "l"}


def variants(src, user, mark):
    rl, hs = base(src, user, mark)
    v = {}
    v["sip-plain"] = render(rl, hs)
    v["sip-version-lower"] = render(rl[:2] + ("sip/2.0",), hs)
    v["sip-version-mixed"] = render(rl[:2] + ("Sip/2.0",), hs)
    v["sip-htab"] = render(rl, hs, sep="\t")
    v["sip-two-spaces"] = render(rl, hs, sep="  ")
    v["sip-name-case"] = render(rl, [(n.swapcase(), x) for n, x in hs])
    v["sip-compact"] = render(rl, [(COMPACT.get(n, n), x) for n, x in hs])
    v["sip-order"] = render(rl, list(reversed(hs)))
    v["sip-colon-space"] = render(rl, hs, colon=" :   ")
    v["sip-lf-only"] = render(rl, hs, eol="\n")
    v["sip-leading-crlf"] = render(rl, hs, lead="\r\n\r\n")
    folded = [(n, x.replace(";tag=", "\r\n ;tag=")) if n == "From" else
              (n, x) for n, x in hs]
    v["sip-folded-from"] = render(rl, folded)
    pad = [("X-Padding", "p" * 5000)]
    v["sip-padding-5k"] = render(rl, hs[:1] + pad + hs[1:])
    v["sip-padding-before-via"] = render(rl, pad + hs)
    many = [("X-Pad-%d" % k, "q" * 60) for k in range(80)]
    v["sip-80-headers-first"] = render(rl, many + hs)
    v["junk-hello"] = "hello\r\n"
    v["junk-mgcp"] = "200 7c OK\r\nI: 7c\r\n\r\n"
    v["junk-http"] = "GET / HTTP/1.1\r\nHost: %s\r\n\r\n" % DOMAIN
    v["junk-no-version"] = "INVITE sip:" + ":" * 3000 + "\r\n\r\n"
    v["junk-binary"] = "\x80\x81\x82\x00\x01\x02" * 20
    v["junk-rtp-like"] = "\x80\x00\x12\x34" + "\x00" * 160
    return v


def main(argv):
    if len(argv) == 2 and argv[1] == "list":
        for name in variants("0.0.0.0", "u", "m"):
            print(name)
        return 0
    if len(argv) != 7 or argv[1] != "send":
        sys.stderr.write(__doc__)
        return 2
    name, src, dst, user, mark = argv[2:]
    v = variants(src, user, mark)
    if name not in v:
        sys.stderr.write("no variant %s\n" % name)
        return 2
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((src, 5070))
    s.sendto(v[name].encode("latin-1"), (dst, 5060))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
